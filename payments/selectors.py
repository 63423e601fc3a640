"""Reads of the payments app: requests by visibility, the payment queue, the deployment report."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from accounts.models import Role, User
from core.selectors import get_visible
from orders.models import OrderState, PurchaseOrder
from payments.models import (
    EligibilityResult,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    Recovery,
)
from sons.models import Scheme
from vendors.models import SolutionVersion

PAYMENT_READERS = (Role.ANS_ADMIN, Role.PAYMENT_OFFICER)


def payment_request_list_for_user(user: User) -> QuerySet[PaymentRequest]:
    qs = PaymentRequest.objects.select_related(
        "order__scheme", "order__establishment", "order__vendor", "batch"
    )
    if user.has_role(*PAYMENT_READERS):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(order__vendor_id=user.vendor_id)
    return qs.none()


def payment_request_get_for_user(user: User, request_id) -> PaymentRequest:
    return get_visible(payment_request_list_for_user(user), request_id)


#: who reads recoveries: ANS, the paying agency, and the vendor concerned
RECOVERY_READERS = (Role.ANS_ADMIN, Role.REVIEWER, Role.PAYMENT_OFFICER)


def recovery_list_for_user(user: User) -> QuerySet[Recovery]:
    qs = Recovery.objects.select_related("purchase_order", "vendor", "establishment", "scheme")
    if user.has_role(*RECOVERY_READERS):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(vendor_id=user.vendor_id)
    return qs.none()


def recovery_get_for_user(user: User, recovery_id) -> Recovery:
    return get_visible(recovery_list_for_user(user), recovery_id)


def payment_queue(
    *,
    scheme: str = "",
    kind: str = PaymentKind.BALANCE,
    eligible: bool | None = None,
    reason: str = "",
) -> QuerySet[EligibilityResult]:
    """Orders as of the last batch check: eligible ones, and the reasons of the others; by
    scheme, then in signing order. Every filter is served by an index of the results table
    (models.EligibilityResult.Meta.indexes), also on a million orders (docs/benchmarks.md)."""
    field = "balance_reasons" if kind == PaymentKind.BALANCE else "advance_reasons"
    qs = (
        EligibilityResult.objects.select_related(
            "order__establishment", "order__vendor", "order__scheme"
        )
        # one query more rather than two joins more (planning time: see orders.selectors)
        .prefetch_related(
            Prefetch(
                "order__solution_version",
                queryset=SolutionVersion.objects.select_related("solution"),
            )
        )
        .order_by("scheme_id", "signed_at", "order_id")
    )
    scheme_id = None
    if scheme:
        scheme_id = Scheme.objects.filter(code=scheme).values_list("pk", flat=True).first()
        if scheme_id is None:
            return qs.none()
        qs = qs.filter(scheme_id=scheme_id)
    if eligible is True:
        qs = qs.filter(**{field: ""})
    elif eligible is False:
        qs = qs.exclude(**{field: ""})
    if reason:
        # the few distinct lists of reasons that name this code, then index lookups of those
        # (a LIKE '%CODE%' would read every result); a list that names the code matches in any
        # scheme, so one IN of schemes and one IN of lists say it exactly, and let a count be
        # an index-only scan
        scheme_ids, lists = _reason_lists(field, reason, scheme_id)
        if not lists:
            return qs.none()
        qs = qs.filter(scheme_id__in=scheme_ids, **{f"{field}__in": lists})
    if (reason or eligible is not None) and _estimated_rows(qs) <= SORT_BELOW_ROWS:
        # Few matches: read them by the reasons index and sort them. The planner would rather
        # walk the signing-order index until a page is full, assuming the matches are spread
        # evenly — they are not (unsigned orders, whose signed_at is NULL, come last): 250 ms
        # instead of 10 for one DUPLICATE_ORDER page. The same order, spelled with expressions
        # that no index provides, leaves the planner only the bitmap read and a sort.
        qs = qs.order_by(
            Coalesce("scheme_id", "scheme_id"),
            F("signed_at") + Value(dt.timedelta(0)),
            "order_id",
        )
    return qs


#: below this estimate of matching results, the payment queue sorts them (see payment_queue)
SORT_BELOW_ROWS = 50_000


def _estimated_rows(qs: QuerySet) -> float:
    """PostgreSQL's estimate of the rows `qs` matches (planning only, no execution); infinite
    elsewhere."""
    if connection.vendor != "postgresql":
        return float("inf")
    plan = json.loads(qs.order_by().values("pk").explain(format="json"))
    return plan[0]["Plan"]["Plan Rows"]


def _reason_lists(field: str, code: str, scheme_id=None) -> tuple[list, list[str]]:
    """The schemes whose results list `code` in `field`, and the distinct values of `field`
    that do. On PostgreSQL a loose index scan of (scheme, reasons): one index probe per
    distinct pair, not a read of every row."""
    table = connection.ops.quote_name(EligibilityResult._meta.db_table)
    column = connection.ops.quote_name(field)
    where, params = "", []
    if scheme_id is not None:
        where = "WHERE scheme_id = %s"
        params = [Scheme._meta.pk.get_db_prep_value(scheme_id, connection)]
    if connection.vendor == "postgresql":
        after = "AND" if where else "WHERE"
        sql = f"""
            WITH RECURSIVE pairs (scheme_id, reasons) AS (
                (SELECT scheme_id, {column} FROM {table} {where}
                 ORDER BY scheme_id, {column} LIMIT 1)
                UNION ALL
                SELECT following.scheme_id, following.reasons FROM pairs, LATERAL (
                    SELECT scheme_id, {column} AS reasons FROM {table} {where}
                    {after} (scheme_id, {column}) > (pairs.scheme_id, pairs.reasons)
                    ORDER BY scheme_id, {column} LIMIT 1
                ) following
            )
            SELECT scheme_id, reasons FROM pairs"""  # noqa: S608 (names quoted, values bound)
        params = params * 2
    else:
        sql = f"SELECT DISTINCT scheme_id, {column} FROM {table} {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs = cursor.fetchall()
    matching = [(scheme_pk, reasons) for scheme_pk, reasons in pairs if code in reasons.split(",")]
    return (
        sorted({scheme_pk for scheme_pk, _ in matching}, key=str),
        sorted({reasons for _, reasons in matching}),
    )


def deployment_rows() -> list[dict]:
    """The official wave-1 report, per scheme: ordered, installed, rate, with/without balance."""
    balance = PaymentRequest.objects.filter(
        order=OuterRef("pk"),
        kind=PaymentKind.BALANCE,
        state__in=[PaymentState.SUBMITTED, PaymentState.APPROVED, PaymentState.PAID],
    )
    ordered_states = [
        OrderState.SIGNED,
        OrderState.INSTALLATION_DECLARED,
        OrderState.RESERVED,
        OrderState.INSTALLED,
        OrderState.LAPSED,
    ]
    counts = (
        PurchaseOrder.objects.filter(state__in=ordered_states)
        .annotate(has_balance=Exists(balance))
        .values("scheme_id")
        .annotate(
            ordered=Count("id"),
            installed=Count("id", filter=Q(state=OrderState.INSTALLED)),
            with_balance=Count("id", filter=Q(state=OrderState.INSTALLED, has_balance=True)),
        )
    )
    by_scheme = {row["scheme_id"]: row for row in counts}
    rows = []
    for scheme in Scheme.objects.select_related("category", "sector", "wave").order_by("code"):
        row = by_scheme.get(scheme.pk, {"ordered": 0, "installed": 0, "with_balance": 0})
        rows.append(
            _row(
                scheme.code,
                scheme.category.code,
                scheme.sector.code,
                scheme.wave.code,
                row["ordered"],
                row["installed"],
                row["with_balance"],
            )
        )
    return rows


def _row(scheme, category, sector, wave, ordered, installed, with_balance) -> dict:
    return {
        "scheme": scheme,
        "category": category,
        "sector": sector,
        "wave": wave,
        "ordered": ordered,
        "installed": installed,
        "installation_rate": round(installed / ordered, 4) if ordered else None,
        "with_balance_request": with_balance,
        "without_balance_request": installed - with_balance,
        "not_installed": ordered - installed,
    }


def roll_up(rows: list[dict], key: str) -> list[dict]:
    """Totals per `category` or `sector` (and wave)."""
    totals: dict = {}
    for row in rows:
        group = (row[key], row["wave"])
        acc = totals.setdefault(group, [0, 0, 0])
        acc[0] += row["ordered"]
        acc[1] += row["installed"]
        acc[2] += row["with_balance_request"]
    result = []
    for (value, wave), (ordered, installed, with_balance) in sorted(totals.items()):
        row = _row(None, None, None, wave, ordered, installed, with_balance)
        row.pop("scheme"), row.pop("category"), row.pop("sector")
        result.append({key: value, **row})
    return result
