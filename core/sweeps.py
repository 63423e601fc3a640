"""The registry of periodic sweeps. Each app registers its own in `AppConfig.ready`.

A sweep is a function `(now) -> int` (how many objects it moved or reminded) that finds what is
due by a query on state and dates, and acts on it; it takes a job lock so two never overlap, and
is idempotent: running it twice does nothing the second time.

Failures are isolated (docs/decisions/0014): a sweep acts through `isolated`, which tries the
whole batch in one savepoint and, if that fails, each object in its own savepoint; an object that
still fails is logged, counted, reported by id and skipped, and the others proceed. `run_sweep`
records each run (`core.SweepRun`: moved, failed, failed ids, errors) for the admin."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("sons.sweeps")

SweepFunction = Callable[[dt.datetime], int]
SWEEPS: dict[str, SweepFunction] = {}
T = TypeVar("T")


def register(name: str) -> Callable[[SweepFunction], SweepFunction]:
    def decorator(func: SweepFunction) -> SweepFunction:
        SWEEPS[name] = func
        return func

    return decorator


@dataclass
class Failures:
    """What failed during one sweep run: object ids and their errors."""

    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, object_id: Any, exc: BaseException) -> None:
        self.ids.append(str(object_id))
        self.errors.append(f"{object_id}: {type(exc).__name__}: {exc}"[:1000])


_failures: ContextVar[Failures | None] = ContextVar("sweep_failures", default=None)


def object_failed(object_id: Any, exc: BaseException) -> None:
    """Report one object skipped by the sweep running now (logged in any case)."""
    logger.error("sweep: object %s skipped: %s", object_id, exc, exc_info=exc)
    failures = _failures.get()
    if failures is not None:
        failures.add(object_id, exc)


def isolated(
    items: Sequence[T], act: Callable[[Sequence[T]], int], *, key: Callable[[T], Any] = str
) -> int:
    """`act(items)` (set-based: guarded update, audit, notifications) in one savepoint; if it
    fails, `act([item])` for each item in its own savepoint, skipping and reporting the ones
    that fail. Returns the sum of what `act` returned for the parts that succeeded."""
    if not items:
        return 0
    try:
        with transaction.atomic():
            return act(items)
    except Exception as exc:
        if len(items) == 1:
            object_failed(key(items[0]), exc)
            return 0
        logger.warning("sweep: batch of %s failed (%s), retried one by one", len(items), exc)
    done = 0
    for item in items:
        try:
            with transaction.atomic():
                done += act([item])
        except Exception as exc:
            object_failed(key(item), exc)
    return done


def run_sweep(name: str, now: dt.datetime | None = None):
    """Run one registered sweep and record the run; never raises for the sweep's own failure
    (look at the returned `SweepRun`: `failed`, `failed_ids`, `error`)."""
    from core.models import SweepRun

    run = SweepRun.objects.create(name=name, started_at=timezone.now())
    failures = Failures()
    token = _failures.set(failures)
    moved, error = 0, ""
    try:
        moved = SWEEPS[name](now) or 0
    except Exception as exc:  # the whole sweep failed: recorded, the other sweeps still run
        logger.exception("sweep %s failed", name)
        error = "".join(traceback.format_exception_only(exc)).strip()
    finally:
        _failures.reset(token)
    run.finished_at = timezone.now()
    run.moved = moved
    run.failed = len(failures.ids)
    run.failed_ids = failures.ids
    run.error = "\n".join([*failures.errors, error] if error else failures.errors)
    run.save(update_fields=["finished_at", "moved", "failed", "failed_ids", "error"])
    return run


RUNS_KEPT = dt.timedelta(days=90)


def prune_runs(now: dt.datetime | None = None) -> int:
    """Forget the clean runs older than RUNS_KEPT (beat records seven every ten minutes); runs
    with failures are kept."""
    from core.models import SweepRun

    cutoff = (now or timezone.now()) - RUNS_KEPT
    deleted, _ = SweepRun.objects.filter(started_at__lt=cutoff, failed=0, error="").delete()
    return deleted


def failure_summary(runs) -> str:
    """`name (2 échec(s) : id, id)` for each run that did not fully succeed."""
    parts = []
    for run in runs:
        if run.failed or run.error:
            ids = ", ".join(run.failed_ids) if run.failed_ids else run.error.splitlines()[-1]
            parts.append(f"{run.name} ({run.failed} échec(s) : {ids})")
    return "; ".join(parts)
