"""Verdicts keep their history: `VerdictRecord`, append-only, one per verdict given.

The verdicts given before this migration survive only as the current `Verdict` row of each
requirement (earlier ones were overwritten): each row becomes one record, with its author, the
revision it judged and, for the instant, its last update.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def backfill_verdict_records(apps, schema_editor):
    """One record per `Verdict` row of a (dossier, requirement) that has none yet, so that
    running it again adds nothing."""
    Verdict = apps.get_model("referencing", "Verdict")
    VerdictRecord = apps.get_model("referencing", "VerdictRecord")
    recorded = set(VerdictRecord.objects.values_list("dossier_id", "requirement_id").distinct())
    records = [
        VerdictRecord(
            dossier_id=verdict.dossier_id,
            requirement_id=verdict.requirement_id,
            revision=verdict.revision,
            verdict=verdict.verdict,
            comment=verdict.comment,
            given_by_id=verdict.reviewer_id,
            given_at=verdict.updated_at,
        )
        for verdict in Verdict.objects.order_by("updated_at", "id").iterator(chunk_size=2000)
        if (verdict.dossier_id, verdict.requirement_id) not in recorded
    ]
    VerdictRecord.objects.bulk_create(records, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("referencing", "0003_catalogue_index"),
        ("sons", "0003_codes_validated"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="VerdictRecord",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="créé le"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="modifié le")),
                ("revision", models.PositiveIntegerField(verbose_name="révision examinée")),
                (
                    "verdict",
                    models.CharField(
                        choices=[("compliant", "Conforme"), ("non_compliant", "Non conforme")],
                        max_length=20,
                        verbose_name="avis",
                    ),
                ),
                ("comment", models.TextField(blank=True, default="", verbose_name="commentaire")),
                ("given_at", models.DateTimeField(verbose_name="donné le")),
                (
                    "dossier",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="verdict_records",
                        to="referencing.dossier",
                    ),
                ),
                (
                    "given_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="donné par",
                    ),
                ),
                (
                    "requirement",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="sons.requirement",
                    ),
                ),
            ],
            options={
                "verbose_name": "avis donné (historique)",
                "verbose_name_plural": "avis donnés (historique)",
                "ordering": ["given_at", "created_at"],
                "indexes": [
                    models.Index(fields=["dossier", "given_by"], name="verdict_record_author_idx")
                ],
            },
        ),
        migrations.RunPython(backfill_verdict_records, migrations.RunPython.noop, elidable=False),
    ]
