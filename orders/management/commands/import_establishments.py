from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from orders.importing import import_establishments


class Command(BaseCommand):
    help = "Import establishments from a CSV file (finess;rpps;name;kind;siret). Bad rows are reported."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"Fichier introuvable : {path}")

        def progress(done: int) -> None:
            self.stdout.write(f"… {done} ligne(s) valide(s) importée(s)")

        try:
            report = import_establishments(
                file.read_bytes(), actor="import_establishments", progress=progress
            )
        except ApplicationError as exc:  # the whole file refused (a control character)
            raise CommandError(str(exc.errors[0].detail)) from exc
        for error in report.errors:
            self.stdout.write(
                self.style.WARNING(f"ligne {error['line']} [{error['field']}] : {error['detail']}")
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} créé(s), {report.updated} mis à jour, "
                f"{len({e['line'] for e in report.errors})} ligne(s) rejetée(s)."
            )
        )
