"""Sectors and categories of the programme exist right after `migrate`."""

import uuid

from django.db import migrations

SECTORS = [
    ("HOP", "Hôpital"),
    ("MDV", "Médecins de ville"),
    ("BIO", "Biologie médicale"),
    ("RAD", "Imagerie — radiologie"),
    ("OFF", "Officines de ville"),
    ("MSS", "Messagerie sécurisée de santé"),
]
CATEGORIES = [
    ("DPI", "Dossier patient informatisé", "HOP"),
    ("RI", "Référentiel d'identités", "HOP"),
    ("PFI", "Plateforme d'intermédiation", "HOP"),
    ("LGC", "Logiciel de gestion de cabinet", "MDV"),
    ("SIR", "Système d'information radiologique", "RAD"),
    ("SGL", "Système de gestion de laboratoire", "BIO"),
    ("LGO", "Logiciel de gestion d'officine", "OFF"),
    ("MSS", "Opérateur de messagerie sécurisée de santé", "MSS"),
]


def forwards(apps, schema_editor):
    Sector = apps.get_model("sons", "Sector")
    Category = apps.get_model("sons", "Category")
    sectors = {}
    for code, name in SECTORS:
        sectors[code], _ = Sector.objects.get_or_create(code=code, defaults={"id": uuid.uuid4(), "name": name})
    for code, name, sector in CATEGORIES:
        Category.objects.get_or_create(
            code=code, defaults={"id": uuid.uuid4(), "name": name, "sector": sectors[sector]}
        )


class Migration(migrations.Migration):
    dependencies = [("sons", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
