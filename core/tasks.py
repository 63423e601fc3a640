from celery import shared_task
from django.db import connection


@shared_task(name="core.tasks.heartbeat")
def heartbeat() -> dict:
    """Proves the worker reaches the database; the beat schedule runs it every 15 minutes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"database": value == 1, "vendor": connection.vendor}


@shared_task(name="core.tasks.send_notification_emails", acks_late=True)
def send_notification_emails(notification_ids: list[str]) -> int:
    """Email each notification not yet emailed; safe to run twice."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import timezone

    from core.models import Notification

    sent = 0
    pending = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
    for notification in pending.select_related("recipient"):
        if not notification.recipient.email:
            continue
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
        )
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


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
    """Run the registered sweeps (all, or those named); each is idempotent and locked."""
    from core.sweeps import SWEEPS

    selected = names or sorted(SWEEPS)
    return {name: SWEEPS[name](None) for name in selected}
