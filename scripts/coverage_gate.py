"""CI's coverage gate: every line of the API layer (`*/api.py`, `*/serializers.py`) is executed
by the test suite at least once.

    .venv/bin/python scripts/coverage_gate.py [coverage.json]

Reads coverage.py's JSON report (`pytest --cov --cov-report=json:coverage.json`; without an
argument, the `.coverage` data file of the last `--cov` run is read and reported to JSON here),
prints the branch coverage of those files, lists every line never executed (file:line and the
line's text) and exits 1 if there is any. Lines coverage.py excludes (`# pragma: no cover`, see
[tool.coverage.report] in pyproject.toml) do not count. Missing branches are listed for
information only.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import tempfile
from pathlib import Path

GATED = ("*/api.py", "*/serializers.py")
ROOT = Path(__file__).resolve().parent.parent


def load_report(argument: str | None) -> dict:
    if argument:
        return json.loads(Path(argument).read_text())
    import coverage

    cov = coverage.Coverage(
        data_file=str(ROOT / ".coverage"), config_file=str(ROOT / "pyproject.toml")
    )
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(target), ignore_errors=True)
        return json.loads(target.read_text())


def gated(path: str) -> bool:
    normalised = "/" + path.replace("\\", "/").lstrip("/")
    return any(fnmatch.fnmatch(normalised, pattern) for pattern in GATED)


def source_line(path: str, number: int) -> str:
    try:
        return (ROOT / path).read_text().splitlines()[number - 1].strip()
    except (OSError, IndexError):
        return ""


def main(argv: list[str]) -> int:
    report = load_report(argv[1] if len(argv) > 1 else None)
    files = {path: data for path, data in report.get("files", {}).items() if gated(path)}
    if not files:
        print("coverage gate: no api.py or serializers.py in the coverage data (wrong run?)")
        return 1
    totals = report.get("totals", {})
    print(
        f"coverage (all measured code): {totals.get('percent_covered_display', '?')} % "
        f"(lines and branches), {totals.get('covered_branches', 0)}/"
        f"{totals.get('num_branches', 0)} branches"
    )
    never_run = 0
    partial = 0
    for path in sorted(files):
        summary = files[path]["summary"]
        missing = files[path].get("missing_lines", [])
        branches = files[path].get("missing_branches", [])
        print(
            f"  {path}: {summary.get('percent_covered_display', '?')} %, "
            f"{summary.get('covered_branches', 0)}/{summary.get('num_branches', 0)} branches, "
            f"{len(missing)} line(s) never executed"
        )
        for number in missing:
            print(f"    {path}:{number}: {source_line(path, number)}")
        never_run += len(missing)
        partial += len(branches)
    print(
        f"coverage gate: {never_run} line(s) of api.py / serializers.py never executed, "
        f"{partial} branch(es) never taken (informational), over {len(files)} files"
    )
    return 1 if never_run else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
