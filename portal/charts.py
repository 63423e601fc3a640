"""Server-side SVG charts of the deployment dashboard: no script, no external asset.

Each chart is an `<svg role="img">` with a title and a description; the page shows the same
numbers in a data table next to it (the accessible alternative). Colours are DSFR blues and
orange with at least 3:1 contrast against white, and segments are separated by white gaps."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BLUE = "#000091"
LIGHT_BLUE = "#6a6af4"
ORANGE = "#b34000"
GRID = "#929292"
FONT = 'font-size="14"'


def _label(row: dict) -> str:
    return f"{row.get('category') or row.get('sector') or row.get('scheme')} ({row['wave']})"


def _svg(width: int, height: int, title: str, desc: str, body: list[str], uid: str) -> SafeString:
    return mark_safe(  # noqa: S308 — every text below is escaped
        f'<svg class="portal-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{uid}-t {uid}-d">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


def rate_bars(rows: list[dict], uid: str = "chart-rate") -> SafeString:
    """Installation rate per category: one horizontal bar each, 0 to 100 %."""
    label_w, plot_w, row_h, top = 130, 600, 36, 30
    height = top + row_h * max(len(rows), 1) + 10
    width = label_w + plot_w + 90
    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = label_w + tick * plot_w
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 10}" stroke="{GRID}" '
            'stroke-width="1" stroke-dasharray="2 3"/>'
            f'<text x="{x:.1f}" y="{top - 12}" text-anchor="middle" font-size="12">{int(tick * 100)} %</text>'
        )
    parts = []
    for i, row in enumerate(rows):
        y = top + i * row_h
        rate = row.get("installation_rate")
        body.append(
            f'<text x="{label_w - 10}" y="{y + 21}" text-anchor="end" {FONT}>{escape(_label(row))}</text>'
        )
        if rate is None:
            body.append(f'<text x="{label_w + 6}" y="{y + 21}" {FONT}>aucune commande</text>')
            parts.append(f"{_label(row)} : aucune commande")
            continue
        w = max(rate * plot_w, 1)
        body.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row_h - 12}" fill="{BLUE}"/>'
        )
        body.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 21}" {FONT} font-weight="700">{_pct(rate)}</text>'
        )
        parts.append(f"{_label(row)} : {_pct(rate)}")
    desc = "Taux d'installation des mises à jour commandées. " + "; ".join(parts) + "."
    return _svg(width, height, "Taux d'installation par type de logiciel", desc, body, uid)


SEGMENTS = [
    ("with_balance_request", "Installé, solde demandé", BLUE),
    ("without_balance_request", "Installé, sans demande de solde", LIGHT_BLUE),
    ("not_installed", "Non installé", ORANGE),
]


def stacked_bars(rows: list[dict], uid: str = "chart-split") -> SafeString:
    """Ordered updates per category, split into installed with / without a balance request and
    not installed (absolute numbers, stacked)."""
    label_w, plot_w, row_h, top = 130, 600, 36, 12
    height = top + row_h * max(len(rows), 1) + 10
    width = label_w + plot_w + 90
    peak = max([r["ordered"] for r in rows] + [1])
    body, parts = [], []
    for i, row in enumerate(rows):
        y = top + i * row_h
        body.append(
            f'<text x="{label_w - 10}" y="{y + 21}" text-anchor="end" {FONT}>{escape(_label(row))}</text>'
        )
        x = float(label_w)
        for key, name, colour in SEGMENTS:
            value = row[key]
            if not value:
                continue
            w = value / peak * plot_w
            body.append(
                f'<rect x="{x:.1f}" y="{y + 6}" width="{w:.1f}" height="{row_h - 12}" fill="{colour}" '
                f'stroke="#ffffff" stroke-width="2"><title>{escape(name)} : {value}</title></rect>'
            )
            x += w
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + 21}" {FONT} font-weight="700">{row["ordered"]}</text>'
        )
        parts.append(
            f"{_label(row)} : {row['with_balance_request']} avec solde, "
            f"{row['without_balance_request']} sans solde, {row['not_installed']} non installés"
        )
    desc = "Mises à jour commandées par type de logiciel. " + "; ".join(parts) + "."
    return _svg(width, height, "Installations avec et sans demande de solde", desc, body, uid)


def _count_step(peak: int, ticks: int = 4) -> int:
    """A whole, round step (1, 2, 5, 10, 20, 25, 50, …) such that `ticks` steps reach `peak`:
    the axis of a count shows whole numbers only."""
    magnitude = 1
    while True:
        for step in (1, 2, 2.5, 5):
            value = step * magnitude
            if value == int(value) and value * ticks >= peak:
                return int(value)
        magnitude *= 10


MONTHS = [
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
]


def month_label(day) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def monthly_columns(months: list[dict], uid: str = "chart-time") -> SafeString:
    """Installations accepted per month (Paris time), as columns."""
    left, top, plot_h, bottom = 50, 16, 200, 46
    col_w = 44 if len(months) <= 18 else max(900 // max(len(months), 1), 8)
    width = left + col_w * max(len(months), 1) + 20
    height = top + plot_h + bottom
    step = _count_step(max([m["count"] for m in months] + [1]))
    peak = step * 4
    body = []
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        tick = f"{step * i:,}".replace(",", "\u202f")  # 10 000, French grouping
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1" '
            f'stroke-dasharray="2 3"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12">'
            f"{tick}</text>"
        )
    parts = []
    for i, month in enumerate(months):
        h = month["count"] / peak * plot_h
        x = left + i * col_w + 6
        body.append(
            f'<rect x="{x}" y="{top + plot_h - h:.1f}" width="{col_w - 12}" height="{h:.1f}" fill="{BLUE}">'
            f"<title>{escape(month_label(month['month']))} : {month['count']}</title></rect>"
        )
        if len(months) <= 18:
            body.append(
                f'<text x="{x + (col_w - 12) / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                f'font-size="11">{escape(MONTHS[month["month"].month - 1])}</text>'
                f'<text x="{x + (col_w - 12) / 2:.1f}" y="{top + plot_h + 32}" text-anchor="middle" '
                f'font-size="11">{month["month"].year}</text>'
            )
        parts.append(f"{month_label(month['month'])} : {month['count']}")
    if not months:
        body.append(
            f'<text x="{left + 10}" y="{top + plot_h / 2}" {FONT}>Aucune installation acceptée.</text>'
        )
    desc = "Installations acceptées par mois. " + ("; ".join(parts) or "aucune") + "."
    return _svg(width, height, "Installations au fil du temps", desc, body, uid)
