"""ANS instruction: the queue, the instruction page (requirements with the vendor's statement and
evidence side by side, verdicts, change request, what changed since the previous deposit), and
the comments shared by vendors and ANS (with internal notes)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from portal import forms
from portal.access import ANS, attempt, role_required
from portal.selectors import dossier_progress, latest_changes
from portal.views.common import crumbs, paginate
from referencing_app import rules
from referencing_app import selectors as ref_selectors
from referencing_app import services as ref_services
from referencing_app.models import ChangeRequest, DossierState, VerdictValue

ans_only = role_required(*ANS)


@ans_only
def queue(request):
    qs = ref_selectors.reviewer_queue(request.user)
    return render(
        request,
        "portal/review/queue.html",
        {**paginate(request, qs), "breadcrumb": crumbs(("File d'instruction", None))},
    )


def _can_judge(user, dossier) -> bool:
    return dossier.state == DossierState.IN_REVIEW and (
        user.is_ans_admin or (user.role == Role.REVIEWER and dossier.reviewer_id == user.pk)
    )


def _review_context(request, dossier, **extra) -> dict:
    user = request.user
    progress = dossier_progress(dossier, verdicts=True)
    revision, changes = latest_changes(dossier)
    for row in progress.rows:
        row.change = changes.get(row.code)
    only = request.GET.get("filtre", "")
    rows = progress.rows
    if only == "modifiees":
        rows = [r for r in rows if r.change]
    elif only == "sans-avis":
        rows = [r for r in rows if r.applies and r.verdict is None]
    non_compliant = [
        r.code
        for r in progress.rows
        if r.verdict is not None and r.verdict.verdict == VerdictValue.NON_COMPLIANT
    ]
    blocking = rules.not_compliant_for_approval(
        [r.requirement for r in progress.rows],
        {r.requirement.pk: r.verdict for r in progress.rows if r.verdict is not None},
        dossier.claimed_profiles,
    )
    return {
        "dossier": dossier,
        "progress": progress,
        "rows": rows,
        "filtre": only,
        "revision": revision,
        "profile_change": changes.get("_claimed_profiles"),
        "changed_count": sum(1 for r in progress.rows if r.change),
        "can_judge": _can_judge(user, dossier),
        # the same rule as the services and the API's `actions` (four-eyes)
        "can_decide": user.is_ans_admin
        and dossier.state == DossierState.IN_REVIEW
        and not ref_selectors.four_eyes_excludes(dossier, user),
        "can_request_changes": dossier.state == DossierState.IN_REVIEW
        and user.role == Role.REVIEWER
        and dossier.reviewer_id == user.pk,
        "changes_form": extra.pop("changes_form", None)
        or forms.RequestChangesForm(codes=non_compliant, initial={"requirements": non_compliant}),
        "non_compliant": non_compliant,
        "blocking": blocking,
        "assign_form": forms.AssignForm(prefix="assign"),
        "reject_form": forms.ReasonForm(prefix="reject"),
        "change_requests": ChangeRequest.objects.filter(dossier=dossier)
        .select_related("requested_by")
        .order_by("-created_at"),
        "comments": ref_selectors.comment_list_for_user(user, dossier),
        "comment_form": forms.CommentForm(codes=[r.code for r in progress.rows], ans=True),
        "verdict_choices": VerdictValue.choices,
        "breadcrumb": crumbs(
            ("File d'instruction", reverse("portal:review_queue")), (str(dossier), None)
        ),
        **extra,
    }


@ans_only
def dossier_detail(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    return render(request, "portal/review/dossier.html", _review_context(request, dossier))


@ans_only
@require_POST
def verdict(request, pk, code):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    form = forms.VerdictForm(request.POST)
    target = reverse("portal:review_dossier", args=[dossier.pk]) + f"#req-{code}"
    ok = False
    if form.is_valid():
        ok, _verdict = attempt(
            request,
            lambda: ref_services.verdict_put(
                actor=request.user,
                dossier=dossier,
                requirement_code=code,
                verdict=form.cleaned_data["verdict"],
                comment=form.cleaned_data.get("comment", ""),
            ),
            form=form if request.htmx else None,
        )
    elif not request.htmx:
        messages.error(request, f"{code} : choisissez un avis.")
    if not request.htmx:
        if ok:
            messages.success(request, f"Avis enregistré pour l'exigence {code}.")
        return redirect(target)
    # htmx: answer with the requirement's block only
    context = _review_context(request, dossier)
    row = next((r for r in context["progress"].rows if r.code == code), None)
    if row is None:
        return redirect(target)
    return render(
        request,
        "portal/review/_requirement.html",
        {
            **context,
            "row": row,
            "row_form": None if ok else form,
            "row_message": f"Avis enregistré pour l'exigence {code}." if ok else "",
        },
    )


@ans_only
@require_POST
def request_changes(request, pk):
    dossier = ref_selectors.dossier_get_for_user(request.user, pk)
    progress = dossier_progress(dossier)
    form = forms.RequestChangesForm(request.POST, codes=[r.code for r in progress.rows])
    if form.is_valid():
        ok, _dossier = attempt(
            request,
            lambda: ref_services.dossier_request_changes(
                actor=request.user,
                dossier=dossier,
                reason=form.cleaned_data["reason"],
                requirement_codes=form.cleaned_data["requirements"],
            ),
            form=form,
            success="Corrections demandées à l'éditeur.",
        )
        if ok:
            return redirect("portal:review_dossier", dossier.pk)
    return render(
        request,
        "portal/review/dossier.html",
        _review_context(request, dossier, changes_form=form),
    )


@role_required(Role.VENDOR, *ANS)
@require_POST
def comment(request, pk):
    user = request.user
    dossier = ref_selectors.dossier_get_for_user(user, pk)
    ans = ref_selectors.is_ans(user)
    codes = list(dossier.requirement_set.requirements.values_list("code", flat=True))
    form = forms.CommentForm(request.POST, codes=codes, ans=ans)
    if form.is_valid():
        attempt(
            request,
            lambda: ref_services.comment_create(
                actor=user,
                dossier=dossier,
                body=form.cleaned_data["body"],
                internal=bool(form.cleaned_data.get("internal")),
                requirement_code=form.cleaned_data.get("requirement_code") or "",
            ),
            success="Message enregistré.",
        )
    else:
        messages.error(request, "Le message est vide.")
    name = "portal:review_dossier" if ans else "portal:vendor_dossier"
    return redirect(reverse(name, args=[dossier.pk]) + "#comments")
