"""Vendor pages: solutions and versions, dossiers (editor, statements, evidence, submission),
purchase orders (create, send, declare installation, lift reservations) and payment requests."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from orders import selectors as order_selectors
from orders import services as order_services
from orders.models import OrderState, PurchaseOrder
from payments import eligibility
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.models import PaymentKind, PaymentRequest
from portal import forms
from portal.access import attempt, role_required
from portal.selectors import dossier_progress
from portal.views.common import crumbs, paginate
from referencing_app import selectors as ref_selectors
from referencing_app import services as ref_services
from referencing_app.models import (
    ChangeRequest,
    DossierState,
    Statement,
)
from referencing_app.services import EDITABLE_STATES
from sons import selectors as sons_selectors
from vendors import selectors as vendor_selectors
from vendors import services as vendor_services
from vendors.models import SolutionVersion

vendor_only = role_required(Role.VENDOR)
VERDICTS_VISIBLE = (DossierState.CHANGES_REQUESTED, DossierState.APPROVED, DossierState.REJECTED)
RECENT_EVIDENCE = 30


# --- solutions -------------------------------------------------------------------------------------
@vendor_only
def solutions(request):
    user = request.user
    form = forms.SolutionCreateForm(request.POST or None, prefix="solution")
    if request.method == "POST" and form.is_valid():
        ok, solution = attempt(
            request,
            lambda: vendor_services.solution_create(
                actor=user,
                vendor=user.vendor,
                name=form.cleaned_data["name"],
                category=form.cleaned_data["category"],
            ),
            form=form,
        )
        if ok:
            messages.success(request, f"Logiciel « {solution.name} » créé.")
            return redirect("portal:vendor_solutions")
    solution_list = vendor_selectors.solution_list_for_user(user).prefetch_related(
        Prefetch("versions", queryset=SolutionVersion.objects.order_by("-created_at"))
    )
    return render(
        request,
        "portal/vendor/solutions.html",
        {
            "solutions": solution_list,
            "form": form,
            "version_form": forms.VersionCreateForm(prefix="version"),
            "breadcrumb": crumbs(("Logiciels", None)),
        },
    )


@vendor_only
@require_POST
def version_create(request, pk):
    solution = vendor_selectors.solution_get_for_user(request.user, pk)
    form = forms.VersionCreateForm(request.POST, prefix="version")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("portal:vendor_solutions")
    attempt(
        request,
        lambda: vendor_services.solution_version_create(
            actor=request.user,
            solution=solution,
            number=form.cleaned_data["number"],
            released_on=form.cleaned_data.get("released_on"),
        ),
        success=f"Version {form.cleaned_data['number']} de {solution.name} déclarée.",
    )
    return redirect("portal:vendor_solutions")


# --- dossiers --------------------------------------------------------------------------------------
@vendor_only
def dossiers(request):
    qs = ref_selectors.dossier_list_for_user(request.user).order_by("-created_at")
    return render(
        request,
        "portal/vendor/dossiers.html",
        {**paginate(request, qs), "breadcrumb": crumbs(("Dossiers", None))},
    )


@vendor_only
def dossier_create(request):
    user = request.user
    form = forms.DossierCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        ok, dossier = attempt(
            request,
            lambda: ref_services.dossier_create(
                actor=user,
                scheme=form.cleaned_data["scheme"],
                solution_version=form.cleaned_data["solution_version"],
                charter_accepted=bool(form.cleaned_data.get("charter_accepted")),
            ),
            form=form,
            success="Dossier de référencement ouvert.",
        )
        if ok:
            return redirect("portal:vendor_dossier", dossier.pk)
    return render(
        request,
        "portal/vendor/dossier_create.html",
        {
            "form": form,
            "breadcrumb": crumbs(
                ("Dossiers", reverse("portal:vendor_dossiers")), ("Nouveau dossier", None)
            ),
        },
    )


def _editable(dossier) -> bool:
    completing = dossier.state in (DossierState.SUBMITTED, DossierState.IN_REVIEW) and not (
        dossier.complete
    )
    return dossier.state in EDITABLE_STATES or completing


@vendor_only
def dossier_detail(request, pk):
    user = request.user
    dossier = ref_selectors.dossier_get_for_user(user, pk)
    show_verdicts = dossier.state in VERDICTS_VISIBLE
    progress = dossier_progress(dossier, verdicts=show_verdicts)
    settings_form = forms.DossierSettingsForm(
        initial={
            "claimed_profiles": dossier.claimed_profiles,
            "charter_accepted": dossier.charter_accepted,
        },
        profiles=progress.profiles,
        signatory=user.signatory,
    )
    return render(
        request,
        "portal/vendor/dossier.html",
        {
            "dossier": dossier,
            "progress": progress,
            "show_verdicts": show_verdicts,
            "editable": _editable(dossier),
            "settings_form": settings_form,
            "withdraw_form": forms.OptionalReasonForm(prefix="withdraw"),
            "change_requests": ChangeRequest.objects.filter(dossier=dossier).order_by(
                "-created_at"
            ),
            "comments": ref_selectors.comment_list_for_user(user, dossier),
            "comment_form": forms.CommentForm(codes=[row.code for row in progress.rows], ans=False),
            "referencing": getattr(dossier, "referencing", None)
            if dossier.state == DossierState.APPROVED
            else None,
            "breadcrumb": crumbs(
                ("Dossiers", reverse("portal:vendor_dossiers")), (str(dossier), None)
            ),
        },
    )


@vendor_only
@require_POST
def dossier_settings(request, pk):
    user = request.user
    dossier = ref_selectors.dossier_get_for_user(user, pk)
    profiles = sorted(
        {
            p
            for p in dossier.requirement_set.requirements.values_list("profile", flat=True)
            if p != "general"
        }
    )
    form = forms.DossierSettingsForm(request.POST, profiles=profiles, signatory=user.signatory)
    if form.is_valid():
        attempt(
            request,
            lambda: ref_services.dossier_update(
                actor=user,
                dossier=dossier,
                claimed_profiles=form.cleaned_data.get("claimed_profiles", [])
                if profiles
                else None,
                charter_accepted=form.cleaned_data["charter_accepted"] if user.signatory else None,
            ),
            success="Dossier mis à jour.",
        )
    else:
        messages.error(request, "Formulaire invalide : vérifiez les profils cochés.")
    return redirect("portal:vendor_dossier", dossier.pk)


def _uuids(values) -> list[str]:
    result = []
    for value in values[:10]:
        try:
            result.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return result


def _evidence_choices(user, statement, extra_ids):
    attached = [e.pk for e in statement.evidence.all()] if statement else []
    recent = list(
        ref_selectors.evidence_list_for_user(user)
        .order_by("-created_at")
        .values_list("pk", flat=True)[:RECENT_EVIDENCE]
    )
    return (
        ref_selectors.evidence_list_for_user(user)
        .filter(Q(pk__in=attached) | Q(pk__in=recent) | Q(pk__in=extra_ids))
        .order_by("-created_at")
    )


@vendor_only
def statement_edit(request, pk, code):
    user = request.user
    dossier = ref_selectors.dossier_get_for_user(user, pk)
    requirement = sons_selectors.requirement_get(dossier.requirement_set, code)
    statement = (
        Statement.objects.filter(dossier=dossier, requirement=requirement)
        .prefetch_related("evidence")
        .first()
    )
    just_uploaded = _uuids(request.GET.getlist("preuve"))
    evidence_qs = _evidence_choices(user, statement, just_uploaded)
    initial = {"claim": "conform", "evidence": just_uploaded}
    if statement is not None:
        initial = {
            "claim": statement.claim,
            "justification": statement.justification,
            "evidence": [e.pk for e in statement.evidence.all()] + just_uploaded,
        }
    form = forms.StatementForm(request.POST or None, initial=initial, evidence_qs=evidence_qs)
    if request.method == "POST" and form.is_valid():
        ok, _statement = attempt(
            request,
            lambda: ref_services.statement_put(
                actor=user,
                dossier=dossier,
                requirement_code=requirement.code,
                claim=form.cleaned_data["claim"],
                justification=form.cleaned_data.get("justification", ""),
                evidence_ids=[e.pk for e in form.cleaned_data["evidence"]],
            ),
            form=form,
            success=f"Déclaration enregistrée pour l'exigence {requirement.code}.",
        )
        if ok:
            return redirect(
                reverse("portal:vendor_dossier", args=[dossier.pk]) + f"#req-{requirement.code}"
            )
    codes = list(
        dossier.requirement_set.requirements.order_by("position", "code").values_list(
            "code", flat=True
        )
    )
    index = codes.index(requirement.code)
    return render(
        request,
        "portal/vendor/statement.html",
        {
            "dossier": dossier,
            "requirement": requirement,
            "statement": statement,
            "form": form,
            "upload_form": forms.EvidenceUploadForm(),
            "editable": _editable(dossier),
            "previous_code": codes[index - 1] if index > 0 else None,
            "next_code": codes[index + 1] if index + 1 < len(codes) else None,
            "breadcrumb": crumbs(
                ("Dossiers", reverse("portal:vendor_dossiers")),
                (str(dossier), reverse("portal:vendor_dossier", args=[dossier.pk])),
                (requirement.code, None),
            ),
        },
    )


@vendor_only
@require_POST
def evidence_upload(request, pk, code):
    user = request.user
    dossier = ref_selectors.dossier_get_for_user(user, pk)
    requirement = sons_selectors.requirement_get(dossier.requirement_set, code)
    target = reverse("portal:vendor_statement", args=[dossier.pk, requirement.code])
    form = forms.EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choisissez un fichier à déposer.")
        return redirect(target)
    ok, evidence = attempt(
        request,
        lambda: ref_services.evidence_upload(
            actor=user, upload=form.cleaned_data["file"], dossier=dossier
        ),
    )
    if not ok:
        return redirect(target)
    messages.success(
        request,
        f"Preuve « {evidence.filename} » déposée et cochée ci-dessous : "
        "enregistrez la déclaration pour la joindre.",
    )
    return redirect(f"{target}?preuve={evidence.pk}#statement-form")


@vendor_only
@require_POST
def dossier_submit(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    ok, dossier_after = attempt(
        request, lambda: ref_services.dossier_submit(actor=request.user, dossier=dossier)
    )
    if ok:
        messages.success(
            request,
            "Dossier déposé."
            if dossier_after.complete
            else "Dossier déposé incomplet : déposez les preuves attendues pour qu'il soit instruit en priorité.",
        )
    return redirect("portal:vendor_dossier", dossier.pk)


@vendor_only
@require_POST
def dossier_withdraw(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    form = forms.OptionalReasonForm(request.POST, prefix="withdraw")
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    attempt(
        request,
        lambda: ref_services.dossier_withdraw(actor=request.user, dossier=dossier, reason=reason),
        success="Dossier retiré.",
    )
    return redirect("portal:vendor_dossier", dossier.pk)


# --- orders ---------------------------------------------------------------------------------------
@vendor_only
def orders(request):
    qs = order_selectors.order_list_for_user(request.user).order_by("-created_at", "id")
    state = request.GET.get("state", "")
    if state in OrderState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "portal/vendor/orders.html",
        {
            **paginate(request, qs),
            "states": OrderState.choices,
            "state": state,
            "breadcrumb": crumbs(("Bons de commande", None)),
        },
    )


@vendor_only
def order_create(request):
    user = request.user
    form = forms.OrderCreateForm(
        request.POST or None,
        user=user,
        establishments=order_selectors.establishment_list_for_user(user),
    )
    if request.method == "POST" and form.is_valid():
        ok, order = attempt(
            request,
            lambda: order_services.purchase_order_create(
                actor=user,
                establishment=form.cleaned_data["establishment"],
                scheme=form.cleaned_data["scheme"],
                solution_version=form.cleaned_data["solution_version"],
                amount=form.cleaned_data["amount"],
            ),
            form=form,
            success="Bon de commande créé (brouillon) : envoyez-le à l'établissement pour signature.",
        )
        if ok:
            return redirect("portal:vendor_order", order.pk)
    return render(
        request,
        "portal/vendor/order_create.html",
        {
            "form": form,
            "breadcrumb": crumbs(
                ("Bons de commande", reverse("portal:vendor_orders")), ("Nouveau", None)
            ),
        },
    )


def _order_context(request, order: PurchaseOrder, **extra) -> dict:
    user = request.user
    signed_or_later = order.state not in (
        OrderState.DRAFT,
        OrderState.SENT,
        OrderState.DECLINED,
        OrderState.CANCELLED,
    )
    reasons = eligibility.order_reasons(order.pk) if signed_or_later else None
    requests = PaymentRequest.objects.filter(order=order).order_by("created_at")
    versions = SolutionVersion.objects.filter(
        solution_id=order.solution_version.solution_id
    ).select_related("solution")
    reports = ref_selectors.evidence_list_for_user(user).order_by("-created_at")[:RECENT_EVIDENCE]
    report_ids = [e.pk for e in reports]
    chosen = (_uuids(request.GET.getlist("pv")) or [""])[0]
    declare_form = extra.pop("declare_form", None) or forms.DeclareInstallationForm(
        initial={
            "version": order.solution_version_id,
            "report": chosen if chosen in {str(i) for i in report_ids} else None,
        },
        versions=versions,
        reports=ref_selectors.evidence_list_for_user(user).filter(pk__in=report_ids),
    )
    return {
        "order": order,
        "reasons": reasons,
        "payment_requests": requests,
        "declare_form": declare_form,
        "upload_form": forms.EvidenceUploadForm(),
        "cancel_form": forms.ReasonForm(prefix="cancel"),
        "can_cancel": order_services.cancel_refusal(order, user) is None,
        "recovery": payment_selectors.recovery_list_for_user(user)
        .filter(purchase_order=order)
        .first(),
        "kinds": PaymentKind,
        "breadcrumb": crumbs(
            ("Bons de commande", reverse("portal:vendor_orders")), (str(order), None)
        ),
        **extra,
    }


@vendor_only
def order_detail(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    return render(request, "portal/vendor/order.html", _order_context(request, order))


@vendor_only
@require_POST
def order_send(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    attempt(
        request,
        lambda: order_services.purchase_order_send(actor=request.user, order=order),
        success="Bon de commande envoyé à l'établissement pour signature.",
    )
    return redirect("portal:vendor_order", order.pk)


@vendor_only
@require_POST
def order_cancel(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    form = forms.ReasonForm(request.POST, prefix="cancel")
    if not form.is_valid():
        messages.error(request, "Indiquez le motif de l'annulation.")
        return redirect("portal:vendor_order", order.pk)
    attempt(
        request,
        lambda: order_services.purchase_order_cancel(
            actor=request.user, order=order, reason=form.cleaned_data["reason"]
        ),
        success="Bon de commande annulé.",
    )
    return redirect("portal:vendor_order", order.pk)


@vendor_only
@require_POST
def order_report_upload(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    target = reverse("portal:vendor_order", args=[order.pk])
    form = forms.EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choisissez le fichier du procès-verbal.")
        return redirect(target)
    ok, evidence = attempt(
        request,
        lambda: ref_services.evidence_upload(actor=request.user, upload=form.cleaned_data["file"]),
    )
    if ok:
        messages.success(
            request,
            f"Procès-verbal « {evidence.filename} » déposé : il est sélectionné dans la déclaration.",
        )
        return redirect(f"{target}?pv={evidence.pk}#declare")
    return redirect(target)


@vendor_only
@require_POST
def order_declare(request, pk):
    user = request.user
    order = order_selectors.order_get_for_user(user, pk)
    versions = SolutionVersion.objects.filter(
        solution_id=order.solution_version.solution_id
    ).select_related("solution")
    form = forms.DeclareInstallationForm(
        request.POST,
        versions=versions,
        reports=ref_selectors.evidence_list_for_user(user),
    )
    if form.is_valid():
        ok, _order = attempt(
            request,
            lambda: order_services.purchase_order_declare_installation(
                actor=user,
                order=order,
                installed_on=form.cleaned_data["installed_on"],
                version=form.cleaned_data["version"],
                report=form.cleaned_data["report"],
            ),
            form=form,
            success="Installation déclarée : l'établissement doit maintenant la réceptionner.",
        )
        if ok:
            return redirect("portal:vendor_order", order.pk)
    return render(
        request,
        "portal/vendor/order.html",
        _order_context(request, order, declare_form=form),
    )


@vendor_only
@require_POST
def order_lift(request, pk):
    order = order_selectors.order_get_for_user(request.user, pk)
    attempt(
        request,
        lambda: order_services.purchase_order_lift_reservations(actor=request.user, order=order),
        success="Réserves levées : l'établissement doit confirmer l'installation.",
    )
    return redirect("portal:vendor_order", order.pk)


@vendor_only
@require_POST
def payment_request_create(request, pk, kind):
    order = order_selectors.order_get_for_user(request.user, pk)
    if kind not in PaymentKind.values:
        messages.error(request, "Nature de demande inconnue.")
        return redirect("portal:vendor_order", order.pk)
    label = PaymentKind(kind).label.lower()
    attempt(
        request,
        lambda: payment_services.payment_request_create(actor=request.user, order=order, kind=kind),
        success=f"Demande de paiement ({label}) déposée auprès de l'ASP.",
    )
    return redirect("portal:vendor_order", order.pk)


@vendor_only
def payments(request):
    qs = payment_selectors.payment_request_list_for_user(request.user).order_by("-created_at", "id")
    return render(
        request,
        "portal/vendor/payments.html",
        {**paginate(request, qs), "breadcrumb": crumbs(("Demandes de paiement", None))},
    )


@vendor_only
def recoveries(request):
    """The vendor's recovery orders: what it must pay back, by when."""
    qs = payment_selectors.recovery_list_for_user(request.user).order_by("-created_at", "id")
    return render(
        request,
        "portal/vendor/recoveries.html",
        {**paginate(request, qs), "breadcrumb": crumbs(("Recouvrements", None))},
    )
