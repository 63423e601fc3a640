"""Eligibility for State payment, in set-based SQL (domain.md §5).

One SELECT computes, for every order it covers, the reason codes that forbid an advance and a
balance request (comma-separated; empty means eligible). The same SELECT serves the single-order
check (`order_reasons`), the payment-request guards and the nightly batch (`INSERT … SELECT …
ON CONFLICT DO UPDATE` per scheme and id range) — so they can never disagree. No order row is
loaded into Python. Works on PostgreSQL and SQLite (the embedded default)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from orders.models import PurchaseOrder

REASON_CODES = [
    "ORDER_NOT_SIGNED",
    "ORDER_LAPSED",
    "ORDER_SIGNED_AFTER_DEADLINE",
    "ORDER_SIGNED_TOO_EARLY",
    "SOLUTION_NOT_REFERENCED",
    "REFERENCING_SUSPENDED",
    "REFERENCING_REVOKED",
    "ESTABLISHMENT_NOT_ELIGIBLE",
    "AMOUNT_ABOVE_CAP",
    "DUPLICATE_ORDER",
    "RECOVERY_OPEN",
    "INSTALLATION_NOT_ACCEPTED",
    "INSTALLATION_AFTER_DEADLINE",
    "OPEN_RESERVATIONS",
    "ACCEPTANCE_REPORT_MISSING",
    "VENDOR_NOT_ENROLLED",
    "ADVANCE_NOT_PAID",
    "ALREADY_REQUESTED",
    "REQUEST_AFTER_DEADLINE",
]
REASON_LABELS = {
    "ORDER_NOT_SIGNED": "Bon de commande non signé",
    "ORDER_LAPSED": "Bon de commande caduc (installation non acceptée à la date limite)",
    "ORDER_SIGNED_AFTER_DEADLINE": "Bon de commande signé après la date limite",
    "ORDER_SIGNED_TOO_EARLY": "Signé trop tôt avant le dépôt complet du dossier (pré-référencement)",
    "SOLUTION_NOT_REFERENCED": "Logiciel non référencé",
    "REFERENCING_SUSPENDED": "Référencement suspendu",
    "REFERENCING_REVOKED": "Référencement retiré",
    "ESTABLISHMENT_NOT_ELIGIBLE": "Établissement hors de la base d'éligibilité",
    "AMOUNT_ABOVE_CAP": "Montant supérieur au plafond",
    "DUPLICATE_ORDER": "Autre bon de commande signé ou financé pour cet établissement et ce dispositif",
    "RECOVERY_OPEN": "Recouvrement en cours sur un bon de commande financé de cet établissement pour ce dispositif",
    "INSTALLATION_NOT_ACCEPTED": "Installation non acceptée",
    "INSTALLATION_AFTER_DEADLINE": "Installation acceptée après la date limite",
    "OPEN_RESERVATIONS": "Réserves non levées",
    "ACCEPTANCE_REPORT_MISSING": "Procès-verbal d'installation manquant",
    "VENDOR_NOT_ENROLLED": "Éditeur non enrôlé auprès de l'ASP (ou IBAN modifié depuis l'enrôlement)",
    "ADVANCE_NOT_PAID": "Avance demandée mais non payée",
    "ALREADY_REQUESTED": "Demande déjà déposée (ou solde déjà demandé pour tout le montant)",
    "REQUEST_AFTER_DEADLINE": "Demande après la date limite",
}
SIGNED_STATES = "('signed', 'installation_declared', 'reserved', 'installed', 'lapsed')"
NOT_SIGNED_STATES = "('draft', 'sent', 'declined', 'cancelled', 'void')"
LIVE_REQUESTS = "('submitted', 'approved', 'paid')"


def _plus_days(column: str, days_column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} + make_interval(days => {days_column}))"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {column}, '+' || {days_column} || ' days')"


def _reason(condition: str, code: str) -> str:
    return f"CASE WHEN {condition} THEN '{code},' ELSE '' END"


def select_sql(where: str) -> str:
    """The SELECT of (order_id, scheme_id, advance_reasons, balance_reasons, signed_at) for
    orders matching `where` (SQL over alias `o`). Parameters: `%(now)s` and whatever `where` uses.

    Shape (for speed; the reasons are the same): an inner query computes each condition once,
    as a boolean column — the order's payment requests in one probe (a bit mask), the duplicate
    probe only for orders not signed (a signed order cannot have a signed sibling: the partial
    unique index `order_one_funded_per_establishment_and_scheme` forbids it) — and the outer
    query spells the reasons of each kind from those columns. On PostgreSQL `OFFSET 0` keeps the
    planner from folding the inner query back into the outer one (which would evaluate the
    shared conditions once per kind again)."""
    too_early_limit = _plus_days("o.signed_at", "s.pre_referencing_days")
    conditions = {
        "ORDER_NOT_SIGNED": f"o.state IN {NOT_SIGNED_STATES}",
        "ORDER_LAPSED": "o.state = 'lapsed'",
        "ORDER_SIGNED_AFTER_DEADLINE": "o.signed_at > s.order_deadline",
        "ORDER_SIGNED_TOO_EARLY": (
            "o.pre_referencing_dossier_id IS NOT NULL AND ("
            f"(d.complete_deposit_at IS NULL AND {too_early_limit} < %(now)s)"
            f" OR d.complete_deposit_at > {too_early_limit})"
        ),
        "SOLUTION_NOT_REFERENCED": "r.id IS NULL",
        "REFERENCING_SUSPENDED": "r.state = 'suspended'",
        "REFERENCING_REVOKED": "r.state = 'revoked'",
        "ESTABLISHMENT_NOT_ELIGIBLE": "s.uses_eligible_base AND eb.id IS NULL",
        "AMOUNT_ABOVE_CAP": "o.amount > COALESCE(eb.max_amount, s.price_cap)",
        # another order of that establishment for that scheme is signed (or later) and came
        # first: this one can never be funded (the database forbids two signed ones, so a
        # signed order never has one and only the others are looked up)
        "DUPLICATE_ORDER": (
            f"CASE WHEN o.state IN {SIGNED_STATES} THEN {_FALSE} ELSE EXISTS ("
            "SELECT 1 FROM orders_purchaseorder o2 WHERE o2.establishment_id = o.establishment_id"
            f" AND o2.scheme_id = o.scheme_id AND o2.id <> o.id AND o2.state IN {SIGNED_STATES}"
            f" AND (o.state NOT IN {SIGNED_STATES} OR o2.signed_at < o.signed_at"
            " OR (o2.signed_at = o.signed_at AND o2.id < o.id))) END"
            # or an earlier order of theirs was paid, cancelled, and its recovery written off:
            # that establishment was funded for that scheme once and for all
            f" OR {_recovery_probe('written_off')}"
        ),
        # an earlier order of theirs was paid then cancelled: funded again only once recovered
        "RECOVERY_OPEN": _recovery_probe("open"),
        "INSTALLATION_NOT_ACCEPTED": "o.state <> 'installed'",
        "INSTALLATION_AFTER_DEADLINE": "o.accepted_at > s.installation_deadline",
        "OPEN_RESERVATIONS": (
            "EXISTS (SELECT 1 FROM orders_reservation rs WHERE rs.order_id = o.id"
            " AND rs.lifted_at IS NULL)"
        ),
        "ACCEPTANCE_REPORT_MISSING": "o.acceptance_report_id IS NULL",
        # enrolled, and with the IBAN verified then (a new IBAN clears the enrolment anyway)
        "VENDOR_NOT_ENROLLED": "(v.enrolled_at IS NULL OR v.enrolled_iban <> v.iban)",
        # live requests of the order, one probe: 1 advance, 2 advance not paid yet, 4 balance
        "ADVANCE_NOT_PAID": "(pr_flags & 2) <> 0",
        # an advance, or a balance (which then covers the whole amount: no advance after it)
        "ALREADY_REQUESTED_ADVANCE": "(pr_flags & 5) <> 0",
        "ALREADY_REQUESTED_BALANCE": "(pr_flags & 4) <> 0",
        # (in the outer query: the inner one passes the scheme's deadlines through)
        "REQUEST_AFTER_DEADLINE_ADVANCE": "%(now)s > order_deadline",
        "REQUEST_AFTER_DEADLINE_BALANCE": "%(now)s > payment_deadline",
    }
    common = [
        "ORDER_NOT_SIGNED",
        "ORDER_LAPSED",
        "ORDER_SIGNED_AFTER_DEADLINE",
        "ORDER_SIGNED_TOO_EARLY",
        "SOLUTION_NOT_REFERENCED",
        "REFERENCING_SUSPENDED",
        "REFERENCING_REVOKED",
        "ESTABLISHMENT_NOT_ELIGIBLE",
        "AMOUNT_ABOVE_CAP",
        "DUPLICATE_ORDER",
        "RECOVERY_OPEN",
    ]
    advance = [
        *common,
        "VENDOR_NOT_ENROLLED",
        "ALREADY_REQUESTED_ADVANCE",
        "REQUEST_AFTER_DEADLINE_ADVANCE",
    ]
    balance = [
        *common,
        "INSTALLATION_NOT_ACCEPTED",
        "INSTALLATION_AFTER_DEADLINE",
        "OPEN_RESERVATIONS",
        "ACCEPTANCE_REPORT_MISSING",
        "VENDOR_NOT_ENROLLED",
        "ADVANCE_NOT_PAID",
        "ALREADY_REQUESTED_BALANCE",
        "REQUEST_AFTER_DEADLINE_BALANCE",
    ]
    pr_flags = (
        "(SELECT COALESCE(MAX(CASE WHEN pr.kind = 'advance' THEN 1 ELSE 0 END), 0)"
        " + COALESCE(MAX(CASE WHEN pr.kind = 'advance' AND pr.state IN ('submitted', 'approved')"
        " THEN 2 ELSE 0 END), 0)"
        " + COALESCE(MAX(CASE WHEN pr.kind = 'balance' THEN 4 ELSE 0 END), 0)"
        f" FROM payments_paymentrequest pr WHERE pr.order_id = o.id AND pr.state IN {LIVE_REQUESTS})"
    )
    flags = [key for key in conditions if not key.startswith(("ADVANCE_NOT", "ALREADY", "REQUEST"))]
    columns = ",\n".join(f"({conditions[key]}) AS c_{key.lower()}" for key in flags)

    def spelled(keys: list[str]) -> str:
        """The comma-separated codes of the conditions that hold, in the order of `keys`."""
        parts = []
        for key in keys:
            code = key.removesuffix("_ADVANCE").removesuffix("_BALANCE")
            condition = conditions[key] if key not in flags else f"c_{key.lower()}"
            parts.append(_reason(condition, code))
        return "rtrim(" + " || ".join(parts) + ", ',')"

    # the establishment is only needed for its identifier in the eligible base: looked up per
    # order (an index probe) rather than joined (a hash of the whole table per statement)
    identifier = (
        "(SELECT CASE WHEN e.finess <> '' THEN e.finess ELSE e.rpps END"
        " FROM orders_establishment e WHERE e.id = o.establishment_id)"
    )
    fence = "OFFSET 0" if connection.vendor == "postgresql" else ""
    return f"""
        SELECT order_id, scheme_id,
               {spelled(advance)} AS advance_reasons,
               {spelled(balance)} AS balance_reasons,
               signed_at
        FROM (
            SELECT o.id AS order_id, o.scheme_id AS scheme_id, o.signed_at,
                   s.order_deadline, s.payment_deadline,
                   {columns},
                   {pr_flags} AS pr_flags
            FROM orders_purchaseorder o
            JOIN sons_scheme s ON s.id = o.scheme_id
            JOIN vendors_vendor v ON v.id = o.vendor_id
            LEFT JOIN referencing_referencing r
                   ON r.scheme_id = o.scheme_id AND r.solution_version_id = o.solution_version_id
            LEFT JOIN referencing_dossier d ON d.id = o.pre_referencing_dossier_id
            LEFT JOIN sons_eligibleestablishment eb
                   ON eb.scheme_id = o.scheme_id AND eb.establishment = {identifier}
            WHERE {where}
            {fence}
        ) f
    """


_FALSE = "(1 = 0)"


def _recovery_probe(state: str) -> str:
    """Another order of that establishment for that scheme has a recovery in `state` (a tiny
    table, probed by its (establishment, scheme, state) index)."""
    return (
        "EXISTS (SELECT 1 FROM payments_recovery rc WHERE rc.establishment_id = o.establishment_id"
        f" AND rc.scheme_id = o.scheme_id AND rc.state = '{state}'"
        " AND rc.purchase_order_id <> o.id)"
    )


def _db(value):
    return PurchaseOrder._meta.pk.get_db_prep_value(value, connection)


def _now_param(now: dt.datetime):
    return connection.ops.adapt_datetimefield_value(now)


@dataclass(frozen=True)
class Eligibility:
    advance: list[str]
    balance: list[str]

    def for_kind(self, kind: str) -> list[str]:
        return self.advance if kind == "advance" else self.balance


def _split(value: str | None) -> list[str]:
    return [code for code in (value or "").split(",") if code]


def order_reasons(order_id, now: dt.datetime | None = None) -> Eligibility:
    """The reasons of one order, now (the same SQL as the batch)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            select_sql("o.id = %(order)s"), {"now": _now_param(now), "order": _db(order_id)}
        )
        row = cursor.fetchone()
    if row is None:
        raise PurchaseOrder.DoesNotExist(order_id)
    return Eligibility(_split(row[2]), _split(row[3]))


def orders_reasons(order_ids, now: dt.datetime | None = None, chunk: int = 2000) -> dict:
    """{order id: Eligibility} for several orders, one statement per `chunk` orders (the same
    SQL as the batch and the single-order check)."""
    now = now or timezone.now()
    ids = list(order_ids)
    by_db_id = {_db(pk): pk for pk in ids}
    result = {}
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        placeholders = ", ".join(f"%(o{i})s" for i in range(len(part)))
        params = {f"o{i}": _db(pk) for i, pk in enumerate(part)}
        with connection.cursor() as cursor:
            cursor.execute(
                select_sql(f"o.id IN ({placeholders})"), {"now": _now_param(now), **params}
            )
            rows = cursor.fetchall()
        for row in rows:
            result[by_db_id.get(row[0], row[0])] = Eligibility(_split(row[2]), _split(row[3]))
    return result


#: a scheme with at least this many orders refreshes the results table's statistics after its run
ANALYZE_AFTER_ROWS = 50_000

#: id ranges the batch walks through, one statement each, to report progress on large schemes
CHUNK_BOUNDS = [f"{i:x}" for i in range(16)]


def _range_where(index: int) -> tuple[str, dict]:
    if connection.vendor == "postgresql":
        low = f"{CHUNK_BOUNDS[index]}0000000-0000-0000-0000-000000000000"
        high = (
            f"{CHUNK_BOUNDS[index + 1]}0000000-0000-0000-0000-000000000000" if index < 15 else None
        )
        if high is None:
            return "o.id >= %(low)s::uuid", {"low": low}
        return "o.id >= %(low)s::uuid AND o.id < %(high)s::uuid", {"low": low, "high": high}
    low = f"{CHUNK_BOUNDS[index]}".ljust(32, "0")
    if index == 15:
        return "o.id >= %(low)s", {"low": low}
    return "o.id >= %(low)s AND o.id < %(high)s", {
        "low": low,
        "high": f"{CHUNK_BOUNDS[index + 1]}".ljust(32, "0"),
    }


@dataclass
class BatchResult:
    scheme: str
    orders: int = 0
    eligible_advance: int = 0
    eligible_balance: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)


def run_scheme_batch(
    scheme,
    *,
    now: dt.datetime | None = None,
    triggered_by: str = "système",
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Compute and store the reasons of every order of `scheme`; idempotent."""
    from payments.models import EligibilityResult, EligibilityRun

    now = now or timezone.now()
    started = timezone.now()
    run = EligibilityRun.objects.create(
        scheme=scheme, started_at=started, triggered_by=triggered_by
    )
    table = EligibilityResult._meta.db_table
    for index in range(16):
        where, params = _range_where(index)
        sql = f"""
            INSERT INTO {table}
                (order_id, scheme_id, signed_at, advance_reasons, balance_reasons, checked_at)
            SELECT order_id, scheme_id, signed_at, advance_reasons, balance_reasons, %(checked)s
            FROM (
                {select_sql("o.scheme_id = %(scheme)s AND " + where)}
            ) computed
            WHERE true
            ON CONFLICT (order_id) DO UPDATE SET
                scheme_id = excluded.scheme_id,
                signed_at = excluded.signed_at,
                advance_reasons = excluded.advance_reasons,
                balance_reasons = excluded.balance_reasons,
                checked_at = excluded.checked_at
        """
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # short statements, run 16 times per scheme: compiling them (JIT) costs more
                # than it saves
                cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                sql,
                {
                    "now": _now_param(now),
                    "checked": _now_param(now),
                    "scheme": _db_scheme(scheme.pk),
                    **params,
                },
            )
        if progress:
            progress(index + 1, 16)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COUNT(*),
                       COALESCE(SUM(CASE WHEN advance_reasons = '' THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN balance_reasons = '' THEN 1 ELSE 0 END), 0)
                FROM {table} WHERE scheme_id = %s AND checked_at = %s""",
            [_db_scheme(scheme.pk), _now_param(now)],
        )
        count, advance_ok, balance_ok = cursor.fetchone()
    # results of orders that left the scheme (none today) would be stale: drop what this run did not see
    EligibilityResult.objects.filter(scheme=scheme).exclude(checked_at=now).delete()
    if connection.vendor == "postgresql" and count >= ANALYZE_AFTER_ROWS:
        # a big scheme rewrote much of the table: fresh planner statistics now, not when
        # autovacuum comes by (the payment queue's plans depend on them)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    finished = timezone.now()
    EligibilityRun.objects.filter(pk=run.pk).update(
        finished_at=finished, orders=count, eligible_advance=advance_ok, eligible_balance=balance_ok
    )
    return BatchResult(
        scheme.code, count, advance_ok, balance_ok, (finished - started).total_seconds()
    )


def vacuum_results(rewritten: int) -> bool:
    """After a run that rewrote many results (PostgreSQL, outside a transaction): VACUUM the
    table, so that the payment queue's counts are index-only scans at once (a rewritten row is
    not "all visible" until vacuumed) instead of reading the table — 80 → 15 ms for a count of
    663,665 results — whether or not autovacuum comes by soon. A quarter of a second to a second
    on a million rows."""
    from payments.models import EligibilityResult

    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or rewritten < ANALYZE_AFTER_ROWS
    ):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {EligibilityResult._meta.db_table}")
    return True


def _db_scheme(value):
    from sons.models import Scheme

    return Scheme._meta.pk.get_db_prep_value(value, connection)
