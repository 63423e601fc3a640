"""The public API contract (v1), as a table: every path of its Resources, Actions, Additions
(December 2026) and Clarifications, with its method(s) — our own copy of the published contract;
nothing here reads anything outside the repository.

Each row is `(method, path)`, the path relative to `/api/v1/`, path parameters in braces (their
names do not matter: `{code}` matches the schema's `{scheme_code}`). The suite checks that every
row is in the OpenAPI schema and that each is called at least once successfully and at least once
refused (see `conftest.py` and `test_zz_coverage.py`)."""

from __future__ import annotations

import re

CONVENTIONS = [
    ("POST", "auth/token/"),
    ("GET", "schema/"),
    ("GET", "docs/"),
]

RESOURCES = [
    ("GET", "users/"),
    ("POST", "users/"),
    ("GET", "users/{id}/"),
    ("GET", "waves/"),
    ("POST", "waves/"),
    ("GET", "categories/"),
    ("GET", "schemes/"),
    ("POST", "schemes/"),
    ("GET", "schemes/{code}/"),
    ("GET", "schemes/{code}/eligible-establishments/"),
    ("POST", "schemes/{code}/eligible-establishments/"),
    ("GET", "schemes/{code}/requirements/"),
    ("POST", "schemes/{code}/requirements/"),
    ("GET", "vendors/"),
    ("POST", "vendors/"),
    ("GET", "vendors/{id}/"),
    ("PATCH", "vendors/{id}/"),
    ("GET", "solutions/"),
    ("POST", "solutions/"),
    ("GET", "solutions/{id}/versions/"),
    ("POST", "solutions/{id}/versions/"),
    ("GET", "evidence/"),
    ("POST", "evidence/"),
    ("GET", "dossiers/"),
    ("POST", "dossiers/"),
    ("GET", "dossiers/{id}/"),
    ("GET", "dossiers/{id}/statements/"),
    ("GET", "dossiers/{id}/statements/{requirement_code}/"),
    ("PUT", "dossiers/{id}/statements/{requirement_code}/"),
    ("PUT", "dossiers/{id}/verdicts/{requirement_code}/"),
    ("GET", "referencings/"),
    ("GET", "referencings/{id}/"),
    ("GET", "catalogue/"),
    ("GET", "establishments/"),
    ("POST", "establishments/"),
    ("GET", "purchase-orders/"),
    ("POST", "purchase-orders/"),
    ("GET", "purchase-orders/{id}/"),
    ("GET", "payment-requests/"),
    ("POST", "payment-requests/"),
    ("GET", "purchase-orders/{id}/eligibility/"),
    ("GET", "audit/"),
    ("GET", "stats/deployment/"),
]

ACTIONS = [
    ("POST", "dossiers/{id}/submit/"),
    ("POST", "dossiers/{id}/withdraw/"),
    ("POST", "dossiers/{id}/assign/"),
    ("POST", "dossiers/{id}/request-changes/"),
    ("POST", "dossiers/{id}/approve/"),
    ("POST", "dossiers/{id}/reject/"),
    ("POST", "referencings/{id}/suspend/"),
    ("POST", "referencings/{id}/reinstate/"),
    ("POST", "referencings/{id}/revoke/"),
    ("POST", "vendors/{id}/enrol/"),
    ("POST", "purchase-orders/{id}/send/"),
    ("POST", "purchase-orders/{id}/sign/"),
    ("POST", "purchase-orders/{id}/decline/"),
    ("POST", "purchase-orders/{id}/cancel/"),
    ("POST", "purchase-orders/{id}/declare-installation/"),
    ("POST", "purchase-orders/{id}/confirm-installation/"),
    ("POST", "purchase-orders/{id}/reserve/"),
    ("POST", "purchase-orders/{id}/lift-reservations/"),
    ("POST", "payment-requests/{id}/approve/"),
    ("POST", "payment-requests/{id}/reject/"),
    ("POST", "payment-requests/{id}/mark-paid/"),
]

ADDITIONS = [
    ("GET", "recoveries/"),
    ("POST", "recoveries/{id}/mark-recovered/"),
    ("POST", "recoveries/{id}/write-off/"),
    ("GET", "surveillance/reports/"),
    ("POST", "surveillance/reports/"),
    ("POST", "surveillance/reports/{id}/dismiss/"),
    ("GET", "nonconformities/"),
    ("POST", "nonconformities/"),
    ("POST", "nonconformities/{id}/submit-cap/"),
    ("POST", "nonconformities/{id}/approve-cap/"),
    ("POST", "nonconformities/{id}/reject-cap/"),
    ("POST", "nonconformities/{id}/resolve/"),
    ("POST", "nonconformities/{id}/escalate/"),
    ("GET", "surveillance/register/"),
    ("GET", "usage/"),
    ("GET", "stats/usage/"),
    ("GET", "schemes/{code}/prestations/"),
    ("POST", "schemes/{code}/prestations/"),
    ("POST", "schemes/{code}/simulate/"),
    ("GET", "open-data/"),
]

CLARIFICATIONS = [
    ("GET", "schemes/{code}/requirement-sets/"),
    ("POST", "schemes/{code}/requirement-sets/publish/"),
    ("GET", "payment-batches/"),
    ("POST", "payment-batches/"),
    ("GET", "payment-batches/{id}/export.csv"),
    ("GET", "payment-batches/{id}/export.xml"),
]

ROWS = CONVENTIONS + RESOURCES + ACTIONS + ADDITIONS + CLARIFICATIONS

# Additions not built yet (issue #14): named here, one by one. The coverage test fails when one of
# them appears in the schema without a test, and when one of them is listed here but covered.
PENDING = {
    ("GET", "surveillance/reports/"),
    ("POST", "surveillance/reports/"),
    ("POST", "surveillance/reports/{id}/dismiss/"),
    ("GET", "nonconformities/"),
    ("POST", "nonconformities/"),
    ("POST", "nonconformities/{id}/submit-cap/"),
    ("POST", "nonconformities/{id}/approve-cap/"),
    ("POST", "nonconformities/{id}/reject-cap/"),
    ("POST", "nonconformities/{id}/resolve/"),
    ("POST", "nonconformities/{id}/escalate/"),
    ("GET", "surveillance/register/"),
    ("GET", "usage/"),
    ("GET", "stats/usage/"),
    ("GET", "schemes/{code}/prestations/"),
    ("POST", "schemes/{code}/prestations/"),
    ("POST", "schemes/{code}/simulate/"),
    ("GET", "open-data/"),
}

# Reason codes of the programme (domain.md §5 and the December 2026 additions).
REASON_CODES = {
    "ORDER_NOT_SIGNED",
    "ORDER_SIGNED_AFTER_DEADLINE",
    "ORDER_SIGNED_TOO_EARLY",
    "SOLUTION_NOT_REFERENCED",
    "REFERENCING_SUSPENDED",
    "REFERENCING_REVOKED",
    "ESTABLISHMENT_NOT_ELIGIBLE",
    "AMOUNT_ABOVE_CAP",
    "DUPLICATE_ORDER",
    "INSTALLATION_NOT_ACCEPTED",
    "INSTALLATION_AFTER_DEADLINE",
    "OPEN_RESERVATIONS",
    "ACCEPTANCE_REPORT_MISSING",
    "VENDOR_NOT_ENROLLED",
    "ADVANCE_NOT_PAID",
    "ALREADY_REQUESTED",
    "REQUEST_AFTER_DEADLINE",
    "PRESTATION_NOT_ALLOWED",
    "SCHEME_NOT_FUNDED",
    "RECOVERY_OPEN",
}


def normalise(path: str) -> str:
    """A path template with its parameters unnamed: `schemes/{}/requirements/`."""
    path = path.removeprefix("/api/v1/")
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/") + "/"


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(body.rstrip("/") + "/?")


PATTERNS = [(method, template, _pattern(template)) for method, template in ROWS]


def row_for(method: str, path: str) -> tuple[str, str] | None:
    """The contract row a concrete call (`GET`, `dossiers/<uuid>/statements/X.1/`) belongs to."""
    path = path.split("?", 1)[0].removeprefix("/api/v1/")
    matches = [
        (m, t) for m, t, pattern in PATTERNS if m == method.upper() and pattern.fullmatch(path)
    ]
    if not matches:
        return None
    # The most literal template wins (`schemes/{code}/requirement-sets/` over `schemes/{code}/`).
    return max(matches, key=lambda row: len(re.sub(r"\{[^}]+\}", "", row[1])))
