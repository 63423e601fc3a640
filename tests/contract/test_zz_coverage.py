"""The contract and the service agree: every path of the contract is in the published schema,
and the suite called each of them at least once successfully and once refused.

Runs last in the package (file name), over what the other tests recorded; skipped when only part
of the suite was selected."""

from pathlib import Path

import pytest

from tests.contract.conftest import (
    CONTRACT_FAILURES,
    CONTRACT_NODES,
    COVERAGE,
    published_schema,
)
from tests.contract.contract import PENDING, ROWS, normalise

# Public, read-only, nothing to refuse: no 4xx is documented for them.
NOTHING_TO_REFUSE = {("GET", "docs/"), ("GET", "schema/")}
# The schema and its docs are not operations of the schema.
NOT_IN_SCHEMA = {("GET", "schema/"), ("GET", "docs/")}


def schema_operations(anonymous) -> set[tuple[str, str]]:
    schema = published_schema(anonymous)
    return {
        (method.upper(), normalise(path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_contract_path_is_in_the_schema(anonymous):
    operations = schema_operations(anonymous)
    missing = [
        f"{m} {p}"
        for m, p in ROWS
        if (m, p) not in PENDING | NOT_IN_SCHEMA and (m, normalise(p)) not in operations
    ]
    assert not missing, f"in the contract, not in the schema: {missing}"


def test_pending_rows_are_not_built_yet(anonymous):
    """A pending row (issue #14) that appears in the schema must leave PENDING and get its
    tests."""
    operations = schema_operations(anonymous)
    built = sorted(f"{m} {p}" for m, p in PENDING if (m, normalise(p)) in operations)
    assert not built, f"built now: move them out of PENDING and test them: {built}"
    assert set(ROWS) >= PENDING


def _whole_suite_selected(request) -> bool:
    files = {path.name for path in Path(__file__).parent.glob("test_*.py")}
    selected = {Path(str(item.path)).name for item in request.session.items}
    filtered = request.config.getoption("keyword") or request.config.getoption("markexpr")
    return (
        files <= selected
        and not filtered
        and {item.nodeid for item in request.session.items} >= CONTRACT_NODES
    )


def test_every_row_called_successfully_and_refused(request):
    if not _whole_suite_selected(request) or CONTRACT_FAILURES:
        pytest.skip("the whole contract suite must run (and pass) to measure its coverage")
    uncovered = []
    for row in ROWS:
        if row in PENDING:
            assert not COVERAGE[row]["ok"], f"{row} is pending but answered 2xx"
            continue
        if not COVERAGE[row]["ok"]:
            uncovered.append(f"{row[0]} {row[1]}: no successful call")
        if not COVERAGE[row]["refused"] and row not in NOTHING_TO_REFUSE:
            uncovered.append(f"{row[0]} {row[1]}: no refused call")
    assert not uncovered, "\n".join(uncovered)
