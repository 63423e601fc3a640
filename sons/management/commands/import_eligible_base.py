"""Import a CSV file into a scheme's eligible base (the same import as
`POST /api/v1/schemes/{code}/eligible-establishments/upload/`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from sons import selectors, services

ACTOR = "import_eligible_base"


class Command(BaseCommand):
    help = (
        "Importe un fichier CSV (colonnes establishment, max_amount[, name] ; séparateur « ; » "
        "ou « , » ; UTF-8) dans la base des établissements éligibles d'un dispositif."
    )

    def add_arguments(self, parser):
        parser.add_argument("scheme_code", help="Code du dispositif, ex. HOP-DPI-VA2")
        parser.add_argument("path", help="Chemin du fichier CSV")

    def handle(self, *args, scheme_code: str, path: str, **options):
        try:
            scheme = selectors.scheme_get(scheme_code)
        except ApplicationError as exc:
            raise CommandError(f"Dispositif inconnu : {scheme_code}") from exc
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Lecture impossible de {path} : {exc.strerror}") from exc
        try:
            report = services.eligible_base_import(
                actor=ACTOR, scheme=scheme, data=data, source=Path(path).name
            )
        except ApplicationError as exc:
            raise CommandError("; ".join(e.detail for e in exc.errors)) from exc
        for error in report.errors:
            self.stderr.write(f"ligne {error.line} : {error.detail} ({error.code})")
        self.stdout.write(
            self.style.SUCCESS(
                f"{scheme.code} : {report.created} créé(s), {report.updated} mis à jour, "
                f"{report.unchanged} inchangé(s), {report.rejected} ligne(s) refusée(s)."
            )
        )
