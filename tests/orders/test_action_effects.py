"""Each purchase-order action writes exactly one audit entry (who, from, to, why) and notifies the
other side — in-app rows with the change, emails only once it has committed."""

import pytest
from django.core import mail

from core.errors import Conflict, InvalidInput
from core.models import AuditEntry, Notification
from core.timeutils import paris_instant, paris_today
from orders import services
from sons.models import Scheme
from tests.factories.orders import make_order_world, order_in
from tests.factories.referencing import upload


def _declare(ow, order, report):
    return services.purchase_order_declare_installation(
        actor=ow.member, order=order, installed_on=paris_today(), version=ow.version, report=report
    )


VENDOR = "vendor"  # the vendor's members (plain member and legal signatory)
SIGNATORIES = "signatories"  # the establishment's signatories only
ESTABLISHMENT = "establishment"  # every member of the establishment

CASES = {
    # name: (start state, actor, call, audit action, to state, event, recipients, reason)
    "send": (
        "draft",
        "member",
        lambda ow, o, _report: services.purchase_order_send(actor=ow.member, order=o),
        "purchase_order.send",
        "sent",
        "order_sent",
        SIGNATORIES,
        "",
    ),
    "sign": (
        "sent",
        "signatory",
        lambda ow, o, _report: services.purchase_order_sign(actor=ow.signatory, order=o),
        "purchase_order.sign",
        "signed",
        "order_signed",
        VENDOR,
        "",
    ),
    "decline": (
        "sent",
        "staff",
        lambda ow, o, _report: services.purchase_order_decline(
            actor=ow.staff, order=o, reason="Doublon"
        ),
        "purchase_order.decline",
        "declined",
        "order_declined",
        VENDOR,
        "Doublon",
    ),
    "cancel by the vendor": (
        "signed",
        "member",
        lambda ow, o, _report: services.purchase_order_cancel(
            actor=ow.member, order=o, reason="Erreur"
        ),
        "purchase_order.cancel",
        "cancelled",
        "order_cancelled",
        ESTABLISHMENT,
        "Erreur",
    ),
    "cancel by the establishment": (
        "sent",
        "staff",
        lambda ow, o, _report: services.purchase_order_cancel(
            actor=ow.staff, order=o, reason="Budget"
        ),
        "purchase_order.cancel",
        "cancelled",
        "order_cancelled",
        VENDOR,
        "Budget",
    ),
    "declare-installation": (
        "signed",
        "member",
        _declare,
        "purchase_order.declare_installation",
        "installation_declared",
        "order_installation_declared",
        SIGNATORIES,
        "",
    ),
    "confirm-installation": (
        "installation_declared",
        "signatory",
        lambda ow, o, _report: services.purchase_order_confirm_installation(
            actor=ow.signatory, order=o
        ),
        "purchase_order.confirm_installation",
        "installed",
        "order_installed",
        VENDOR,
        "",
    ),
    "reserve": (
        "installation_declared",
        "signatory",
        lambda ow, o, _report: services.purchase_order_reserve(
            actor=ow.signatory, order=o, reservations=["Pas d'INSi"]
        ),
        "purchase_order.reserve",
        "reserved",
        "order_reserved",
        VENDOR,
        "",
    ),
    "lift-reservations": (
        "reserved",
        "member",
        lambda ow, o, _report: services.purchase_order_lift_reservations(actor=ow.member, order=o),
        "purchase_order.lift_reservations",
        "installation_declared",
        "order_reservations_lifted",
        SIGNATORIES,
        "",
    ),
}


def _recipients(ow, kind):
    return {
        VENDOR: {ow.member, ow.world.signatory},
        SIGNATORIES: {ow.signatory},
        ESTABLISHMENT: {ow.signatory, ow.staff},
    }[kind]


@pytest.mark.parametrize("name", list(CASES))
def test_action_writes_one_audit_entry_and_notifies(db, django_capture_on_commit_callbacks, name):
    start, who, call, audit_action, to_state, event, recipients, reason = CASES[name]
    ow = make_order_world()
    order = order_in(ow, start)
    report = upload(ow.world, "pv.pdf")
    seq_before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order = call(ow, order, report)
    assert order.state == to_state
    new_entries = AuditEntry.objects.filter(seq__gt=seq_before)
    assert [e.action for e in new_entries] == [audit_action]  # exactly one, this one
    entry = new_entries.get()
    actor = getattr(ow, who)
    assert (entry.actor_id, entry.object_id, entry.from_state, entry.to_state, entry.reason) == (
        actor.pk,
        str(order.pk),
        start,
        to_state,
        reason,
    )
    expected = _recipients(ow, recipients)
    notified = Notification.objects.filter(event=event, object_id=str(order.pk))
    assert {n.recipient for n in notified} == expected
    assert all(n.subject and n.body for n in notified)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in expected)
    if reason:
        assert all(reason in m.body for m in mail.outbox)


def test_a_refused_action_notifies_nobody(db, django_capture_on_commit_callbacks):
    ow = make_order_world()
    order = order_in(ow, "sent")
    Scheme.objects.filter(pk=ow.scheme.pk).update(order_deadline=paris_instant(2025, 6, 30))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Conflict):
            services.purchase_order_sign(actor=ow.signatory, order=order)
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.filter(event="order_signed").exists()
    assert not AuditEntry.objects.filter(action="purchase_order.sign").exists()


def test_create_is_audited_with_its_values(db):
    ow = make_order_world()
    order = order_in(ow, "draft")
    entry = AuditEntry.objects.get(action="purchase_order.create", object_id=str(order.pk))
    assert entry.to_state == "draft"
    assert entry.changes == {
        "amount": [None, "20000.00"],
        "establishment": [None, str(ow.establishment.pk)],
        "scheme": [None, ow.scheme.code],
        "solution_version": [None, str(ow.version.pk)],
    }


@pytest.mark.parametrize("reason", ["", "   "])
def test_decline_and_cancel_need_a_reason(db, reason):
    ow = make_order_world()
    order = order_in(ow, "sent")
    for call in (services.purchase_order_decline, services.purchase_order_cancel):
        with pytest.raises(InvalidInput) as refused:
            call(actor=ow.signatory, order=order, reason=reason)
        assert refused.value.errors[0].attr == "reason"
