"""Reactions of the orders app to the referencing app's events (registered in ready())."""

from __future__ import annotations

from django.utils import timezone

from core.audit import ObjectRef, audit_record_many
from core.notifications import notify
from orders.models import OrderState, PurchaseOrder
from referencing_app import hooks


def void_pre_referencing_orders(dossier, actor) -> int:
    """Orders signed before referencing become void when their dossier ends without it."""
    now = timezone.now()
    orders = PurchaseOrder.objects.filter(
        pre_referencing_dossier=dossier, referencing__isnull=True, state=OrderState.SIGNED
    )
    ids = list(orders.values_list("id", flat=True))
    if not ids:
        return 0
    moved = PurchaseOrder.objects.filter(pk__in=ids, state=OrderState.SIGNED).update(
        state=OrderState.VOID,
        ended_at=now,
        end_reason=f"Dossier {dossier.get_state_display().lower()}",
        updated_at=now,
    )
    audit_record_many(
        actor=actor,
        action="purchase_order.void",
        objects=[ObjectRef("orders.purchaseorder", str(pk)) for pk in ids],
        from_state=OrderState.SIGNED,
        to_state=OrderState.VOID,
        reason=f"Dossier de pré-référencement {dossier.state}",
        at=now,
    )
    from accounts.models import User
    from orders.services import order_ended_hooks

    for order in PurchaseOrder.objects.filter(pk__in=ids).select_related("scheme", "establishment"):
        order_ended_hooks(order, actor, now, order.end_reason)
        recipients = User.objects.filter(
            establishment_id=order.establishment_id, is_active=True
        ) | User.objects.filter(vendor_id=order.vendor_id, is_active=True)
        notify(recipients=list(recipients), event="order_void", obj=order)
    return moved


def attach_referencing_to_pre_referencing_orders(dossier, referencing, actor) -> int:
    ids = list(
        PurchaseOrder.objects.filter(
            pre_referencing_dossier=dossier, referencing__isnull=True
        ).values_list("id", flat=True)
    )
    if not ids:
        return 0
    PurchaseOrder.objects.filter(pk__in=ids).update(
        referencing=referencing, updated_at=timezone.now()
    )
    audit_record_many(
        actor=actor,
        action="purchase_order.referenced",
        objects=[ObjectRef("orders.purchaseorder", str(pk)) for pk in ids],
        changes={"referencing": [None, referencing.reference]},
    )
    return len(ids)


hooks.DOSSIER_ENDED.append(void_pre_referencing_orders)
hooks.DOSSIER_APPROVED.append(attach_referencing_to_pre_referencing_orders)
