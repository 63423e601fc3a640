"""Legal time of the programme: deadlines are instants, interpreted in Europe/Paris.

A deadline written as a date ("until 20 September 2023") means every instant before
21 September 00:00 Paris time; we store it as the last instant of that day, 23:59:59.999999 Paris,
in UTC, and compare with `<=`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")


def end_of_day_paris(day: dt.date) -> dt.datetime:
    """The last instant of `day` in Paris, as an aware datetime in UTC."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=PARIS).astimezone(dt.UTC)


def start_of_day_paris(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=PARIS).astimezone(dt.UTC)


def paris_instant(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """An instant given in Paris wall-clock time, returned in UTC."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=PARIS).astimezone(dt.UTC)


def to_paris(value: dt.datetime) -> dt.datetime:
    return value.astimezone(PARIS)


def paris_today(now: dt.datetime | None = None) -> dt.date:
    return to_paris(now or timezone.now()).date()


def is_end_of_day(value: dt.datetime) -> bool:
    """True when `value` is the end of a Paris day, i.e. a deadline given as a plain date."""
    local = to_paris(value)
    return local.time() == dt.time.max


def on_or_before(instant: dt.datetime, deadline: dt.datetime | None) -> bool:
    """The programme's deadline test. No deadline means no limit."""
    return deadline is None or instant <= deadline
