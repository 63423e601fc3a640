"""Establishment pages: orders to sign (or decline), installations to accept or reserve."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from orders import selectors as order_selectors
from orders import services as order_services
from orders.models import OrderState
from portal import forms
from portal.access import attempt, role_required
from portal.views.common import crumbs, paginate

establishment_only = role_required(Role.ESTABLISHMENT)


@establishment_only
def orders(request):
    qs = order_selectors.order_list_for_user(request.user).order_by("-created_at", "id")
    state = request.GET.get("state", "")
    if state in OrderState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "portal/establishment/orders.html",
        {
            **paginate(request, qs),
            "states": [c for c in OrderState.choices if c[0] != OrderState.DRAFT],
            "state": state,
            "breadcrumb": crumbs(("Bons de commande", None)),
        },
    )


@establishment_only
def order_detail(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    return render(
        request,
        "portal/establishment/order.html",
        {
            "order": order,
            "decline_form": forms.ReasonForm(prefix="decline"),
            "cancel_form": forms.ReasonForm(prefix="cancel"),
            "can_cancel": order_services.cancel_refusal(order, request.user) is None,
            "reserve_form": forms.ReserveForm(prefix="reserve"),
            "breadcrumb": crumbs(
                ("Bons de commande", reverse("portal:establishment_orders")), (str(order), None)
            ),
        },
    )


SIMPLE = {
    "signer": (order_services.purchase_order_sign, "Bon de commande signé."),
    "confirmer": (
        order_services.purchase_order_confirm_installation,
        "Installation confirmée : la mise à jour est installée.",
    ),
}
WITH_REASON = {
    "refuser": (order_services.purchase_order_decline, "decline", "Bon de commande refusé."),
    "annuler": (order_services.purchase_order_cancel, "cancel", "Bon de commande annulé."),
}


@establishment_only
@require_POST
def order_action(request, pk, action):
    user = request.user
    order = order_selectors.order_get_for_user(user, pk)
    back = redirect("portal:establishment_order", order.pk)
    if action in SIMPLE:
        service, success = SIMPLE[action]
        attempt(request, lambda: service(actor=user, order=order), success=success)
    elif action in WITH_REASON:
        service, prefix, success = WITH_REASON[action]
        form = forms.ReasonForm(request.POST, prefix=prefix)
        if not form.is_valid():
            messages.error(request, "Le motif est obligatoire.")
            return back
        attempt(
            request,
            lambda: service(actor=user, order=order, reason=form.cleaned_data["reason"]),
            success=success,
        )
    elif action == "reserver":
        form = forms.ReserveForm(request.POST, prefix="reserve")
        if not form.is_valid() or not form.lines():
            messages.error(request, "Indiquez au moins une réserve (une par ligne).")
            return back
        attempt(
            request,
            lambda: order_services.purchase_order_reserve(
                actor=user, order=order, reservations=form.lines()
            ),
            success="Réserves enregistrées : l'éditeur doit les lever.",
        )
    else:
        messages.error(request, "Action inconnue.")
    return back
