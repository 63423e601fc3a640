from django.core.management.base import BaseCommand, CommandError

from core.sweeps import SWEEPS


class Command(BaseCommand):
    help = "Run the periodic sweeps now (all of them when no name is given)."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="sweeps to run; `--list` shows them")
        parser.add_argument("--list", action="store_true", help="list the sweeps and exit")

    def handle(self, *args, names, list=False, **options):
        if list:
            for name in sorted(SWEEPS):
                self.stdout.write(f"{name}: {(SWEEPS[name].__doc__ or '').strip().splitlines()[0]}")
            return
        unknown = sorted(set(names) - set(SWEEPS))
        if unknown:
            raise CommandError(
                f"Sweep(s) inconnu(s) : {', '.join(unknown)}. Connus : {', '.join(sorted(SWEEPS))}."
            )
        for name in names or sorted(SWEEPS):
            count = SWEEPS[name](None)
            self.stdout.write(f"{name}: {count}")
