import datetime as dt

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from core.models import AuditEntry, Notification
from core.timeutils import paris_instant
from referencing_app import services
from referencing_app.models import Dossier, Referencing
from referencing_app.sweeps import (
    sweep_abandon_overdue_dossiers,
    sweep_dossier_reminders,
    sweep_expire_referencings,
)
from tests.factories.referencing import dossier_in, make_world


def test_abandon_sweep_moves_once_and_audits_once(db, django_capture_on_commit_callbacks):
    world = make_world()
    dossier = dossier_in(world, "changes_requested")
    due = dossier.changes_due_at
    assert sweep_abandon_overdue_dossiers(due) == 0  # on the due instant itself: still in time
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_abandon_overdue_dossiers(due + dt.timedelta(seconds=1)) == 1
        assert sweep_abandon_overdue_dossiers(due + dt.timedelta(seconds=2)) == 0
    assert Dossier.objects.get(pk=dossier.pk).state == "abandoned"
    entries = AuditEntry.objects.filter(action="dossier.abandon")
    assert entries.count() == 1
    assert (entries[0].from_state, entries[0].to_state, entries[0].actor_repr) == (
        "changes_requested",
        "abandoned",
        "système: sweep:dossier_abandon",
    )
    assert (
        Notification.objects.filter(event="dossier_abandoned", recipient=world.member).count() == 1
    )
    assert sum("abandonné" in m.subject for m in mail.outbox) == 2  # member and signatory


def test_expire_sweep_moves_once(db):
    world = make_world()
    dossier = dossier_in(world, "approved")
    referencing = Referencing.objects.get(dossier=dossier)
    assert sweep_expire_referencings(referencing.valid_until) == 0
    assert sweep_expire_referencings(referencing.valid_until + dt.timedelta(microseconds=1)) == 1
    assert sweep_expire_referencings(referencing.valid_until + dt.timedelta(days=1)) == 0
    assert Referencing.objects.get(pk=referencing.pk).state == "expired"
    assert AuditEntry.objects.filter(action="referencing.expire").count() == 1


def test_suspended_referencings_do_not_expire_by_sweep(db):
    world = make_world()
    referencing = Referencing.objects.get(dossier=dossier_in(world, "approved"))
    services.referencing_suspend(actor=world.admin, referencing=referencing, reason="Contrôle")
    assert sweep_expire_referencings(referencing.valid_until + dt.timedelta(days=1)) == 0


def test_reminders_7_days_and_1_day_before_a_correction_is_due(
    db, django_capture_on_commit_callbacks
):
    world = make_world()
    dossier = dossier_in(world, "changes_requested")
    due = dossier.changes_due_at
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_dossier_reminders(due - dt.timedelta(days=8)) == 0
        assert sweep_dossier_reminders(due - dt.timedelta(days=7)) == 1
        assert sweep_dossier_reminders(due - dt.timedelta(days=6)) == 0  # already reminded at J-7
        assert sweep_dossier_reminders(due - dt.timedelta(hours=23)) == 1
        assert sweep_dossier_reminders(due - dt.timedelta(hours=1)) == 0
    reminders = Notification.objects.filter(event="reminder_changes_due", recipient=world.member)
    assert reminders.count() == 2
    assert "Rappel" in reminders[0].subject
    assert len([m for m in mail.outbox if m.subject.startswith("Rappel")]) == 4  # 2 members × 2


def test_reminders_before_the_submission_window_closes_on_a_draft(db):
    world = make_world()
    dossier_in(world, "draft")
    closes = world.scheme.submission_closes
    assert sweep_dossier_reminders(closes - dt.timedelta(days=3)) == 1
    assert sweep_dossier_reminders(closes - dt.timedelta(days=2)) == 0
    assert sweep_dossier_reminders(closes - dt.timedelta(hours=2)) == 1
    notification = Notification.objects.filter(event="reminder_submission_closes").first()
    assert "31 décembre 2035" in notification.subject


def test_run_sweeps_command_runs_all_or_named_ones(db, capsys):
    call_command("run_sweeps")
    out = capsys.readouterr().out
    for name in ("dossier_abandon", "dossier_reminders", "referencing_expire"):
        assert f"{name}: 0" in out
    call_command("run_sweeps", "referencing_expire")
    assert capsys.readouterr().out.strip() == "referencing_expire: 0"
    with pytest.raises(CommandError, match="inconnu"):
        call_command("run_sweeps", "nope")


def test_run_sweeps_task_is_idempotent(db):
    from core.tasks import run_sweeps

    world = make_world()
    dossier = dossier_in(world, "changes_requested", at=paris_instant(2026, 1, 5, 10))
    assert dossier.changes_due_at < paris_instant(2026, 11, 1)
    first = run_sweeps.delay().get()
    second = run_sweeps.delay().get()
    assert first["dossier_abandon"] == 1
    assert second["dossier_abandon"] == 0
    assert AuditEntry.objects.filter(action="dossier.abandon").count() == 1
