"""A portable job lock: one row per job name, locked for the job's transaction.

On PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED` lets the second runner see the lock taken and
skip; SQLite serialises writers by itself (IMMEDIATE transactions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from core.models import JobLock


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """`with job_lock("sweep") as acquired:` — inside one transaction; False if taken."""
    JobLock.objects.get_or_create(name=name)
    with transaction.atomic():
        lock = JobLock.objects.select_for_update(skip_locked=True).filter(name=name).first()
        if lock is None:
            yield False
            return
        lock.last_started_at = timezone.now()
        yield True
        lock.last_finished_at = timezone.now()
        lock.save(update_fields=["last_started_at", "last_finished_at"])
