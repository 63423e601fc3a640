"""Reads of the payments app: requests by visibility, the payment queue, the deployment report."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Role, User
from core.selectors import get_visible
from orders.models import OrderState, PurchaseOrder
from payments.models import EligibilityResult, PaymentKind, PaymentRequest, PaymentState
from sons.models import Scheme

PAYMENT_READERS = (Role.ANS_ADMIN, Role.PAYMENT_OFFICER)


def payment_request_list_for_user(user: User) -> QuerySet[PaymentRequest]:
    qs = PaymentRequest.objects.select_related(
        "order__scheme", "order__establishment", "order__vendor"
    )
    if user.has_role(*PAYMENT_READERS):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(order__vendor_id=user.vendor_id)
    return qs.none()


def payment_request_get_for_user(user: User, request_id) -> PaymentRequest:
    return get_visible(payment_request_list_for_user(user), request_id)


def payment_queue(
    *,
    scheme: str = "",
    kind: str = PaymentKind.BALANCE,
    eligible: bool | None = None,
    reason: str = "",
) -> QuerySet[EligibilityResult]:
    """Orders as of the last batch check: eligible ones, and the reasons of the others."""
    field = "balance_reasons" if kind == PaymentKind.BALANCE else "advance_reasons"
    qs = EligibilityResult.objects.select_related(
        "order__establishment",
        "order__vendor",
        "order__scheme",
        "order__solution_version__solution",
    ).order_by("order__signed_at", "order_id")
    if scheme:
        qs = qs.filter(scheme__code=scheme)
    if eligible is True:
        qs = qs.filter(**{field: ""})
    elif eligible is False:
        qs = qs.exclude(**{field: ""})
    if reason:
        qs = qs.filter(**{f"{field}__contains": reason})
    return qs


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
