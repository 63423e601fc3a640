"""Reminders before the payment deadline to vendors whose installed orders have no balance
request yet (7 days and 1 day before). Idempotent and locked."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import User
from core.locks import job_lock
from core.models import SentReminder
from core.notifications import notify
from core.sweeps import register
from orders.models import OrderState, PurchaseOrder
from payments.models import LIVE_REQUEST_STATES, PaymentKind, PaymentRequest

REMINDER_OFFSETS = (7, 1)


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
        horizon = now + dt.timedelta(days=max(REMINDER_OFFSETS))
        orders = list(
            PurchaseOrder.objects.filter(
                state=OrderState.INSTALLED,
                scheme__payment_deadline__gt=now,
                scheme__payment_deadline__lte=horizon,
            )
            .exclude(Exists(balance))
            .annotate(due=F("scheme__payment_deadline"))
            .select_related("scheme", "establishment")
        )
        members: dict = {}
        for user in User.objects.filter(
            vendor_id__in={o.vendor_id for o in orders}, is_active=True
        ):
            members.setdefault(user.vendor_id, []).append(user)
        sent = 0
        for order in orders:
            offset = next(
                d for d in sorted(REMINDER_OFFSETS) if order.due - now <= dt.timedelta(days=d)
            )
            if not SentReminder.objects.get_or_create(
                key=f"payment:{order.pk}:{order.due.isoformat()}:{offset}"
            )[1]:
                continue
            notify(
                recipients=members.get(order.vendor_id, []),
                event="reminder_payment_deadline",
                obj=order,
                context={"due_at": order.due, "days": offset},
            )
            sent += 1
        return sent
