"""ANS administration: dossiers (assignment, decisions), referencings (suspend, reinstate,
revoke), programme configuration (schemes), the deployment dashboard and its CSV export."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from core.api import csv_safe
from payments import selectors as payment_selectors
from portal import charts, forms
from portal.access import attempt, role_required
from portal.selectors import installations_by_month
from portal.views.common import crumbs, paginate
from referencing_app import selectors as ref_selectors
from referencing_app import services as ref_services
from referencing_app.models import DossierState, ReferencingState
from sons import selectors as sons_selectors

admin_only = role_required(Role.ANS_ADMIN)
deployment_readers = role_required(Role.ANS_ADMIN, Role.REVIEWER, Role.PAYMENT_OFFICER)


# --- dossiers --------------------------------------------------------------------------------------
@admin_only
def dossiers(request):
    qs = ref_selectors.dossier_list_for_user(request.user).order_by("-updated_at", "id")
    state = request.GET.get("state", "")
    if state in DossierState.values:
        qs = qs.filter(state=state)
    scheme = request.GET.get("scheme", "")[:30]
    if scheme:
        qs = qs.filter(scheme__code=scheme)
    return render(
        request,
        "portal/ans/dossiers.html",
        {
            **paginate(request, qs),
            "states": DossierState.choices,
            "state": state,
            "scheme": scheme,
            "schemes": sons_selectors.scheme_list().values_list("code", flat=True),
            "breadcrumb": crumbs(("Dossiers", None)),
        },
    )


def _back(dossier):
    return redirect("portal:review_dossier", dossier.pk)


@admin_only
@require_POST
def assign(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    form = forms.AssignForm(request.POST, prefix="assign")
    if not form.is_valid():
        messages.error(request, "Choisissez un instructeur.")
        return _back(dossier)
    reviewer = form.cleaned_data["reviewer"]
    attempt(
        request,
        lambda: ref_services.dossier_assign(actor=request.user, dossier=dossier, reviewer=reviewer),
        success=f"Dossier attribué à {reviewer} : l'instruction est ouverte.",
    )
    return _back(dossier)


@admin_only
@require_POST
def approve(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    ok, approved = attempt(
        request, lambda: ref_services.dossier_approve(actor=request.user, dossier=dossier)
    )
    if ok:
        messages.success(
            request, f"Dossier approuvé : référencement {approved.referencing.reference}."
        )
    return _back(dossier)


@admin_only
@require_POST
def reject(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    form = forms.ReasonForm(request.POST, prefix="reject")
    if not form.is_valid():
        messages.error(request, "Un rejet doit être motivé.")
        return _back(dossier)
    attempt(
        request,
        lambda: ref_services.dossier_reject(
            actor=request.user, dossier=dossier, reason=form.cleaned_data["reason"]
        ),
        success="Dossier rejeté.",
    )
    return _back(dossier)


# --- referencings ----------------------------------------------------------------------------------
@admin_only
def referencings(request):
    qs = ref_selectors.referencing_list_for_user(request.user).order_by("reference")
    state = request.GET.get("state", "")
    if state in ReferencingState.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "portal/ans/referencings.html",
        {
            **paginate(request, qs),
            "states": ReferencingState.choices,
            "state": state,
            "breadcrumb": crumbs(("Référencements", None)),
        },
    )


@admin_only
def referencing_detail(request, pk):
    referencing = ref_selectors.referencing_get_for_user(request.user, pk)
    from core.selectors import audit_entry_list

    history = audit_entry_list().filter(object_id=str(referencing.pk)).order_by("seq")
    return render(
        request,
        "portal/ans/referencing.html",
        {
            "referencing": referencing,
            "history": history,
            "suspend_form": forms.ReasonForm(prefix="suspend"),
            "revoke_form": forms.ReasonForm(prefix="revoke"),
            "reinstate_form": forms.OptionalReasonForm(prefix="reinstate"),
            "breadcrumb": crumbs(
                ("Référencements", reverse("portal:ans_referencings")),
                (referencing.reference, None),
            ),
        },
    )


REFERENCING_ACTIONS = {
    "suspendre": (ref_services.referencing_suspend, forms.ReasonForm, "Référencement suspendu."),
    "retablir": (
        ref_services.referencing_reinstate,
        forms.OptionalReasonForm,
        "Référencement rétabli.",
    ),
    "retirer": (ref_services.referencing_revoke, forms.ReasonForm, "Référencement retiré."),
}
PREFIXES = {"suspendre": "suspend", "retablir": "reinstate", "retirer": "revoke"}


@admin_only
@require_POST
def referencing_action(request, pk, action):
    referencing = ref_selectors.referencing_get_for_user(request.user, pk)
    if action not in REFERENCING_ACTIONS:
        messages.error(request, "Action inconnue.")
        return redirect("portal:ans_referencing", referencing.pk)
    service, form_class, success = REFERENCING_ACTIONS[action]
    form = form_class(request.POST, prefix=PREFIXES[action])
    if not form.is_valid():
        messages.error(request, "Le motif est obligatoire.")
        return redirect("portal:ans_referencing", referencing.pk)
    attempt(
        request,
        lambda: service(
            actor=request.user, referencing=referencing, reason=form.cleaned_data["reason"]
        ),
        success=success,
    )
    return redirect("portal:ans_referencing", referencing.pk)


# --- programme configuration ---------------------------------------------------------------------
@admin_only
def schemes(request):
    return render(
        request,
        "portal/ans/schemes.html",
        {"schemes": sons_selectors.scheme_list(), "breadcrumb": crumbs(("Dispositifs", None))},
    )


@admin_only
def scheme_detail(request, code):
    scheme = sons_selectors.scheme_get(code)
    sets = sons_selectors.requirement_set_list(scheme=scheme, user=request.user)
    current = sons_selectors.requirement_set_current(scheme)
    return render(
        request,
        "portal/ans/scheme.html",
        {
            "scheme": scheme,
            "sets": sets,
            "current": current,
            "requirements": sons_selectors.requirement_list(current),
            "eligible_count": sons_selectors.eligible_establishment_list(scheme).count(),
            "breadcrumb": crumbs(
                ("Dispositifs", reverse("portal:ans_schemes")), (scheme.code, None)
            ),
        },
    )


# --- deployment dashboard ---------------------------------------------------------------------
DEPLOYMENT_FIELDS = [
    "scheme",
    "category",
    "sector",
    "wave",
    "ordered",
    "installed",
    "installation_rate",
    "with_balance_request",
    "without_balance_request",
    "not_installed",
]


@deployment_readers
def deployment(request):
    rows = payment_selectors.deployment_rows()
    by_category = payment_selectors.roll_up(rows, "category")
    ordered = [r for r in by_category if r["ordered"]]
    months = installations_by_month()
    return render(
        request,
        "portal/ans/deployment.html",
        {
            "rows": rows,
            "by_category": by_category,
            "months": months,
            "rate_chart": charts.rate_bars(ordered),
            "split_chart": charts.stacked_bars(ordered),
            "no_orders": [
                f"{r['category']} ({r['wave']})" for r in by_category if not r["ordered"]
            ],
            "time_chart": charts.monthly_columns(months),
            "breadcrumb": crumbs(("Déploiement", None)),
        },
    )


@deployment_readers
def deployment_csv(request):
    rows = payment_selectors.deployment_rows()
    group = request.GET.get("by", "")
    fields = DEPLOYMENT_FIELDS
    if group in ("category", "sector"):
        rows = payment_selectors.roll_up(rows, group)
        fields = [group, *DEPLOYMENT_FIELDS[3:]]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([csv_safe(row.get(f)) for f in fields])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    suffix = f"-{group}" if group in ("category", "sector") else ""
    response["Content-Disposition"] = f'attachment; filename="deploiement-sons{suffix}.csv"'
    return response


# --- imports -------------------------------------------------------------------------------------
IMPORT_MAX_BYTES = 50 * 1024 * 1024


@admin_only
def establishments_import(request):
    """CSV import of establishments: the good rows are imported, the bad ones reported by line."""
    from types import SimpleNamespace

    from core.models import JobState
    from core.outbox import job_enqueue, job_refusal
    from orders.jobs import IMPORT_ESTABLISHMENTS

    def launch():  # recorded first, run by a worker (at once in eager mode)
        job = job_enqueue(kind=IMPORT_ESTABLISHMENTS, actor=request.user, payload=upload.read())
        refusal = job_refusal(job)
        if refusal is not None:
            raise refusal
        return job

    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            form.add_error("file", "Fichier trop volumineux (50 Mo au plus).")
        else:
            ok, job = attempt(request, launch, form=form)
            if ok and job.state == JobState.DONE:
                report = SimpleNamespace(**job.result)
                messages.success(
                    request,
                    f"Import terminé : {report.created} créé(s), {report.updated} mis à jour, "
                    f"{len(report.errors)} erreur(s).",
                )
            elif ok:
                messages.success(
                    request,
                    f"Import enregistré (travail {job.pk}) : il sera traité dans quelques "
                    "instants ; son compte rendu sera visible dans l'administration (travaux "
                    "différés).",
                )
    return render(
        request,
        "portal/ans/import.html",
        {
            "form": form,
            "report": report,
            "breadcrumb": crumbs(("Import des établissements", None)),
        },
    )
