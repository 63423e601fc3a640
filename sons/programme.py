"""The programme's own data: waves, schemes and calendars of wave 1 (real) and wave 2 (demo),
and the demo requirement sets (sons/fixtures/requirements_va2.json). Loaded by
`python manage.py load_programme`; see that command for where each value comes from."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from core.timeutils import end_of_day_paris, paris_instant, start_of_day_paris
from sons.models import Acceptance

REQUIREMENTS_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "requirements_va2.json"

WAVES = [
    ("VA1", "Vague 1 (2021–2023)"),
    ("VA2", "Vague 2 (2024–2026)"),
]

# Wave-1 requirement sets are small: the socle's mandatory INS, DMP and MSSanté requirements,
# the heart of wave 1.
WAVE1_SECTIONS = ("INS", "DMP", "MSS")


def _d(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, day)


# --- wave 1: the real calendar (domain.md §8) ----------------------------------------------------
_VA1_OPENS = start_of_day_paris(_d(2021, 8, 31))  # referencing opened 31 Aug 2021
_VA1_CLOSES = end_of_day_paris(_d(2022, 10, 31))  # ours
_VA1_INSTALLATION = end_of_day_paris(_d(2023, 9, 20))  # all sectors (after the 28 Apr extension)
_VA1_PAYMENT = end_of_day_paris(_d(2023, 12, 14))  # the scheme closed 14 Dec 2023


_VA1_ORDERS = dt.date(2022, 12, 31)  # ours, for the sectors without a known date


def _va1(
    code: str,
    category: str,
    price_cap: str,
    *,
    order_deadline: dt.date = _VA1_ORDERS,
    acceptance: str = Acceptance.VA,
    uses_eligible_base: bool = False,
    tacit_acceptance_days: int | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "wave": "VA1",
        "category": category,
        "submission_opens": _VA1_OPENS,
        "submission_closes": _VA1_CLOSES,
        "order_deadline": end_of_day_paris(order_deadline),
        "installation_deadline": _VA1_INSTALLATION,
        "payment_deadline": _VA1_PAYMENT,
        "price_cap": Decimal(price_cap),
        "acceptance": acceptance,
        "uses_eligible_base": uses_eligible_base,
        "tacit_acceptance_days": tacit_acceptance_days,
    }


# --- wave 2: demo calendars, the submission window open in late 2026 ------------------------------
_VA2_PAYMENT = paris_instant(2027, 12, 17, 12, 0)  # a deadline with an hour


def _va2(
    code: str,
    category: str,
    price_cap: str,
    *,
    opens: dt.date,
    closes: dt.date,
    orders: dt.date,
    installation: dt.date,
    acceptance: str = Acceptance.VA,
    uses_eligible_base: bool = False,
    tacit_acceptance_days: int | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "wave": "VA2",
        "category": category,
        "submission_opens": start_of_day_paris(opens),
        "submission_closes": end_of_day_paris(closes),
        "order_deadline": end_of_day_paris(orders),
        "installation_deadline": end_of_day_paris(installation),
        "payment_deadline": _VA2_PAYMENT,
        "price_cap": Decimal(price_cap),
        "acceptance": acceptance,
        "uses_eligible_base": uses_eligible_base,
        "tacit_acceptance_days": tacit_acceptance_days,
    }


_HOP2 = {
    "opens": _d(2025, 3, 3),
    "closes": _d(2027, 3, 31),
    "orders": _d(2027, 6, 30),
    "installation": _d(2027, 10, 29),
    "uses_eligible_base": True,
}
_VILLE2 = {
    "opens": _d(2025, 6, 2),
    "closes": _d(2027, 1, 29),
    "orders": _d(2027, 3, 31),
    "installation": _d(2027, 9, 30),
    "acceptance": Acceptance.MOM,
    "tacit_acceptance_days": 30,
}
_PLATEAU2 = {
    "opens": _d(2025, 9, 1),
    "closes": _d(2027, 2, 26),
    "orders": _d(2027, 4, 30),
    "installation": _d(2027, 10, 29),
}

SCHEMES: list[dict[str, Any]] = [
    _va1("HOP-DPI-VA1", "DPI", "90000.00", uses_eligible_base=True),
    _va1("HOP-RI-VA1", "RI", "35000.00", uses_eligible_base=True),
    _va1("HOP-PFI-VA1", "PFI", "45000.00", uses_eligible_base=True),
    _va1(
        "MDV-LGC-VA1",
        "LGC",
        "1500.00",
        order_deadline=_d(2022, 11, 30),  # GP-software orders by 30 Nov 2022
        acceptance=Acceptance.MOM,
        tacit_acceptance_days=30,
    ),
    _va1("RAD-SIR-VA1", "SIR", "9000.00"),
    _va1("BIO-SGL-VA1", "SGL", "12000.00"),
    _va1(
        "OFF-LGO-VA1",
        "LGO",
        "875.00",  # pharmacy cap €625–875 by turnover tier: the top tier; tiers in the base
        order_deadline=_d(2022, 12, 18),  # pharmacy orders by 18 Dec 2022
        acceptance=Acceptance.MOM,
        uses_eligible_base=True,
        tacit_acceptance_days=30,
    ),
    _va2("HOP-DPI-VA2", "DPI", "150000.00", **_HOP2),
    _va2("HOP-PFI-VA2", "PFI", "60000.00", **_HOP2),
    _va2("HOP-RI-VA2", "RI", "40000.00", **_HOP2),
    _va2("MDV-LGC-VA2", "LGC", "2500.00", **_VILLE2),
    _va2("RAD-SIR-VA2", "SIR", "12000.00", **_PLATEAU2),
    _va2("BIO-SGL-VA2", "SGL", "15000.00", **_PLATEAU2),
    _va2("OFF-LGO-VA2", "LGO", "1200.00", uses_eligible_base=True, **_VILLE2),
]


@cache
def _fixture() -> dict[str, Any]:
    with REQUIREMENTS_FIXTURE.open(encoding="utf-8") as handle:
        return json.load(handle)


def requirements_for(wave: str, category: str) -> list[dict[str, Any]]:
    """The demo requirement set of a scheme: the socle then the category's own requirements
    (wave 2), or the socle's mandatory INS/DMP/MSS requirements (wave 1)."""
    data = _fixture()
    if wave == "VA1":
        chosen = [
            r
            for r in data["socle"]
            if r["section"] in WAVE1_SECTIONS and r["nature"] == "mandatory"
        ]
    else:
        chosen = [*data["socle"], *data["by_category"].get(category, [])]
    return [dict(r) for r in chosen]
