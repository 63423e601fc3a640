"""`/`: the public landing page, or the signed-in user's dashboard of tasks and deadlines."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role
from core.models import Notification
from orders import selectors as order_selectors
from orders.models import OrderState
from payments import selectors as payment_selectors
from payments.models import EligibilityRun, PaymentState
from portal import selectors
from referencing_app import selectors as ref_selectors
from referencing_app.models import DossierState
from sons.models import Scheme


def _notifications(user):
    return Notification.objects.filter(recipient=user).order_by("-created_at")[:5]


def _vendor(user) -> dict:
    dossiers = ref_selectors.dossier_list_for_user(user)
    orders = order_selectors.order_list_for_user(user)
    scheme_ids = set(dossiers.values_list("scheme_id", flat=True)) | set(
        orders.values_list("scheme_id", flat=True)
    )
    return {
        "dossier_tasks": selectors.vendor_dossier_tasks(dossiers),
        "orders_to_install": orders.filter(state=OrderState.SIGNED).order_by("signed_at")[:10],
        "orders_reserved": orders.filter(state=OrderState.RESERVED)[:10],
        "order_counts": [
            (OrderState(state).label, n) for state, n in selectors.order_counts(orders).items()
        ],
        "payments_open": payment_selectors.payment_request_list_for_user(user)
        .filter(state__in=[PaymentState.SUBMITTED, PaymentState.APPROVED])
        .order_by("-created_at")[:10],
        "deadlines": selectors.upcoming_deadlines(Scheme.objects.filter(pk__in=scheme_ids)),
    }


def _establishment(user) -> dict:
    orders = order_selectors.order_list_for_user(user)
    return {
        "orders_to_sign": orders.filter(state=OrderState.SENT).order_by("sent_at"),
        "installations_to_accept": orders.filter(state=OrderState.INSTALLATION_DECLARED).order_by(
            "declared_at"
        ),
        "orders_reserved": orders.filter(state=OrderState.RESERVED),
        "deadlines": selectors.upcoming_deadlines(
            Scheme.objects.filter(pk__in=orders.values("scheme_id"))
        ),
    }


def _reviewer(user) -> dict:
    return {"queue": ref_selectors.reviewer_queue(user)[:10]}


def _admin(user) -> dict:
    dossiers = ref_selectors.dossier_list_for_user(user)
    return {
        "to_assign": dossiers.filter(state=DossierState.SUBMITTED).order_by("last_submitted_at"),
        "in_review": dossiers.filter(state=DossierState.IN_REVIEW).order_by("last_submitted_at")[
            :10
        ],
        "deadlines": selectors.upcoming_deadlines(Scheme.objects.all()),
    }


def _officer(user) -> dict:
    requests = payment_selectors.payment_request_list_for_user(user)
    return {
        "to_approve": requests.filter(state=PaymentState.SUBMITTED).order_by("created_at")[:10],
        "to_pay": requests.filter(state=PaymentState.APPROVED).order_by("approved_at")[:10],
        "counts": {
            "submitted": requests.filter(state=PaymentState.SUBMITTED).count(),
            "approved": requests.filter(state=PaymentState.APPROVED).count(),
        },
        "last_run": EligibilityRun.objects.select_related("scheme").first(),
    }


def home(request):
    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html")
    if user.is_ans_admin:
        template, context = "portal/home/admin.html", _admin(user)
    elif user.role == Role.REVIEWER:
        template, context = "portal/home/reviewer.html", _reviewer(user)
    elif user.role == Role.VENDOR:
        template, context = "portal/home/vendor.html", _vendor(user)
    elif user.role == Role.ESTABLISHMENT:
        template, context = "portal/home/establishment.html", _establishment(user)
    elif user.role == Role.PAYMENT_OFFICER:
        template, context = "portal/home/officer.html", _officer(user)
    else:
        template, context = "portal/home/none.html", {}
    context["notifications"] = _notifications(user)
    context["now"] = timezone.now()
    return render(request, template, context)
