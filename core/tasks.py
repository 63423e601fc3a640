from celery import shared_task
from django.db import connection


@shared_task(name="core.tasks.heartbeat")
def heartbeat() -> dict:
    """Proves the worker reaches the database; the beat schedule runs it every 15 minutes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"database": value == 1, "vendor": connection.vendor}


@shared_task(name="core.tasks.send_notification_emails", acks_late=True, ignore_result=True)
def send_notification_emails(notification_ids: list[str]) -> dict:
    """The on-commit nudge: email these notifications now if still pending (safe to run twice)."""
    from core.outbox import deliver_notifications

    return deliver_notifications(ids=notification_ids)


@shared_task(name="core.tasks.send_pending_notifications", acks_late=True, ignore_result=True)
def send_pending_notifications() -> dict:
    """Beat, every minute: every notification email due (never nudged, or to retry)."""
    from core.outbox import deliver_notifications

    total: dict[str, int] = {}
    while True:  # in batches, until none is due
        counts = deliver_notifications(limit=500)
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if sum(counts.values()) < 500:
            return total


# A launch may be long (the eligibility batch over every order): the limits of its former task.
@shared_task(
    name="core.tasks.run_job",
    acks_late=True,
    ignore_result=True,
    time_limit=3600,
    soft_time_limit=3500,
)
def run_job(job_id: str) -> str | None:
    """The on-commit nudge of a long launch recorded as a `core.Job`."""
    from core.outbox import run_job as run

    job = run(job_id)
    return job.state if job is not None else None


@shared_task(
    name="core.tasks.run_queued_jobs",
    acks_late=True,
    ignore_result=True,
    time_limit=3600,
    soft_time_limit=3500,
)
def run_queued_jobs() -> int:
    """Beat, every minute: the long launches whose nudge was lost."""
    from core.outbox import run_queued_jobs as run

    return run()


@shared_task(name="core.tasks.audit_head")
def audit_head() -> dict:
    """The audit trail as this process sees it: entry count and last link.

    Lets an operator (and CI's worker test) check that workers and web share one database.
    """
    from core.models import AuditEntry

    head = AuditEntry.objects.order_by("-seq").values("seq", "hash").first() or {}
    return {
        "count": AuditEntry.objects.count(),
        "seq": head.get("seq", 0),
        "hash": head.get("hash", ""),
        "vendor": connection.vendor,
    }


@shared_task(name="core.tasks.run_sweeps", acks_late=True)
def run_sweeps(names: list[str] | None = None) -> dict:
    """Run the registered sweeps (all, or those named), every one of them even when one fails;
    each run is recorded (`core.SweepRun`). Returns what each moved; raises only after all ran,
    naming the failures, so that the failure shows in the worker's log and monitoring."""
    from core.sweeps import SWEEPS, failure_summary, prune_runs, run_sweep

    runs = [run_sweep(name) for name in (names or sorted(SWEEPS))]
    prune_runs()
    summary = failure_summary(runs)
    if summary:
        raise SweepsFailed(summary)
    return {run.name: run.moved for run in runs}


class SweepsFailed(RuntimeError):
    """Some sweeps had objects (or the whole sweep) fail; the others ran."""
