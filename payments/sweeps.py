"""Reminders before the payment deadline to vendors whose installed orders have no balance
request yet (7 days and 1 day before). Idempotent and locked."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from core.locks import job_lock
from core.reminders import due_soon, remind
from core.sweeps import register
from orders.models import OrderState, PurchaseOrder
from payments.models import LIVE_REQUEST_STATES, PaymentKind, PaymentRequest


@register("payment_reminders")
def sweep_payment_reminders(now: dt.datetime | None = None) -> int:
    """7 days and 1 day before the payment deadline: installed orders without a balance request."""
    now = now or timezone.now()
    with job_lock("sweep:payment_reminders") as acquired:
        if not acquired:
            return 0
        balance = PaymentRequest.objects.filter(
            order=OuterRef("pk"), kind=PaymentKind.BALANCE, state__in=LIVE_REQUEST_STATES
        )
        installed = PurchaseOrder.objects.filter(state=OrderState.INSTALLED).exclude(
            Exists(balance)
        )
        orders = list(
            due_soon(installed, "scheme__payment_deadline", now).select_related(
                "scheme", "establishment"
            )
        )
        members: dict = {}
        for user in User.objects.filter(
            vendor_id__in={o.vendor_id for o in orders}, is_active=True
        ):
            members.setdefault(user.vendor_id, []).append(user)
        return remind(
            now=now,
            objects=orders,
            kind="payment",
            event="reminder_payment_deadline",
            recipients_of=lambda order: members.get(order.vendor_id, []),
        )
