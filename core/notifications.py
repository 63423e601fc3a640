"""Notifications: an in-app notice per recipient, and an email sent after commit.

Templates live in `templates/notifications/<event>.txt`: the first line is the subject, the rest
the body (French). Call `notify` inside the service's transaction: rows are written with the
change, and the emails leave only once it has committed (never for a change that rolled back).
Each row is the outbox entry of its email (`core.outbox`): a worker is nudged after commit, and
the periodic sender delivers what the nudge could not (broker down), with retries.

The subject is a mail header filled from user text (a solution's name): it is made one line
(no CR, LF nor other control character) and cut with an ellipsis to its column's length.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models
from django.template import Context, Engine

from core.models import Notification
from core.outbox import one_line, publish_on_commit

SUBJECT_MAX = Notification._meta.get_field("subject").max_length


@cache
def _text_engine() -> Engine:
    """Plain-text templates: no HTML escaping in emails."""
    return Engine(
        dirs=[str(d) for d in settings.TEMPLATES[0]["DIRS"]],
        autoescape=False,
        libraries={"tz": "django.templatetags.tz"},
    )


def render_notification(event: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body): the template's first line and the rest, rendered apart so that a value
    with a line break cannot move text from the subject into the body."""
    engine = _text_engine()
    source = engine.get_template(f"notifications/{event}.txt").source
    first, _, rest = source.lstrip().partition("\n")
    ctx = Context(context)
    subject = engine.from_string(first).render(ctx)
    body = engine.from_string("{% load tz %}" + rest).render(ctx)
    return one_line(subject, SUBJECT_MAX), body.strip().replace("\x00", "")


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
                object_id=str(obj.pk)[:64] if obj is not None else "",
            )
            for user in recipients
        ]
    )
    ids = [str(n.pk) for n in notifications]
    from core.tasks import send_notification_emails

    publish_on_commit(send_notification_emails, ids)
    return notifications
