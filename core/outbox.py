"""The outbox: side effects that survive a broker outage (docs/decisions/0014).

- A notification row is the outbox entry of its email: written in the change's transaction,
  `pending` until `deliver_notifications` sends it (`sent`), retries it with a doubling delay, or
  gives up after `NOTIFICATION_EMAIL_MAX_ATTEMPTS` (`dead`, listed in the admin, retried there).
- A long launch (eligibility run, CSV import) is a `Job` row written by the request, which answers
  at once; `run_job` runs it on a worker.
- After commit, `publish` nudges a worker (the email task, the job) when the broker answers; it
  never raises nor waits on a broker that is down. Beat's periodic pickups
  (`send_pending_notifications`, `run_queued_jobs`) deliver whatever the nudge could not.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import EmailState, Job, JobState, Notification

logger = logging.getLogger("sons.outbox")

# A claimed email not marked sent nor failed by then (the worker died) is due again.
EMAIL_LEASE = dt.timedelta(minutes=10)
RETRY_CAP = dt.timedelta(hours=6)
# A job still `running` this long after it started lost its worker: queued again (at most
# JOB_MAX_ATTEMPTS times in all).
JOB_LEASE = dt.timedelta(hours=2)
JOB_MAX_ATTEMPTS = 3

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


def one_line(text: Any, limit: int) -> str:
    """`text` as one safe line of at most `limit` characters: control characters (CR, LF, NUL…)
    and runs of whitespace become one space; what is too long ends with an ellipsis. For mail
    headers and bounded columns filled from user text."""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", str(text or ""))).strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


# --- publishing -----------------------------------------------------------------------------------
def publish(task, *args: Any) -> bool:
    """Send `task(*args)` to the workers now; False (logged) when the broker is unreachable.

    Eager (tests, `make run`): runs in-process, as before. Otherwise the task goes out without a
    result (no result-store subscription) and without publish retries, so a broker that is down
    costs a refused connection, not a hung request; the periodic pickups do the work later."""
    if getattr(task.app.conf, "task_always_eager", False):
        task.apply(args=args)
        return True
    try:
        task.apply_async(args=args, ignore_result=True, retry=False)
    except Exception as exc:  # the broker is down or refuses: the rows wait for the pickup
        logger.warning("publish of %s deferred to the periodic pickup: %s", task.name, exc)
        return False
    return True


def publish_on_commit(task, *args: Any) -> None:
    transaction.on_commit(lambda: publish(task, *args))


# --- notification emails --------------------------------------------------------------------------
def _retry_delay(attempts: int) -> dt.timedelta:
    base = dt.timedelta(seconds=settings.NOTIFICATION_EMAIL_RETRY_SECONDS)
    return min(base * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def _claim(*, ids: Iterable[str] | None, now: dt.datetime, limit: int) -> list[Notification]:
    """Due pending rows, claimed for a lease (one attempt counted) in a short transaction: two
    senders never take the same row (SKIP LOCKED on PostgreSQL; SQLite serialises writers)."""
    due = Notification.objects.filter(email_state=EmailState.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    with transaction.atomic():
        pks = list(
            due.select_for_update(skip_locked=True)
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not pks:
            return []
        Notification.objects.filter(pk__in=pks).update(
            attempts=F("attempts") + 1, next_attempt_at=now + EMAIL_LEASE
        )
    return list(
        Notification.objects.filter(pk__in=pks).select_related("recipient").order_by("created_at")
    )


def _send(notification: Notification) -> None:
    from django.core.mail import send_mail

    send_mail(
        one_line(notification.subject, 300),
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient.email],
    )


def deliver_notifications(
    *, ids: Iterable[str] | None = None, now: dt.datetime | None = None, limit: int = 500
) -> dict[str, int]:
    """Email the due pending notifications (those of `ids` only, when given): each is sent once,
    retried later on failure, dead after the last attempt. Never raises for a failed email."""
    now = now or timezone.now()
    counts = {"sent": 0, "skipped": 0, "retry": 0, "dead": 0}
    max_attempts = settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS
    for notification in _claim(ids=ids, now=now, limit=limit):
        row = Notification.objects.filter(pk=notification.pk, email_state=EmailState.PENDING)
        email = (notification.recipient.email or "").strip()
        if not email or not notification.recipient.is_active:
            row.update(email_state=EmailState.SKIPPED, next_attempt_at=None)
            counts["skipped"] += 1
            continue
        try:
            _send(notification)
        except Exception as exc:  # SMTP down, refused address…: retried, then dead
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if notification.attempts >= max_attempts:
                row.update(
                    email_state=EmailState.DEAD,
                    dead_at=timezone.now(),
                    next_attempt_at=None,
                    last_error=error,
                )
                counts["dead"] += 1
                logger.error("notification %s: email dead: %s", notification.pk, error)
            else:
                row.update(
                    next_attempt_at=timezone.now() + _retry_delay(notification.attempts),
                    last_error=error,
                )
                counts["retry"] += 1
                logger.warning("notification %s: email to retry: %s", notification.pk, error)
            continue
        row.update(email_state=EmailState.SENT, emailed_at=timezone.now(), next_attempt_at=None)
        counts["sent"] += 1
    return counts


# --- long launches --------------------------------------------------------------------------------
JobHandler = Callable[[Job], Any]
JOB_HANDLERS: dict[str, JobHandler] = {}


def register_job(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Each app registers the jobs it runs (in `AppConfig.ready`): `handler(job) -> result`, the
    result JSON-serialisable; an `ApplicationError` it raises is the job's error, not a crash."""

    def decorator(func: JobHandler) -> JobHandler:
        JOB_HANDLERS[kind] = func
        return func

    return decorator


def job_enqueue(
    *, kind: str, actor=None, params: dict | None = None, payload: bytes | None = None
) -> Job:
    """Record the job and nudge a worker. Call it outside a transaction: the row commits at once
    (a worker nudged before the row is visible finds nothing to claim; the pickup runs it)."""
    if kind not in JOB_HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(
        kind=kind,
        params=params or {},
        payload=payload,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    from core.tasks import run_job

    publish(run_job, str(job.pk))
    job.refresh_from_db(
        fields=["state", "started_at", "finished_at", "attempts", "result", "error"]
    )
    return job


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def run_job(job_id: str) -> Job | None:
    """Run the job if it is still queued (whoever claims it first: nudge or pickup)."""
    from core.errors import ApplicationError

    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    job = Job.objects.get(pk=job_id)
    try:
        result = JOB_HANDLERS[job.kind](job)
    except ApplicationError as exc:  # a refusal of the input: kept to be answered as such
        job.state, job.error = JobState.FAILED, "; ".join(str(e.detail) for e in exc.errors)
        job.result = {
            "status": exc.status_code,
            "type": exc.error_type,
            "errors": [e.as_dict() for e in exc.errors],
        }
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job.state, job.error = JobState.FAILED, "".join(traceback.format_exception_only(exc))
    else:
        job.state, job.result = JobState.DONE, _json_safe(result)
    job.finished_at = timezone.now()
    job.payload = None  # the uploaded file is not kept once the job has run
    job.save(update_fields=["state", "result", "error", "finished_at", "payload"])
    return job


def run_queued_jobs(*, now: dt.datetime | None = None, limit: int = 20) -> int:
    """The periodic pickup: jobs whose nudge was lost (broker down), and jobs whose worker died
    (running past the lease: queued again, at most JOB_MAX_ATTEMPTS in all, else failed)."""
    now = now or timezone.now()
    stale = Job.objects.filter(state=JobState.RUNNING, started_at__lt=now - JOB_LEASE)
    stale.filter(attempts__lt=JOB_MAX_ATTEMPTS).update(state=JobState.QUEUED)
    stale.update(state=JobState.FAILED, finished_at=now, error="worker lost (lease expired)")
    ran = 0
    for pk in (
        Job.objects.filter(state=JobState.QUEUED)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    ):
        if run_job(str(pk)) is not None:
            ran += 1
    return ran


def job_refusal(job: Job):
    """The `ApplicationError` a failed job's handler raised (same status, type and errors), to be
    raised again by a request that ran it eagerly; None otherwise."""
    from core.errors import ApplicationError, ErrorItem

    if job.state != JobState.FAILED or not isinstance(job.result, dict):
        return None
    if "errors" not in job.result:
        return None
    refusal = ApplicationError(errors=[ErrorItem(**e) for e in job.result["errors"]])
    refusal.status_code = job.result.get("status", 400)
    refusal.error_type = job.result.get("type", "validation_error")
    return refusal


def job_summary(job: Job) -> dict:
    """What the API answers about a job (`core.serializers.JobSerializer`)."""
    from core.serializers import JobSerializer

    return JobSerializer(job).data


def job_response(job: Job, *, serialize: Callable[[Any], dict] | None = None):
    """The API's answer to a launch: 200 with the result (as before jobs) when it already ran (eager
    mode: tests, `make run`), the handler's own 4xx when it refused the input, else 202 with the
    job to follow at `jobs/{id}/`."""
    from rest_framework.response import Response

    if job.state == JobState.DONE:
        return Response(serialize(job.result) if serialize else job.result)
    refusal = job_refusal(job)
    if refusal is not None:
        raise refusal
    return Response(job_summary(job), status=202)
