"""Display helpers of the portal: amounts, Paris dates, state badges, reason labels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils.html import format_html

from core.timeutils import to_paris
from payments.eligibility import REASON_LABELS

register = template.Library()
NBSP = "\u00a0"
NARROW_NBSP = "\u202f"

# state → DSFR badge type (success, error, info, warning, new) — colour never the only cue: the
# badge always carries its label
BADGES = {
    # dossiers
    "draft": "new",
    "submitted": "info",
    "in_review": "info",
    "changes_requested": "warning",
    "approved": "success",
    "rejected": "error",
    "withdrawn": "",
    "abandoned": "",
    # referencings
    "active": "success",
    "suspended": "warning",
    "revoked": "error",
    "expired": "",
    # orders
    "sent": "info",
    "signed": "info",
    "installation_declared": "new",
    "reserved": "warning",
    "installed": "success",
    "declined": "error",
    "cancelled": "",
    "lapsed": "error",
    "void": "",
    # payment requests
    "paid": "success",
    # recoveries
    "open": "warning",
    "recovered": "success",
    "written_off": "error",
    # verdicts
    "compliant": "success",
    "non_compliant": "error",
}


@register.simple_tag
def state_badge(obj, field: str = "state"):
    value = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display")()
    kind = BADGES.get(value, "")
    css = f" fr-badge--{kind}" if kind else ""
    return format_html(
        '<span class="fr-badge fr-badge--sm{}" data-state="{}">{}</span>', css, value, label
    )


@register.filter
def euros(value) -> str:
    """20000 → « 20 000,00 € » (French grouping, whatever the active language)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + NARROW_NBSP.join(groups) + "," + cents + NBSP + "€"


@register.filter
def paris(value, fmt: str = "datetime") -> str:
    """An instant shown in Paris time, numeric (language-independent)."""
    if not value:
        return "—"
    if isinstance(value, dt.datetime):
        local = to_paris(value)
        if fmt == "date":
            return local.strftime("%d/%m/%Y")
        return local.strftime("%d/%m/%Y à %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


@register.filter
def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code)


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}\u00a0%".replace(".", ",")


@register.filter
def get_item(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def filesize(value) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("octets", "Ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            return (
                f"{size:.0f} {unit}" if unit == "octets" else f"{size:.1f} {unit}".replace(".", ",")
            )
        size /= 1024
    return str(value)


@register.filter
def split_codes(value: str) -> list[str]:
    return [code for code in (value or "").split(",") if code]
