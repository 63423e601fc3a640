"""Writes of the core app (notifications read state, emails retried). Reading a notice is not
audited: it changes nothing of the programme; retrying an email is."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import ObjectRef, audit_record_many
from core.errors import NotAllowed
from core.models import EmailState, Notification


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic(durable=True)
def notification_email_retry(*, actor, notifications) -> int:
    """Give dead emails (or ones waiting for their next attempt) a fresh start: pending, due now,
    attempts reset; one audit entry per notification. ANS admins only."""
    if not getattr(actor, "is_ans_admin", False):
        raise NotAllowed(_("Réservé aux administrateurs ANS."))
    pks = [n.pk for n in notifications]
    rows = list(
        Notification.objects.select_for_update()
        .filter(pk__in=pks, email_state__in=[EmailState.DEAD, EmailState.PENDING])
        .values_list("pk", "email_state")
    )
    if not rows:
        return 0
    Notification.objects.filter(pk__in=[pk for pk, _state in rows]).update(
        email_state=EmailState.PENDING, attempts=0, next_attempt_at=None, dead_at=None
    )
    for state in {s for _pk, s in rows}:
        audit_record_many(
            actor=actor,
            action="notification.email_retry",
            objects=[ObjectRef("core.notification", str(pk)) for pk, s in rows if s == state],
            from_state=state,
            to_state=EmailState.PENDING,
        )
    from core.outbox import publish_on_commit
    from core.tasks import send_notification_emails

    publish_on_commit(send_notification_emails, [str(pk) for pk, _state in rows])
    return len(rows)
