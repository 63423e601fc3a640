import time

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from payments.services import eligibility_check_schemes


class Command(BaseCommand):
    help = "Compute every order's eligibility reasons (set-based SQL), per scheme; idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scheme", action="append", dest="schemes", default=[], help="scheme code (repeatable)"
        )

    def handle(self, *args, schemes, **options):
        started = time.monotonic()
        verbosity = options["verbosity"]

        def progress(code, done, total):
            if verbosity > 1:
                self.stdout.write(f"{code} : {done}/{total} tranches")

        try:
            results = eligibility_check_schemes(
                scheme_codes=schemes or None, triggered_by="check_eligibility", progress=progress
            )
        except ApplicationError as exc:
            raise CommandError(exc.errors[0].detail) from exc
        for r in results if verbosity else []:
            self.stdout.write(
                f"{r.scheme} : {r.orders} commande(s), avance éligible {r.eligible_advance}, "
                f"solde éligible {r.eligible_balance} ({r.seconds:.2f} s)"
            )
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Terminé en {time.monotonic() - started:.2f} s."))
