"""Notifications: an in-app notice per recipient, and an email sent after commit.

Templates live in `templates/notifications/<event>.txt`: the first line is the subject, the rest
the body (French). Call `notify` inside the service's transaction: rows are written with the
change, and the emails leave only once it has committed (never for a change that rolled back).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.template import Context, Engine

from core.models import Notification


@cache
def _text_engine() -> Engine:
    """Plain-text templates: no HTML escaping in emails."""
    return Engine(
        dirs=[str(d) for d in settings.TEMPLATES[0]["DIRS"]],
        autoescape=False,
        libraries={"tz": "django.templatetags.tz"},
    )


def render_notification(event: str, context: dict[str, Any]) -> tuple[str, str]:
    template = _text_engine().get_template(f"notifications/{event}.txt")
    text = template.render(Context(context)).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip()


def notify(
    *,
    recipients: Iterable[Any],
    event: str,
    obj: models.Model | None = None,
    context: dict[str, Any] | None = None,
) -> list[Notification]:
    recipients = {r.pk: r for r in recipients if r is not None and r.is_active}.values()
    if not recipients:
        return []
    context = {**(context or {}), "object": obj}
    subject, body = render_notification(event, context)
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                event=event,
                subject=subject,
                body=body,
                object_type=obj._meta.label_lower if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
            )
            for user in recipients
        ]
    )
    ids = [str(n.pk) for n in notifications]
    from core.tasks import send_notification_emails

    transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return notifications
