import datetime as dt
from decimal import Decimal

from core.models import Notification
from payments.models import PaymentRequest
from payments.sweeps import sweep_payment_reminders
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in


def test_payment_deadline_reminders_once_and_only_without_balance_request(db):
    ow = make_order_world()
    waiting = order_in(ow, "installed")
    clinic = EstablishmentFactory()
    requested = order_in(
        ow,
        "installed",
        establishment=clinic,
        signatory=UserFactory(role="establishment", establishment=clinic, signatory=True),
    )
    PaymentRequest.objects.create(
        order=requested, kind="balance", amount=Decimal("1"), requested_by=ow.member
    )
    due = ow.scheme.payment_deadline
    assert sweep_payment_reminders(due - dt.timedelta(days=8)) == 0
    assert sweep_payment_reminders(due - dt.timedelta(days=7)) == 1
    assert sweep_payment_reminders(due - dt.timedelta(days=5)) == 0
    assert sweep_payment_reminders(due - dt.timedelta(hours=20)) == 1
    assert sweep_payment_reminders(due - dt.timedelta(hours=2)) == 0
    assert sweep_payment_reminders(due + dt.timedelta(seconds=1)) == 0
    reminders = Notification.objects.filter(event="reminder_payment_deadline")
    assert set(reminders.values_list("object_id", flat=True)) == {str(waiting.pk)}
    assert reminders.filter(recipient=ow.member).count() == 2
