from django.core.management.base import BaseCommand, CommandError

from core.sweeps import SWEEPS, failure_summary, run_sweep


class Command(BaseCommand):
    help = (
        "Run the periodic sweeps now (all of them when no name is given); each run is recorded. "
        "Exits non-zero after all have run if any object (or sweep) failed, naming them."
    )

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
        runs = []
        for name in names or sorted(SWEEPS):  # every sweep runs, whatever the others did
            run = run_sweep(name)
            runs.append(run)
            line = f"{name}: {run.moved}"
            if run.failed_ids:
                line += f" ({run.failed} échec(s) : {', '.join(run.failed_ids)})"
            elif run.error:
                line += " (en échec)"
            self.stdout.write(line)
        summary = failure_summary(runs)
        if summary:
            raise CommandError(f"Balayages en échec : {summary}.")
