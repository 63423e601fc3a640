"""Periodic sweeps of the orders app: lapse at the installation deadline, tacit acceptance, and
reminders before the order and installation deadlines. Idempotent, locked, set-based."""

from __future__ import annotations

import datetime as dt

from django.db.models import DateTimeField, ExpressionWrapper, F
from django.utils import timezone

from accounts.models import User
from core.audit import ObjectRef, audit_record_many
from core.locks import job_lock
from core.notifications import notify
from core.reminders import due_soon, remind
from core.sweeps import isolated, register
from orders.models import OrderState, PurchaseOrder
from sons.models import Scheme

LAPSABLE = [OrderState.SIGNED, OrderState.INSTALLATION_DECLARED, OrderState.RESERVED]


@register("order_lapse")
def sweep_lapse_orders(now: dt.datetime | None = None) -> int:
    """Signed, declared or reserved orders past the installation deadline → `lapsed`."""
    now = now or timezone.now()
    with job_lock("sweep:order_lapse") as acquired:
        if not acquired:
            return 0
        due = PurchaseOrder.objects.filter(
            state__in=LAPSABLE, scheme__installation_deadline__lt=now
        )
        # a declaration whose tacit acceptance fell due on or before the deadline was accepted in
        # time: leave it to the tacit-acceptance sweep, whichever of the two runs first
        for scheme in Scheme.objects.filter(
            tacit_acceptance_days__isnull=False, installation_deadline__lt=now
        ):
            due = due.exclude(
                scheme=scheme,
                state=OrderState.INSTALLATION_DECLARED,
                declared_at__lte=scheme.installation_deadline
                - dt.timedelta(days=scheme.tacit_acceptance_days),
            )
        rows = list(due.values_list("id", "state"))

        def lapse(rows):
            moved = PurchaseOrder.objects.filter(
                pk__in=[pk for pk, _ in rows], state__in=LAPSABLE
            ).update(
                state=OrderState.LAPSED,
                ended_at=now,
                end_reason="Date limite d'installation dépassée",
                updated_at=now,
            )
            for state in {s for _, s in rows}:
                audit_record_many(
                    actor="sweep:order_lapse",
                    action="purchase_order.lapse",
                    objects=[
                        ObjectRef("orders.purchaseorder", str(pk)) for pk, s in rows if s == state
                    ],
                    from_state=state,
                    to_state=OrderState.LAPSED,
                    reason="Date limite d'installation dépassée",
                    at=now,
                )
            return moved

        return isolated(rows, lapse, key=lambda row: row[0])


@register("order_tacit_acceptance")
def sweep_tacit_acceptance(now: dt.datetime | None = None) -> int:
    """Declarations left unanswered `tacit_acceptance_days` → `installed`, accepted at the end of
    the delay (where the scheme sets one, and only before its installation deadline)."""
    now = now or timezone.now()
    moved_total = 0
    with job_lock("sweep:order_tacit_acceptance") as acquired:
        if not acquired:
            return 0
        for scheme in Scheme.objects.filter(tacit_acceptance_days__isnull=False):
            delay = dt.timedelta(days=scheme.tacit_acceptance_days)
            due = PurchaseOrder.objects.filter(
                scheme=scheme,
                state=OrderState.INSTALLATION_DECLARED,
                declared_at__lte=min(now, scheme.installation_deadline) - delay,
            )
            ids = list(due.values_list("id", flat=True))

            def accept(ids, scheme=scheme, delay=delay):
                moved = PurchaseOrder.objects.filter(
                    pk__in=ids, state=OrderState.INSTALLATION_DECLARED
                ).update(
                    state=OrderState.INSTALLED,
                    tacit_acceptance=True,
                    updated_at=now,
                    accepted_at=ExpressionWrapper(
                        F("declared_at") + delay, output_field=DateTimeField()
                    ),
                )
                audit_record_many(
                    actor="sweep:order_tacit_acceptance",
                    action="purchase_order.tacit_acceptance",
                    objects=[ObjectRef("orders.purchaseorder", str(pk)) for pk in ids],
                    from_state=OrderState.INSTALLATION_DECLARED,
                    to_state=OrderState.INSTALLED,
                    reason=f"Acceptation tacite après {scheme.tacit_acceptance_days} jours",
                    at=now,
                )
                members: dict = {}
                for user in User.objects.filter(
                    vendor__orders__pk__in=ids, is_active=True
                ).distinct():
                    members.setdefault(user.vendor_id, []).append(user)
                for order in PurchaseOrder.objects.filter(pk__in=ids).select_related(
                    "scheme", "establishment"
                ):
                    notify(
                        recipients=members.get(order.vendor_id, []),
                        event="order_installed",
                        obj=order,
                    )
                return moved

            moved_total += isolated(ids, accept)
        return moved_total


def _remind(now, queryset, deadline_field: str, event: str, kind: str, recipients_of) -> int:
    candidates = due_soon(queryset, deadline_field, now).select_related(
        "scheme", "establishment", "vendor"
    )
    return remind(now=now, objects=candidates, kind=kind, event=event, recipients_of=recipients_of)


@register("order_reminders")
def sweep_order_reminders(now: dt.datetime | None = None) -> int:
    """7 days and 1 day before: the order deadline (orders awaiting signature, to the
    establishment's signatories) and the installation deadline (to whoever must act next)."""
    now = now or timezone.now()
    with job_lock("sweep:order_reminders") as acquired:
        if not acquired:
            return 0

        def signatories(order):
            return list(
                User.objects.filter(
                    establishment_id=order.establishment_id, signatory=True, is_active=True
                )
            )

        def vendor_members(order):
            return list(User.objects.filter(vendor_id=order.vendor_id, is_active=True))

        sent = _remind(
            now,
            PurchaseOrder.objects.filter(state=OrderState.SENT),
            "scheme__order_deadline",
            "reminder_order_deadline",
            "order_deadline",
            signatories,
        )
        sent += _remind(
            now,
            PurchaseOrder.objects.filter(state__in=[OrderState.SIGNED, OrderState.RESERVED]),
            "scheme__installation_deadline",
            "reminder_installation_deadline_vendor",
            "installation_vendor",
            vendor_members,
        )
        sent += _remind(
            now,
            PurchaseOrder.objects.filter(state=OrderState.INSTALLATION_DECLARED),
            "scheme__installation_deadline",
            "reminder_installation_deadline_establishment",
            "installation_establishment",
            signatories,
        )
        return sent
