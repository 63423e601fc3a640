"""Reminders before a due date, shared by every app's sweeps: 7 days and 1 day before, each
(kind, object, due instant, offset) at most once — a sweep run twice reminds nobody twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import F, QuerySet

from core.models import SentReminder
from core.notifications import notify
from core.sweeps import object_failed

REMINDER_OFFSETS = (7, 1)  # days before the due instant


def due_soon(queryset: QuerySet, due_field: str, now: dt.datetime) -> QuerySet:
    """Objects whose `due_field` (a lookup path) falls in the reminder horizon, annotated `due`."""
    horizon = now + dt.timedelta(days=max(REMINDER_OFFSETS))
    return queryset.filter(**{f"{due_field}__gt": now, f"{due_field}__lte": horizon}).annotate(
        due=F(due_field)
    )


def remind(
    *,
    now: dt.datetime,
    objects: Iterable,
    kind: str,
    event: str,
    recipients_of: Callable[[object], Iterable],
) -> int:
    """Notify once per object and offset; `objects` carry their due instant as `.due`."""
    sent = 0
    for obj in objects:  # each in its own savepoint: one failing reminder skips only itself
        try:
            with transaction.atomic():
                sent += _remind_one(now, obj, kind, event, recipients_of)
        except Exception as exc:
            object_failed(obj.pk, exc)
    return sent


def _remind_one(now, obj, kind, event, recipients_of) -> int:
    offset = next(
        days for days in sorted(REMINDER_OFFSETS) if obj.due - now <= dt.timedelta(days=days)
    )
    if not SentReminder.objects.get_or_create(
        key=f"{kind}:{obj.pk}:{obj.due.isoformat()}:{offset}"
    )[1]:
        return 0
    notify(
        recipients=recipients_of(obj),
        event=event,
        obj=obj,
        context={"due_at": obj.due, "days": offset},
    )
    return 1
