"""The orders sweeps: lapse at the installation deadline, tacit acceptance, reminders before the
order and installation deadlines. Each is idempotent: run twice, one effect."""

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import Conflict
from core.models import AuditEntry, Notification
from core.tasks import run_sweeps
from core.timeutils import end_of_day_paris, paris_today
from orders import services
from orders.sweeps import sweep_lapse_orders, sweep_order_reminders, sweep_tacit_acceptance
from tests.factories.orders import make_order_world, order_in
from tests.orders.helpers import audit_of, customer, reload

MICRO = dt.timedelta(microseconds=1)


# --- lapse --------------------------------------------------------------------------------------
def test_lapse_at_the_installation_deadline_once(db):
    ow = make_order_world()
    lapsable = {}
    for state in ("signed", "installation_declared", "reserved"):
        establishment, signatory = customer()
        lapsable[state] = order_in(ow, state, establishment=establishment, signatory=signatory)
    kept = {
        "installed": order_in(ow, "installed"),
        "sent": order_in(ow, "sent", establishment=customer()[0]),
        "draft": order_in(ow, "draft"),
    }
    deadline = ow.scheme.installation_deadline
    assert sweep_lapse_orders(deadline) == 0  # the deadline itself is still in time
    assert sweep_lapse_orders(deadline + MICRO) == 3
    assert sweep_lapse_orders(deadline + dt.timedelta(days=1)) == 0  # run again: nothing
    for state, order in lapsable.items():
        order = reload(order)
        assert (order.state, order.ended_at) == ("lapsed", deadline + MICRO)
        assert order.end_reason
        entry = audit_of(order, "purchase_order.lapse").get()
        assert (entry.from_state, entry.to_state, entry.actor_repr) == (
            state,
            "lapsed",
            "système: sweep:order_lapse",
        )
    for state, order in kept.items():
        assert reload(order).state == state
    assert AuditEntry.objects.filter(action="purchase_order.lapse").count() == 3


def test_lapse_only_the_schemes_whose_deadline_passed(db):
    ow = make_order_world()
    later = make_order_world(installation_deadline=end_of_day_paris(dt.date(2037, 12, 31)))
    mine = order_in(ow, "signed")
    theirs = order_in(later, "signed")
    assert sweep_lapse_orders(ow.scheme.installation_deadline + MICRO) == 1
    assert (reload(mine).state, reload(theirs).state) == ("lapsed", "signed")


def test_a_lapsed_order_can_no_longer_be_confirmed_or_declared(db):
    ow = make_order_world()
    order = order_in(ow, "lapsed")
    with pytest.raises(Conflict) as refused:
        services.purchase_order_cancel(actor=ow.member, order=order, reason="trop tard")
    assert refused.value.codes == ["TRANSITION_NOT_ALLOWED"]


# --- tacit acceptance -------------------------------------------------------------------------
def test_tacit_acceptance_after_the_delay_once(db, django_capture_on_commit_callbacks):
    ow = make_order_world(tacit_acceptance_days=15)
    order = order_in(ow, "installation_declared")
    declared_at = order.declared_at
    due = declared_at + dt.timedelta(days=15)
    assert sweep_tacit_acceptance(due - MICRO) == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_tacit_acceptance(due) == 1
        assert sweep_tacit_acceptance(due + dt.timedelta(days=3)) == 0
    order = reload(order)
    assert (order.state, order.tacit_acceptance, order.accepted_at, order.accepted_by) == (
        "installed",
        True,
        due,  # accepted at the end of the delay, not when the sweep ran
        None,
    )
    entry = audit_of(order, "purchase_order.tacit_acceptance").get()
    assert (entry.from_state, entry.to_state) == ("installation_declared", "installed")
    assert "15" in entry.reason
    assert {n.recipient for n in Notification.objects.filter(event="order_installed")} == {
        ow.member,
        ow.world.signatory,
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [ow.member.email, ow.world.signatory.email]
    )


def test_no_tacit_acceptance_where_the_scheme_has_none(db):
    ow = make_order_world(tacit_acceptance_days=None)
    order = order_in(ow, "installation_declared")
    assert sweep_tacit_acceptance(order.declared_at + dt.timedelta(days=200)) == 0
    assert reload(order).state == "installation_declared"
    assert not AuditEntry.objects.filter(action="purchase_order.tacit_acceptance").exists()


def test_reserved_orders_are_never_tacitly_accepted(db):
    ow = make_order_world(tacit_acceptance_days=15)
    order = order_in(ow, "reserved")
    assert sweep_tacit_acceptance(order.declared_at + dt.timedelta(days=60)) == 0
    assert reload(order).state == "reserved"


def test_lifting_reservations_starts_the_delay_again(db):
    ow = make_order_world(tacit_acceptance_days=15)
    order = order_in(ow, "reserved")
    lifted_at = order.declared_at + dt.timedelta(days=10)
    services.purchase_order_lift_reservations(actor=ow.member, order=order, at=lifted_at)
    assert sweep_tacit_acceptance(order.declared_at + dt.timedelta(days=20)) == 0
    assert sweep_tacit_acceptance(lifted_at + dt.timedelta(days=15)) == 1
    assert reload(order).accepted_at == lifted_at + dt.timedelta(days=15)


def test_tacit_acceptance_only_before_the_installation_deadline(db):
    now = timezone.now()
    ow = make_order_world(
        tacit_acceptance_days=15,
        order_deadline=now + dt.timedelta(days=1),
        installation_deadline=now + dt.timedelta(days=10),
    )
    order = order_in(ow, "installation_declared")
    # the delay ends after the deadline: never tacitly accepted, lapsed instead
    assert sweep_tacit_acceptance(now + dt.timedelta(days=30)) == 0
    assert sweep_lapse_orders(now + dt.timedelta(days=30)) == 1
    assert reload(order).state == "lapsed"


def test_acceptance_due_before_the_deadline_wins_over_the_lapse_whatever_the_order(db):
    """The scheduler runs the sweeps by name (order_lapse before order_tacit_acceptance): a
    declaration accepted tacitly before the deadline must not be lapsed by a late run."""
    now = timezone.now()
    ow = make_order_world(
        tacit_acceptance_days=15,
        order_deadline=now + dt.timedelta(days=1),
        installation_deadline=now + dt.timedelta(days=20),
    )
    order = order_in(ow, "installation_declared")
    late_run = now + dt.timedelta(days=40)  # the sweeps did not run for a while
    assert sweep_lapse_orders(late_run) == 0
    assert sweep_tacit_acceptance(late_run) == 1
    order = reload(order)
    assert (order.state, order.accepted_at) == ("installed", order.declared_at + dt.timedelta(15))
    assert order.accepted_at <= ow.scheme.installation_deadline
    assert sweep_lapse_orders(late_run) == 0
    assert reload(order).state == "installed"


def test_run_sweeps_task_runs_them_all_idempotently(db):
    ow = make_order_world()
    order = order_in(ow, "signed")
    later = ow.scheme.installation_deadline + dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        first = run_sweeps(["order_lapse", "order_tacit_acceptance", "order_reminders"])
        second = run_sweeps(["order_lapse", "order_tacit_acceptance", "order_reminders"])
    assert first["order_lapse"] == 1
    assert second == {"order_lapse": 0, "order_tacit_acceptance": 0, "order_reminders": 0}
    assert reload(order).state == "lapsed"


# --- reminders ----------------------------------------------------------------------------------
def _reminders(event, order=None):
    qs = Notification.objects.filter(event=event)
    return qs.filter(object_id=str(order.pk)) if order is not None else qs


def test_order_deadline_reminders_7_and_1_days_before_to_signatories_once_each(db):
    deadline = end_of_day_paris(paris_today() + dt.timedelta(days=30))
    ow = make_order_world(order_deadline=deadline)
    sent = order_in(ow, "sent")
    signed = order_in(ow, "signed", establishment=customer()[0])
    event = "reminder_order_deadline"
    assert sweep_order_reminders(deadline - dt.timedelta(days=8)) == 0
    assert sweep_order_reminders(deadline - dt.timedelta(days=7)) == 1
    assert sweep_order_reminders(deadline - dt.timedelta(days=6)) == 0
    assert sweep_order_reminders(deadline - dt.timedelta(days=2)) == 0
    assert sweep_order_reminders(deadline - dt.timedelta(days=1)) == 1
    assert sweep_order_reminders(deadline - dt.timedelta(hours=1)) == 0
    assert sweep_order_reminders(deadline + MICRO) == 0
    reminders = _reminders(event, sent)
    assert [n.recipient for n in reminders] == [ow.signatory, ow.signatory]  # not the staff
    bodies = sorted(n.body for n in reminders)
    assert any("7 jours" in b for b in bodies)
    assert any("1 jour " in b or "1 jour," in b for b in bodies)
    assert not _reminders(event, signed).exists()


def test_order_deadline_reminder_when_the_sweep_only_runs_on_the_last_day(db):
    deadline = end_of_day_paris(paris_today() + dt.timedelta(days=30))
    ow = make_order_world(order_deadline=deadline)
    order = order_in(ow, "sent")
    assert sweep_order_reminders(deadline - dt.timedelta(hours=12)) == 1
    assert sweep_order_reminders(deadline - dt.timedelta(hours=11)) == 0
    assert _reminders("reminder_order_deadline", order).count() == 1


@pytest.mark.parametrize(
    ("state", "event", "who"),
    [
        ("signed", "reminder_installation_deadline_vendor", "vendor"),
        ("reserved", "reminder_installation_deadline_vendor", "vendor"),
        ("installation_declared", "reminder_installation_deadline_establishment", "signatory"),
    ],
)
def test_installation_deadline_reminders_to_whoever_acts_next_once_each(db, state, event, who):
    ow = make_order_world()
    order = order_in(ow, state)
    deadline = ow.scheme.installation_deadline
    runs = [
        deadline - dt.timedelta(days=7, hours=1),
        deadline - dt.timedelta(days=7),
        deadline - dt.timedelta(days=5),
        deadline - dt.timedelta(days=1),
        deadline - dt.timedelta(hours=2),
    ]
    assert [sweep_order_reminders(now) for now in runs] == [0, 1, 0, 1, 0]
    expected = {ow.member, ow.world.signatory} if who == "vendor" else {ow.signatory}
    reminders = _reminders(event, order)
    assert reminders.count() == 2 * len(expected)
    assert {n.recipient for n in reminders} == expected


def test_no_installation_reminder_for_orders_already_installed(db):
    ow = make_order_world()
    order_in(ow, "installed")
    deadline = ow.scheme.installation_deadline
    assert sweep_order_reminders(deadline - dt.timedelta(days=1)) == 0
