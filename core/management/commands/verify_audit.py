from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and name the first broken link."

    def handle(self, *args, **options):
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"Chaîne d'audit rompue à l'entrée n°{result.broken_seq} ({result.broken_id}) : "
                f"{result.problem}. {result.checked} entrée(s) vérifiée(s) avant elle."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Chaîne d'audit intègre : {result.checked} entrée(s).")
        )
