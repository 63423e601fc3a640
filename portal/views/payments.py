"""Paying-agency pages: the payment queue (eligibility as of the last batch check), payment
requests (approve, reject, mark paid), batches and their exports, vendor enrolment, the
eligibility batch runs (launch and follow), an order's payments and its cancellation by ANS or
the paying agency, and the recoveries that follows when money was paid."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from orders import selectors as order_selectors
from orders import services as order_services
from payments import eligibility, exports, services
from payments import selectors as payment_selectors
from payments.models import (
    EligibilityRun,
    PaymentBatch,
    PaymentRequest,
    PaymentState,
    RecoveryState,
)
from portal import forms
from portal.access import attempt, role_required
from portal.views.common import crumbs, paginate
from vendors import selectors as vendor_selectors

officer_only = role_required(Role.PAYMENT_OFFICER)
payment_readers = role_required(Role.PAYMENT_OFFICER, Role.ANS_ADMIN)
recovery_readers = role_required(Role.PAYMENT_OFFICER, Role.ANS_ADMIN, Role.REVIEWER)


def _by_state(request, qs, states, default):
    """The list filtered by `?state=` (`default` when absent; any other value: every state)."""
    state = request.GET.get("state", default)
    if state in states.values:
        return qs.filter(state=state), state
    return qs, ""


@payment_readers
def queue(request):
    form = forms.PaymentQueueFilterForm(request.GET or None)
    filters = form.filters() if request.GET else forms.PaymentQueueFilterForm().filters()
    qs = payment_selectors.payment_queue(**filters)
    return render(
        request,
        "portal/payments/queue.html",
        {
            **paginate(request, qs),
            "form": form,
            "kind": filters["kind"],
            "last_run": EligibilityRun.objects.select_related("scheme").first(),
            "breadcrumb": crumbs(("File de paiement", None)),
        },
    )


@payment_readers
def requests(request):
    qs = payment_selectors.payment_request_list_for_user(request.user).order_by("created_at", "id")
    qs, state = _by_state(request, qs, PaymentState, PaymentState.SUBMITTED)
    return render(
        request,
        "portal/payments/requests.html",
        {
            **paginate(request, qs),
            "states": PaymentState.choices,
            "state": state,
            "breadcrumb": crumbs(("Demandes de paiement", None)),
        },
    )


@payment_readers
def request_detail(request, pk):
    payment_request = payment_selectors.payment_request_get_for_user(request.user, pk)
    reasons = eligibility.order_reasons(payment_request.order_id).for_kind(payment_request.kind)
    # the request itself and its filing time are not reasons to refuse it (as at approval)
    reasons = [c for c in reasons if c not in ("ALREADY_REQUESTED", "REQUEST_AFTER_DEADLINE")]
    return render(
        request,
        "portal/payments/request.html",
        {
            "payment_request": payment_request,
            "order": payment_request.order,
            "reasons": reasons,
            "actions": services.payment_request_actions(payment_request, request.user),
            "reject_form": forms.ReasonForm(prefix="reject"),
            "paid_form": forms.MarkPaidForm(prefix="paid"),
            "breadcrumb": crumbs(
                ("Demandes de paiement", reverse("portal:payment_requests")),
                (
                    f"{payment_request.get_kind_display()} — {payment_request.order.establishment}",
                    None,
                ),
            ),
        },
    )


@officer_only
@require_POST
def request_action(request, pk, action):
    user = request.user
    payment_request = payment_selectors.payment_request_get_for_user(user, pk)
    back = redirect("portal:payment_request", payment_request.pk)
    if action == "valider":
        attempt(
            request,
            lambda: services.payment_request_approve(actor=user, request=payment_request),
            success="Demande validée : elle sera payée avec le prochain lot.",
        )
    elif action == "rejeter":
        form = forms.ReasonForm(request.POST, prefix="reject")
        if not form.is_valid():
            messages.error(request, "Le motif est obligatoire.")
            return back
        attempt(
            request,
            lambda: services.payment_request_reject(
                actor=user, request=payment_request, reason=form.cleaned_data["reason"]
            ),
            success="Demande rejetée.",
        )
    elif action == "payer":
        form = forms.MarkPaidForm(request.POST, prefix="paid")
        if not form.is_valid():
            messages.error(request, "Indiquez la référence du virement.")
            return back
        attempt(
            request,
            lambda: services.payment_request_mark_paid(
                actor=user,
                request=payment_request,
                payment_reference=form.cleaned_data["payment_reference"],
            ),
            success="Demande marquée payée.",
        )
    else:
        messages.error(request, "Action inconnue.")
    return back


@payment_readers
def batches(request):
    if request.method == "POST":
        if not request.user.has_role(Role.PAYMENT_OFFICER):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        ok, batch = attempt(request, lambda: services.payment_batch_create(actor=request.user))
        if ok:
            messages.success(
                request, f"Lot {batch.reference} constitué : {batch.count} demande(s)."
            )
        return redirect("portal:payment_batches")
    qs = PaymentBatch.objects.select_related("created_by").order_by("-created_at")
    pending = payment_selectors.payment_request_list_for_user(request.user).filter(
        state=PaymentState.APPROVED, batch__isnull=True
    )
    return render(
        request,
        "portal/payments/batches.html",
        {
            **paginate(request, qs),
            "pending_count": pending.count(),
            "breadcrumb": crumbs(("Lots de paiement", None)),
        },
    )


@payment_readers
def batch_export(request, pk, fmt):
    """The batch's file: only what is payable at this instant (payments.exports); nothing
    payable any more → back to the batches, with the reason."""
    batch = get_object_or_404(PaymentBatch, pk=pk)
    export = exports.batch_csv if fmt == "csv" else exports.batch_sepa_xml
    ok, content = attempt(request, lambda: export(batch))
    if not ok:
        return redirect("portal:payment_batches")
    if fmt == "csv":
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{batch.reference}.{fmt}"'
    return response


@payment_readers
def vendors(request):
    qs = vendor_selectors.vendor_list_for_user(request.user)
    return render(
        request,
        "portal/payments/vendors.html",
        {**paginate(request, qs), "breadcrumb": crumbs(("Enrôlement des éditeurs", None))},
    )


@officer_only
@require_POST
def vendor_enrol(request, pk):
    vendor = vendor_selectors.vendor_get_for_user(request.user, pk)
    attempt(
        request,
        lambda: services.vendor_enrol(actor=request.user, vendor=vendor),
        success=f"{vendor.name} est enrôlé auprès de l'ASP.",
    )
    return redirect("portal:payment_vendors")


# --- eligibility batch runs ------------------------------------------------------------------------
def _runs():
    return EligibilityRun.objects.select_related("scheme").order_by("-started_at")


@payment_readers
def runs(request):
    form = forms.EligibilityRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from payments.services import eligibility_check_launch

        codes = form.cleaned_data["schemes"] or None
        ok, _job = attempt(
            request,
            lambda: eligibility_check_launch(
                actor=request.user,
                scheme_codes=codes,
                triggered_by=f"portail:{request.user.get_username()}",
            ),
            form=form,
        )
        if ok:  # recorded: a worker runs it, at once or within a minute if the broker is down
            messages.success(
                request,
                "Contrôle d'éligibilité lancé. La liste ci-dessous se met à jour toute seule.",
            )
            since = int(timezone.now().timestamp())
            return redirect(f"{reverse('portal:eligibility_runs')}?depuis={since}")
    context = {**_runs_context(request), "form": form}
    context["breadcrumb"] = crumbs(("Contrôles d'éligibilité", None))
    return render(request, "portal/payments/runs.html", context)


FOLLOW_SECONDS = 600


def _runs_context(request) -> dict:
    """The runs, and whether the page should keep polling: a run is going on, or a run was just
    launched (`?depuis=<timestamp>`) and the worker has not started it yet."""
    context = paginate(request, _runs(), size=20)
    running = any(run.finished_at is None for run in context["rows"])
    since = request.GET.get("depuis", "")
    waiting = False
    if since.isdigit():
        launched = dt.datetime.fromtimestamp(int(since), tz=dt.UTC)
        recent = timezone.now() - launched < dt.timedelta(seconds=FOLLOW_SECONDS)
        waiting = recent and not EligibilityRun.objects.filter(started_at__gte=launched).exists()
    context.update({"running": running, "waiting": waiting, "since": since if waiting else ""})
    return context


@payment_readers
def runs_status(request):
    """The runs table alone, polled by htmx while a run is going on (or about to start)."""
    return render(request, "portal/payments/_runs_table.html", _runs_context(request))


# --- an order's payments, its cancellation, recoveries -----------------------------------------
@payment_readers
def order_detail(request, pk):
    """An order seen by the paying agency or ANS: its payment requests, its recovery, and —
    for whoever may — its cancellation (a funded one opens a recovery of what was paid)."""
    order = order_selectors.order_get_for_user(request.user, pk)
    return render(
        request,
        "portal/payments/order.html",
        {
            "order": order,
            "payment_requests": PaymentRequest.objects.filter(order=order).order_by("created_at"),
            "recovery": payment_selectors.recovery_list_for_user(request.user)
            .filter(purchase_order=order)
            .first(),
            "can_cancel": order_services.cancel_refusal(order, request.user) is None,
            "cancel_form": forms.ReasonForm(prefix="cancel"),
            "breadcrumb": crumbs(
                ("Demandes de paiement", reverse("portal:payment_requests")),
                (f"Bon de commande — {order.establishment}", None),
            ),
        },
    )


@payment_readers
@require_POST
def order_cancel(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    form = forms.ReasonForm(request.POST, prefix="cancel")
    if not form.is_valid():
        messages.error(request, "Le motif est obligatoire.")
    else:
        attempt(
            request,
            lambda: order_services.purchase_order_cancel(
                actor=request.user, order=order, reason=form.cleaned_data["reason"]
            ),
            success="Bon de commande annulé. Ce qui était payé est à recouvrer auprès de l'éditeur.",
        )
    return redirect("portal:payment_order", order.pk)


@recovery_readers
def recoveries(request):
    qs = payment_selectors.recovery_list_for_user(request.user).order_by("due_on", "id")
    qs, state = _by_state(request, qs, RecoveryState, RecoveryState.OPEN)
    return render(
        request,
        "portal/payments/recoveries.html",
        {
            **paginate(request, qs),
            "states": RecoveryState.choices,
            "state": state,
            "breadcrumb": crumbs(("Recouvrements", None)),
        },
    )


@recovery_readers
def recovery_detail(request, pk):
    recovery = payment_selectors.recovery_get_for_user(request.user, pk)
    return render(
        request,
        "portal/payments/recovery.html",
        {
            "recovery": recovery,
            "order": recovery.purchase_order,
            "actions": services.recovery_actions(recovery, request.user),
            "recovered_form": forms.RecoveredForm(prefix="recovered"),
            "write_off_form": forms.ReasonForm(prefix="write_off"),
            "breadcrumb": crumbs(
                ("Recouvrements", reverse("portal:payment_recoveries")),
                (f"{recovery.establishment} — {recovery.scheme.code}", None),
            ),
        },
    )


@officer_only
@require_POST
def recovery_action(request, pk, action):
    user = request.user
    recovery = payment_selectors.recovery_get_for_user(user, pk)
    if action == "recouvre":
        form = forms.RecoveredForm(request.POST, prefix="recovered")
        if not form.is_valid():
            messages.error(request, "Indiquez la référence du remboursement.")
        else:
            attempt(
                request,
                lambda: services.recovery_mark_recovered(
                    actor=user,
                    recovery=recovery,
                    payment_reference=form.cleaned_data["payment_reference"],
                ),
                success="Recouvrement soldé : l'établissement peut de nouveau être financé.",
            )
    elif action == "non-valeur":
        form = forms.ReasonForm(request.POST, prefix="write_off")
        if not form.is_valid():
            messages.error(request, "Le motif est obligatoire.")
        else:
            attempt(
                request,
                lambda: services.recovery_write_off(
                    actor=user, recovery=recovery, reason=form.cleaned_data["reason"]
                ),
                success="Recouvrement admis en non-valeur.",
            )
    else:
        messages.error(request, "Action inconnue.")
    return redirect("portal:payment_recovery", recovery.pk)
