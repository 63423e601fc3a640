"""The outbox (docs/decisions/0014): a notification row is its email's outbox entry — sent once,
retried with a doubling delay, dead after the last attempt and retried by an ANS admin through
the admin (audited); long launches are recorded as jobs and picked up. Plus the regressions of
issue 10: user text that reached a mail header or a bounded column answered 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEntry, EmailState, Job, JobState, Notification
from core.notifications import notify
from core.outbox import deliver_notifications, one_line, run_queued_jobs
from core.tasks import send_pending_notifications
from payments.models import EligibilityRun
from referencing_app import services as referencing_services
from referencing_app.models import Dossier
from tests.factories.accounts import UserFactory
from tests.factories.orders import make_order_world, order_in
from tests.factories.referencing import dossier_in, make_world

FAILING = "tests.core.test_outbox.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses everything."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP refused")


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _notify(users, event="dossier_comment", obj=None):
    return notify(recipients=users, event=event, obj=obj)


# --- the email of a notification ------------------------------------------------------------------
def test_a_notification_is_pending_until_the_nudge_sends_it_once(
    db, django_capture_on_commit_callbacks
):
    world = make_world()
    dossier = dossier_in(world, "submitted")
    send_pending_notifications()  # what the setup's services notified
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = _notify([world.member], obj=dossier)
        notification.refresh_from_db()
        assert (notification.email_state, notification.emailed_at) == ("pending", None)
    notification.refresh_from_db()
    assert notification.email_state == EmailState.SENT
    assert notification.emailed_at is not None
    assert [m.to for m in mail.outbox] == [[world.member.email]]
    assert send_pending_notifications() == {"sent": 0, "skipped": 0, "retry": 0, "dead": 0}
    assert len(mail.outbox) == 1


def test_a_recipient_without_address_is_skipped_not_retried(db):
    user = UserFactory(email="")
    [notification] = _notify([user])
    assert deliver_notifications()["skipped"] == 1
    notification.refresh_from_db()
    assert notification.email_state == EmailState.SKIPPED
    assert deliver_notifications() == {"sent": 0, "skipped": 0, "retry": 0, "dead": 0}


def test_failed_emails_are_retried_with_backoff_then_dead_then_retried_by_an_admin(
    db, settings, client
):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_EMAIL_RETRY_SECONDS = 60
    user = UserFactory()
    [notification] = _notify([user])
    now = timezone.now()

    assert deliver_notifications(now=now)["retry"] == 1
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert "SMTP refused" in notification.last_error
    first_delay = notification.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=50) < first_delay <= dt.timedelta(seconds=60)
    # not due before its next attempt
    assert deliver_notifications(now=now + dt.timedelta(seconds=30))["retry"] == 0

    assert deliver_notifications(now=now + dt.timedelta(minutes=2))["retry"] == 1
    notification.refresh_from_db()
    second_delay = notification.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=110) < second_delay <= dt.timedelta(seconds=120)  # doubled

    assert deliver_notifications(now=now + dt.timedelta(hours=1))["dead"] == 1
    notification.refresh_from_db()
    assert notification.email_state == EmailState.DEAD
    assert notification.dead_at is not None
    assert deliver_notifications(now=now + dt.timedelta(days=9)) == {
        "sent": 0,
        "skipped": 0,
        "retry": 0,
        "dead": 0,
    }

    # the ANS admin sees the dead letter and retries it; the retry is audited
    admin = UserFactory(role="ans_admin", is_superuser=True, is_staff=True)
    client.force_login(admin)
    page = client.get("/admin/core/notification/", {"email_state__exact": "dead"})
    assert page.status_code == 200
    assert str(notification.pk) in page.content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    response = client.post(
        "/admin/core/notification/",
        {"action": "retry_emails", "_selected_action": [str(notification.pk)]},
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert (notification.email_state, notification.attempts) == ("pending", 0)
    entry = AuditEntry.objects.get(action="notification.email_retry")
    assert (entry.object_id, entry.from_state, entry.to_state) == (
        str(notification.pk),
        "dead",
        "pending",
    )
    assert send_pending_notifications()["sent"] == 1
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_a_claimed_email_is_not_taken_twice_while_its_lease_runs(db, settings):
    settings.EMAIL_BACKEND = FAILING
    user = UserFactory()
    _notify([user])
    now = timezone.now()
    assert deliver_notifications(now=now)["retry"] == 1
    # the row carries its next attempt: a second sender at the same instant takes nothing
    assert sum(deliver_notifications(now=now).values()) == 0


# --- mail headers and bounded columns from user text -----------------------------------------------
def test_one_line_makes_a_header_safe_and_short():
    assert one_line("Logiciel\r\nX-Injected: 1\x00 \t fin", 300) == "Logiciel X-Injected: 1 fin"
    long = one_line("é" * 400, 300)
    assert len(long) == 300
    assert long.endswith("…")
    assert one_line("court", 300) == "court"


def test_every_notification_template_has_a_one_line_subject_rendered_apart():
    from pathlib import Path

    from django.conf import settings

    from core.notifications import _text_engine

    engine = _text_engine()
    templates = sorted((Path(settings.BASE_DIR) / "templates" / "notifications").glob("*.txt"))
    assert templates
    for path in templates:
        source = engine.get_template(f"notifications/{path.name}").source
        first, _, rest = source.lstrip().partition("\n")
        engine.from_string(first)  # no tag left open across the subject line
        engine.from_string("{% load tz %}" + rest)
        assert rest.strip(), path.name


def _dossier_with_solution_name(name: str, state: str):
    world = make_world()
    world.version.solution.name = name
    world.version.solution.save()
    return world, dossier_in(world, state)


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("reject", {"reason": "Non conforme"}),
        ("request-changes", {"reason": "À compléter", "requirements": ["SC.INS.01"]}),
    ],
)
def test_a_300_character_solution_name_no_longer_breaks_decisions(
    db, django_capture_on_commit_callbacks, action, body
):
    world, dossier = _dossier_with_solution_name("N" * 300, "in_review")
    if action == "request-changes":
        for code in ("SC.INS.01", "SC.DMP.01"):
            referencing_services.verdict_put(
                actor=dossier.reviewer,
                dossier=dossier,
                requirement_code=code,
                verdict="non_compliant",
                comment="Avis motivé.",
            )
    actor = world.admin2 if action == "reject" else dossier.reviewer
    before = set(Notification.objects.values_list("pk", flat=True))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(actor).post(
            f"/api/v1/dossiers/{dossier.pk}/{action}/", body, format="json"
        )
    assert response.status_code == 200, response.content
    notifications = Notification.objects.exclude(pk__in=before)
    assert notifications.exists()
    for notification in notifications:
        assert len(notification.subject) <= 300
        assert notification.subject.endswith("…")
        assert notification.email_state == EmailState.SENT
    assert len(mail.outbox) == notifications.count()


def test_a_name_with_a_carriage_return_no_longer_breaks_withdraw(
    db, django_capture_on_commit_callbacks
):
    world, dossier = _dossier_with_solution_name("Logiciel\rX-Injected: oui", "submitted")
    before = set(Notification.objects.values_list("pk", flat=True))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(world.member).post(
            f"/api/v1/dossiers/{dossier.pk}/withdraw/", {"reason": "Abandon"}, format="json"
        )
    assert response.status_code == 200, response.content
    assert Dossier.objects.get(pk=dossier.pk).state == "withdrawn"
    notifications = Notification.objects.exclude(pk__in=before)
    assert notifications.exists()
    assert set(notifications.values_list("email_state", flat=True)) == {EmailState.SENT}
    assert len(mail.outbox) == notifications.count()
    for message in mail.outbox:
        assert "\r" not in message.subject
        assert "\n" not in message.subject
        assert "Logiciel X-Injected: oui" in message.subject
        message.message()  # the headers serialise


# --- long launches ----------------------------------------------------------------------------------
def test_the_eligibility_launch_is_a_job_answered_at_once_and_run(db):
    ow = make_order_world()
    order_in(ow, "signed")
    response = _client(ow.officer).post(
        "/api/v1/eligibility-runs/", {"schemes": [ow.scheme.code]}, format="json"
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert response.json()["task"] == str(job.pk)
    assert job.kind == "eligibility_check"
    assert job.requested_by == ow.officer
    assert job.state == JobState.DONE  # eager: the nudge ran it in-process
    assert EligibilityRun.objects.filter(
        scheme=ow.scheme, triggered_by=f"api:{ow.officer.username}"
    ).exists()
    unknown = _client(ow.officer).post(
        "/api/v1/eligibility-runs/", {"schemes": ["NOPE-VA9"]}, format="json"
    )
    assert unknown.status_code == 400
    assert unknown.json()["type"] == "validation_error"
    assert unknown.json()["errors"][0]["attr"] == "schemes"
    assert "inconnu" in unknown.json()["errors"][0]["detail"]
    english = _client(ow.officer).post(
        "/api/v1/eligibility-runs/",
        {"schemes": ["NOPE-VA9"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["errors"][0]["detail"] == "Unknown scheme(s): NOPE-VA9."
    assert Job.objects.count() == 1


def test_a_job_whose_nudge_was_lost_is_picked_up(db, client):
    ow = make_order_world()
    order_in(ow, "signed")
    job = Job.objects.create(
        kind="eligibility_check", params={"schemes": [ow.scheme.code], "triggered_by": "test"}
    )
    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert job.result["runs"][0]["scheme"] == ow.scheme.code
    assert run_queued_jobs() == 0
    # a job whose worker died is queued again once its lease is over
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, started_at=timezone.now() - dt.timedelta(hours=3)
    )
    assert run_queued_jobs() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.DONE, 2)
    # ANS admins follow jobs in the admin
    client.force_login(UserFactory(role="ans_admin", is_superuser=True, is_staff=True))
    assert client.get("/admin/core/job/", {"state__exact": "done"}).status_code == 200
    page = client.get(f"/admin/core/job/{job.pk}/change/")
    assert page.status_code == 200
    assert ow.scheme.code in page.content.decode()
