"""The registry of periodic sweeps. Each app registers its own in `AppConfig.ready`.

A sweep is a function `(now) -> int` (how many objects it moved or reminded) that finds what is
due by a query on state and dates, and acts on it; it takes a job lock so two never overlap, and
is idempotent: running it twice does nothing the second time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

SweepFunction = Callable[[dt.datetime], int]
SWEEPS: dict[str, SweepFunction] = {}


def register(name: str) -> Callable[[SweepFunction], SweepFunction]:
    def decorator(func: SweepFunction) -> SweepFunction:
        SWEEPS[name] = func
        return func

    return decorator
