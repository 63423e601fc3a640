"""Writes of the referencing app. Each public function is one verb of the programme: it owns its
transaction, locks the row, checks the actor's right, runs the transition, writes one audit entry
and schedules notifications after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.selectors import users_with_role, vendor_members
from core.audit import audit_record, diff, snapshot
from core.errors import Conflict, ErrorItem, InvalidInput, NotAllowed, NotFound
from core.files import check_upload
from core.fsm import require_transition
from core.notifications import notify
from core.timeutils import end_of_day_paris, paris_today
from referencing_app import hooks, rules, selectors
from referencing_app.models import (
    ChangeRequest,
    Claim,
    Comment,
    Dossier,
    DossierRevision,
    DossierState,
    Evidence,
    ReferenceCounter,
    Referencing,
    ReferencingState,
    Statement,
    Verdict,
    VerdictRecord,
    VerdictValue,
)
from sons.models import DEFAULT_EVIDENCE_MAX_BYTES, RequirementSet, Scheme
from vendors.models import SolutionVersion

DOSSIER_AUDITED_FIELDS = ("claimed_profiles", "charter_accepted_at", "charter_accepted_by")


# --- helpers ----------------------------------------------------------------------------------------
def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _lock(dossier: Dossier) -> Dossier:
    return selectors.dossier_queryset().select_for_update(of=("self",)).get(pk=dossier.pk)


def _require_vendor_member(actor: User, dossier: Dossier) -> None:
    if not selectors.is_vendor_member(actor, dossier.vendor_id):
        raise NotAllowed(_("Seuls les membres de l'éditeur peuvent faire cela."))


def _require_ans_admin(actor: User) -> None:
    if not actor.is_ans_admin:
        raise NotAllowed(_("Réservé aux administrateurs ANS."))


def _current_requirement_set(scheme: Scheme) -> RequirementSet | None:
    return (
        RequirementSet.objects.filter(scheme=scheme, published_at__isnull=False)
        .order_by("-version")
        .first()
    )


def _profiles_of(requirement_set: RequirementSet) -> set[str]:
    from sons.models import GENERAL_PROFILE

    return set(
        requirement_set.requirements.exclude(profile=GENERAL_PROFILE).values_list(
            "profile", flat=True
        )
    )


def _check_profiles(requirement_set: RequirementSet, claimed: Sequence[str]) -> list[str]:
    claimed = sorted(set(claimed))
    unknown = sorted(set(claimed) - _profiles_of(requirement_set))
    if unknown:
        raise InvalidInput(
            "unknown_profile",
            _("Profil(s) inconnu(s) dans ce référentiel : %(p)s.") % {"p": ", ".join(unknown)},
            "claimed_profiles",
        )
    return claimed


def _accept_charter(dossier: Dossier, actor: User, accepted: bool | None, at: dt.datetime) -> None:
    """Accept or withdraw the charter: only the vendor's legal signatory changes it either way
    (asking for what is already the case changes nothing and is not refused)."""
    if accepted is None or accepted == dossier.charter_accepted:
        return
    if not actor.signatory:
        raise NotAllowed(
            _(
                "Seul le représentant légal (signataire) de l'éditeur peut accepter ou retirer "
                "l'acceptation de la charte."
            ),
            code="NOT_LEGAL_SIGNATORY",
        )
    if accepted:
        dossier.charter_accepted_at = at
        dossier.charter_accepted_by = actor
    else:
        dossier.charter_accepted_at = None
        dossier.charter_accepted_by = None


# --- evidence ------------------------------------------------------------------------------------------
def evidence_upload(*, actor: User, upload, dossier: Dossier | None = None) -> Evidence:
    """Store a proof file for the actor's vendor. Refused files leave nothing behind."""
    if actor.role != Role.VENDOR or not actor.vendor_id:
        raise NotAllowed(_("Seuls les éditeurs déposent des preuves."))
    if dossier is not None and dossier.vendor_id != actor.vendor_id:
        raise NotFound()
    max_bytes = (
        dossier.scheme.evidence_max_bytes if dossier is not None else DEFAULT_EVIDENCE_MAX_BYTES
    )
    checked = check_upload(upload, max_bytes=max_bytes)
    evidence = Evidence(
        vendor_id=actor.vendor_id,
        uploaded_by=actor,
        filename=checked.filename,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
    )
    evidence.file.save(str(evidence.id), upload, save=False)
    try:
        with transaction.atomic(durable=True):
            evidence.save()
            audit_record(
                actor=actor,
                action="evidence.upload",
                obj=evidence,
                changes={
                    "sha256": [None, checked.sha256],
                    "size": [None, checked.size],
                    "content_type": [None, checked.content_type],
                },
            )
    except Exception:
        evidence.file.delete(save=False)
        raise
    return evidence


# --- dossier editing ------------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def dossier_create(
    *,
    actor: User,
    scheme: Scheme,
    solution_version: SolutionVersion,
    claimed_profiles: Sequence[str] = (),
    charter_accepted: bool = False,
    at: dt.datetime | None = None,
) -> Dossier:
    at = _now(at)
    solution = solution_version.solution
    if not selectors.is_vendor_member(actor, solution.vendor_id):
        raise InvalidInput(
            "does_not_exist", _("Version de logiciel introuvable."), "solution_version"
        )
    if solution.category_id != scheme.category_id:
        raise InvalidInput(
            "CATEGORY_MISMATCH",
            _("Ce logiciel (%(c)s) ne relève pas de ce dispositif (%(s)s).")
            % {"c": solution.category.code, "s": scheme.category.code},
            "scheme",
        )
    requirement_set = _current_requirement_set(scheme)
    if requirement_set is None:
        raise Conflict(
            "NO_REQUIREMENT_SET", _("Ce dispositif n'a pas encore de référentiel publié."), "scheme"
        )
    dossier = Dossier(
        scheme=scheme,
        solution_version=solution_version,
        vendor_id=solution.vendor_id,
        requirement_set=requirement_set,
        claimed_profiles=_check_profiles(requirement_set, claimed_profiles),
    )
    _accept_charter(dossier, actor, charter_accepted, at)
    try:
        with transaction.atomic():
            dossier.save()
    except IntegrityError as exc:
        raise Conflict(
            "DOSSIER_ALREADY_OPEN",
            _("Un dossier est déjà ouvert ou référencé pour cette version sur ce dispositif."),
        ) from exc
    audit_record(
        actor=actor,
        action="dossier.create",
        obj=dossier,
        to_state=dossier.state,
        changes=diff(
            {},
            snapshot(
                dossier, ("scheme", "solution_version", "requirement_set", *DOSSIER_AUDITED_FIELDS)
            ),
        ),
    )
    return dossier


EDITABLE_STATES = (DossierState.DRAFT, DossierState.CHANGES_REQUESTED)


@transaction.atomic(durable=True)
def dossier_update(
    *,
    actor: User,
    dossier: Dossier,
    claimed_profiles: Sequence[str] | None = None,
    charter_accepted: bool | None = None,
    at: dt.datetime | None = None,
) -> Dossier:
    at = _now(at)
    dossier = _lock(dossier)
    _require_vendor_member(actor, dossier)
    if dossier.state not in EDITABLE_STATES:
        raise Conflict("DOSSIER_NOT_EDITABLE", _("Le dossier n'est pas modifiable dans cet état."))
    before = snapshot(dossier, DOSSIER_AUDITED_FIELDS)
    if claimed_profiles is not None:
        dossier.claimed_profiles = _check_profiles(dossier.requirement_set, claimed_profiles)
    _accept_charter(dossier, actor, charter_accepted, at)
    changes = diff(before, snapshot(dossier, DOSSIER_AUDITED_FIELDS))
    if changes:
        dossier.save(
            update_fields=[
                "claimed_profiles",
                "charter_accepted_at",
                "charter_accepted_by",
                "updated_at",
            ]
        )
        audit_record(actor=actor, action="dossier.update", obj=dossier, changes=changes)
    return dossier


def _statement_snapshot(statement: Statement | None) -> dict | None:
    if statement is None:
        return None
    return {
        "claim": statement.claim,
        "justification": statement.justification,
        "evidence": sorted(str(pk) for pk in statement.evidence.values_list("pk", flat=True)),
    }


@transaction.atomic(durable=True)
def statement_put(
    *,
    actor: User,
    dossier: Dossier,
    requirement_code: str,
    claim: str,
    justification: str = "",
    evidence_ids: Iterable = (),
    at: dt.datetime | None = None,
) -> Statement:
    """Write the vendor's statement on one requirement. In a dossier deposited incomplete, the
    vendor may still add the pending proofs: the deposit becomes complete with the last one."""
    at = _now(at)
    dossier = _lock(dossier)
    _require_vendor_member(actor, dossier)
    completing = (
        dossier.state in (DossierState.SUBMITTED, DossierState.IN_REVIEW) and not dossier.complete
    )
    if dossier.state not in EDITABLE_STATES and not completing:
        raise Conflict("DOSSIER_NOT_EDITABLE", _("Le dossier n'est pas modifiable dans cet état."))
    requirement = dossier.requirement_set.requirements.filter(code=requirement_code).first()
    if requirement is None:
        raise NotFound(_("Exigence inconnue dans le référentiel de ce dossier."))
    if claim == Claim.NOT_APPLICABLE and not justification.strip():
        raise InvalidInput(
            "justification_required",
            _("Justifiez pourquoi l'exigence ne s'applique pas."),
            "justification",
        )
    evidence_ids = list(dict.fromkeys(evidence_ids))
    evidence = list(Evidence.objects.filter(pk__in=evidence_ids, vendor_id=dossier.vendor_id))
    if len(evidence) != len(evidence_ids):
        raise InvalidInput("does_not_exist", _("Preuve introuvable."), "evidence")
    too_big = [e.filename for e in evidence if e.size > dossier.scheme.evidence_max_bytes]
    if too_big:
        raise InvalidInput(
            "file_too_large",
            _("Preuve trop volumineuse pour ce dispositif : %(f)s.") % {"f": ", ".join(too_big)},
            "evidence",
        )
    statement = Statement.objects.filter(dossier=dossier, requirement=requirement).first()
    before = _statement_snapshot(statement)
    if completing:
        kept = set(before["evidence"]) if before else set()
        if (
            statement is None
            or claim != statement.claim
            or justification != statement.justification
            or not kept <= {str(e.pk) for e in evidence}
        ):
            raise Conflict(
                "DOSSIER_NOT_EDITABLE",
                _("Après dépôt, seules les preuves manquantes peuvent être ajoutées."),
            )
    if statement is None:
        statement = Statement(dossier=dossier, requirement=requirement)
    statement.claim = claim
    statement.justification = justification
    statement.save()
    statement.evidence.set(evidence)
    after = _statement_snapshot(statement)
    if before != after:
        audit_record(
            actor=actor,
            action="dossier.statement",
            obj=dossier,
            reason=requirement.code,
            changes={requirement.code: [before, after]},
        )
    if completing:
        _complete_deposit_if_ready(dossier, actor, at)
    return statement


def _deposit_content(dossier: Dossier) -> dict:
    statements = {}
    for statement in (
        Statement.objects.filter(dossier=dossier)
        .select_related("requirement")
        .prefetch_related("evidence")
    ):
        statements[statement.requirement.code] = {
            "claim": statement.claim,
            "justification": statement.justification,
            "evidence": sorted(e.sha256 for e in statement.evidence.all()),
        }
    return {"claimed_profiles": sorted(dossier.claimed_profiles), "statements": statements}


def _complete_deposit_if_ready(dossier: Dossier, actor: User, at: dt.datetime) -> None:
    if selectors.dossier_missing(dossier):
        return
    dossier.complete = True
    dossier.complete_deposit_at = at
    dossier.revision += 1
    dossier.save(update_fields=["complete", "complete_deposit_at", "revision", "updated_at"])
    DossierRevision.objects.create(
        dossier=dossier,
        number=dossier.revision,
        submitted_by=actor,
        complete=True,
        content=_deposit_content(dossier),
    )
    audit_record(
        actor=actor,
        action="dossier.complete_deposit",
        obj=dossier,
        changes={"complete": [False, True], "complete_deposit_at": [None, at.isoformat()]},
    )
    notify(
        recipients=[dossier.reviewer] if dossier.reviewer else users_with_role(Role.ANS_ADMIN),
        event="dossier_complete_deposit",
        obj=dossier,
    )


# --- dossier transitions ---------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def dossier_submit(*, actor: User, dossier: Dossier, at: dt.datetime | None = None) -> Dossier:
    at = _now(at)
    dossier = _lock(dossier)
    _require_vendor_member(actor, dossier)
    require_transition(dossier, "submit")
    scheme = dossier.scheme
    refusals: list[ErrorItem] = []
    if dossier.state == DossierState.DRAFT:
        if not (scheme.submission_opens <= at <= scheme.submission_closes):
            refusals.append(
                ErrorItem(
                    "SUBMISSION_WINDOW_CLOSED",
                    _("La période de dépôt du dispositif est fermée (heure de Paris)."),
                )
            )
    elif dossier.changes_due_at and at > dossier.changes_due_at:
        refusals.append(ErrorItem("CHANGES_OVERDUE", _("Le délai de correction est dépassé.")))
    if not dossier.charter_accepted:
        refusals.append(
            ErrorItem(
                "CHARTER_NOT_ACCEPTED", _("La charte n'a pas été acceptée."), "charter_accepted"
            )
        )
    missing = selectors.dossier_missing(dossier)
    statements_missing = [m for m in missing if m.code == "STATEMENT_MISSING"]
    evidence_missing = [m for m in missing if m.code == "EVIDENCE_MISSING"]
    refusals.extend(m.as_error() for m in statements_missing)
    if evidence_missing and not scheme.allows_incomplete_submission:
        refusals.extend(m.as_error() for m in evidence_missing)
    if refusals:
        raise Conflict(errors=refusals)
    from_state = dossier.state
    dossier.submit(at=at, complete=not evidence_missing)
    dossier.save()
    DossierRevision.objects.create(
        dossier=dossier,
        number=dossier.revision,
        submitted_by=actor,
        complete=dossier.complete,
        content=_deposit_content(dossier),
    )
    ChangeRequest.objects.filter(dossier=dossier, answered_at__isnull=True).update(answered_at=at)
    audit_record(
        actor=actor,
        action="dossier.submit",
        obj=dossier,
        from_state=from_state,
        to_state=dossier.state,
        changes={
            "revision": [dossier.revision - 1, dossier.revision],
            "complete": [None, dossier.complete],
        },
    )
    notify(recipients=vendor_members(dossier.vendor_id), event="dossier_submitted", obj=dossier)
    notify(
        recipients=[dossier.reviewer] if dossier.reviewer else users_with_role(Role.ANS_ADMIN),
        event="dossier_to_instruct",
        obj=dossier,
    )
    return dossier


@transaction.atomic(durable=True)
def dossier_withdraw(
    *, actor: User, dossier: Dossier, reason: str = "", at: dt.datetime | None = None
) -> Dossier:
    at = _now(at)
    dossier = _lock(dossier)
    _require_vendor_member(actor, dossier)
    require_transition(dossier, "withdraw")
    from_state = dossier.state
    dossier.withdraw(at=at)
    dossier.save()
    audit_record(
        actor=actor,
        action="dossier.withdraw",
        obj=dossier,
        from_state=from_state,
        to_state=dossier.state,
        reason=reason,
    )
    notify(recipients=vendor_members(dossier.vendor_id), event="dossier_withdrawn", obj=dossier)
    if dossier.reviewer:
        notify(recipients=[dossier.reviewer], event="dossier_withdrawn", obj=dossier)
    dossier_ended_hooks(dossier, actor)
    return dossier


@transaction.atomic(durable=True)
def dossier_assign(*, actor: User, dossier: Dossier, reviewer: User) -> Dossier:
    dossier = _lock(dossier)
    _require_ans_admin(actor)
    require_transition(dossier, "assign")
    if not reviewer.is_active or not reviewer.has_role(Role.REVIEWER, Role.ANS_ADMIN):
        raise InvalidInput(
            "invalid_reviewer", _("Cet utilisateur n'est pas instructeur ANS."), "reviewer"
        )
    from_state = dossier.state
    before = str(dossier.reviewer_id) if dossier.reviewer_id else None
    dossier.assign(reviewer=reviewer)
    dossier.save()
    audit_record(
        actor=actor,
        action="dossier.assign",
        obj=dossier,
        from_state=from_state,
        to_state=dossier.state,
        changes={"reviewer": [before, str(reviewer.pk)]},
    )
    notify(recipients=[reviewer], event="dossier_assigned", obj=dossier)
    notify(recipients=vendor_members(dossier.vendor_id), event="dossier_in_review", obj=dossier)
    return dossier


def _require_instructor(actor: User, dossier: Dossier) -> None:
    if not (
        actor.is_ans_admin or (actor.role == Role.REVIEWER and dossier.reviewer_id == actor.pk)
    ):
        raise NotAllowed(
            _("Seul l'instructeur du dossier ou un administrateur ANS peut faire cela.")
        )


@transaction.atomic(durable=True)
def verdict_put(
    *,
    actor: User,
    dossier: Dossier,
    requirement_code: str,
    verdict: str,
    comment: str = "",
    at: dt.datetime | None = None,
) -> Verdict:
    """Give (or give again) the verdict on one requirement. `Verdict` keeps the current one;
    every put also appends a `VerdictRecord`, never updated, which the four-eyes rule reads."""
    at = _now(at)
    dossier = _lock(dossier)
    if not actor.has_role(Role.REVIEWER, Role.ANS_ADMIN):
        raise NotAllowed(_("Réservé à l'ANS."))
    if dossier.state != DossierState.IN_REVIEW:
        raise Conflict(
            "TRANSITION_NOT_ALLOWED", _("Les avis se donnent sur un dossier en instruction.")
        )
    _require_instructor(actor, dossier)
    requirement = dossier.requirement_set.requirements.filter(code=requirement_code).first()
    if requirement is None:
        raise NotFound(_("Exigence inconnue dans le référentiel de ce dossier."))
    if not rules.applies(requirement, dossier.claimed_profiles):
        raise InvalidInput(
            "REQUIREMENT_NOT_APPLICABLE",
            _("Ce profil n'est pas revendiqué : l'exigence ne s'applique pas."),
            "requirement",
        )
    if verdict == VerdictValue.NON_COMPLIANT and not comment.strip():
        raise InvalidInput("comment_required", _("Motivez un avis non conforme."), "comment")
    existing = Verdict.objects.filter(dossier=dossier, requirement=requirement).first()
    before = {"verdict": existing.verdict, "comment": existing.comment} if existing else None
    obj = existing or Verdict(dossier=dossier, requirement=requirement)
    obj.verdict, obj.comment, obj.reviewer, obj.revision = verdict, comment, actor, dossier.revision
    obj.save()
    VerdictRecord.objects.create(
        dossier=dossier,
        requirement=requirement,
        revision=dossier.revision,
        verdict=verdict,
        comment=comment,
        given_by=actor,
        given_at=at,
    )
    audit_record(
        actor=actor,
        action="dossier.verdict",
        obj=dossier,
        reason=requirement.code,
        changes={requirement.code: [before, {"verdict": verdict, "comment": comment}]},
    )
    return obj


@transaction.atomic(durable=True)
def dossier_request_changes(
    *,
    actor: User,
    dossier: Dossier,
    reason: str,
    requirement_codes: Sequence[str],
    at: dt.datetime | None = None,
) -> Dossier:
    at = _now(at)
    dossier = _lock(dossier)
    if actor.role != Role.REVIEWER:
        raise NotAllowed(_("Seul l'instructeur assigné demande des corrections."))
    require_transition(dossier, "request_changes")
    if dossier.reviewer_id != actor.pk:
        raise NotAllowed(_("Seul l'instructeur assigné demande des corrections."))
    if not reason.strip():
        raise InvalidInput("required", _("Indiquez le motif de la demande."), "reason")
    codes = list(dict.fromkeys(requirement_codes))
    if not codes:
        raise InvalidInput(
            "required", _("Indiquez au moins une exigence à corriger."), "requirements"
        )
    verdicts = {
        v.requirement.code: v
        for v in Verdict.objects.filter(dossier=dossier).select_related("requirement")
    }
    known = set(
        dossier.requirement_set.requirements.filter(code__in=codes).values_list("code", flat=True)
    )
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(
            "does_not_exist",
            _("Exigence(s) inconnue(s) : %(c)s.") % {"c": ", ".join(unknown)},
            "requirements",
        )
    unjudged = [
        ErrorItem(
            "VERDICT_REQUIRED",
            _("Marquez d'abord l'exigence non conforme, avec un commentaire."),
            code,
        )
        for code in codes
        if code not in verdicts
        or verdicts[code].verdict != VerdictValue.NON_COMPLIANT
        or not verdicts[code].comment
    ]
    if unjudged:
        raise Conflict(errors=unjudged)
    due_at = end_of_day_paris(paris_today(at) + dt.timedelta(days=dossier.scheme.changes_due_days))
    dossier.request_changes(due_at=due_at)
    dossier.save()
    ChangeRequest.objects.create(
        dossier=dossier, requested_by=actor, reason=reason, requirement_codes=codes, due_at=due_at
    )
    audit_record(
        actor=actor,
        action="dossier.request_changes",
        obj=dossier,
        from_state=DossierState.IN_REVIEW,
        to_state=dossier.state,
        reason=reason,
        changes={"requirements": [None, codes], "changes_due_at": [None, due_at.isoformat()]},
    )
    notify(
        recipients=vendor_members(dossier.vendor_id),
        event="dossier_changes_requested",
        obj=dossier,
        context={"reason": reason, "codes": codes, "due_at": due_at},
    )
    return dossier


def _require_four_eyes(actor: User, dossier: Dossier) -> None:
    if selectors.four_eyes_excludes(dossier, actor):
        raise NotAllowed(
            _(
                "Principe des quatre yeux : la décision revient à un administrateur qui n'a pas "
                "pris part à l'instruction de ce dossier."
            ),
            code="FOUR_EYES",
        )


def _next_reference(scheme: Scheme, at: dt.datetime) -> str:
    year = paris_today(at).year
    counter, _created = ReferenceCounter.objects.get_or_create(scheme=scheme, year=year)
    counter = ReferenceCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{scheme.code}-{year}-{counter.last:04d}"


@transaction.atomic(durable=True)
def dossier_approve(*, actor: User, dossier: Dossier, at: dt.datetime | None = None) -> Dossier:
    at = _now(at)
    dossier = _lock(dossier)
    _require_ans_admin(actor)
    require_transition(dossier, "approve")
    _require_four_eyes(actor, dossier)
    refusals = [
        m.as_error()
        for m in rules.not_compliant_for_approval(
            selectors.requirements_of(dossier),
            selectors.verdicts_by_requirement(dossier),
            dossier.claimed_profiles,
        )
    ]
    if not dossier.complete:
        refusals.insert(0, ErrorItem("DEPOSIT_INCOMPLETE", _("Des preuves sont encore attendues.")))
    if refusals:
        raise Conflict(errors=refusals)
    dossier.approve(at=at, by=actor)
    dossier.save()
    referencing = Referencing.objects.create(
        reference=_next_reference(dossier.scheme, at),
        dossier=dossier,
        scheme=dossier.scheme,
        solution_version=dossier.solution_version,
        vendor=dossier.vendor,
        valid_from=at,
        valid_until=dossier.scheme.payment_deadline,
    )
    # the referencing's own history starts here (suspensions, revocation… follow)
    audit_record(
        actor=actor,
        action="referencing.create",
        obj=referencing,
        to_state=referencing.state,
        changes={
            "reference": [None, referencing.reference],
            "dossier": [None, str(dossier.pk)],
            "valid_until": [None, referencing.valid_until.isoformat()],
        },
    )
    audit_record(
        actor=actor,
        action="dossier.approve",
        obj=dossier,
        from_state=DossierState.IN_REVIEW,
        to_state=dossier.state,
        changes={"reference": [None, referencing.reference]},
    )
    notify(
        recipients=vendor_members(dossier.vendor_id),
        event="dossier_approved",
        obj=dossier,
        context={"referencing": referencing},
    )
    for handler in hooks.DOSSIER_APPROVED:
        handler(dossier, referencing, actor)
    dossier.referencing = referencing
    return dossier


@transaction.atomic(durable=True)
def dossier_reject(
    *, actor: User, dossier: Dossier, reason: str, at: dt.datetime | None = None
) -> Dossier:
    at = _now(at)
    dossier = _lock(dossier)
    _require_ans_admin(actor)
    require_transition(dossier, "reject")
    _require_four_eyes(actor, dossier)
    if not reason.strip():
        raise InvalidInput("required", _("Un rejet doit être motivé."), "reason")
    dossier.reject(at=at, by=actor, reason=reason)
    dossier.save()
    audit_record(
        actor=actor,
        action="dossier.reject",
        obj=dossier,
        from_state=DossierState.IN_REVIEW,
        to_state=dossier.state,
        reason=reason,
    )
    notify(
        recipients=vendor_members(dossier.vendor_id),
        event="dossier_rejected",
        obj=dossier,
        context={"reason": reason},
    )
    dossier_ended_hooks(dossier, actor)
    return dossier


def dossier_ended_hooks(dossier: Dossier, actor=None) -> None:
    """Let later apps react to a dossier ending without referencing (pre-referencing orders
    become void)."""
    for handler in hooks.DOSSIER_ENDED:
        handler(dossier, actor)


@transaction.atomic(durable=True)
def comment_create(
    *, actor: User, dossier: Dossier, body: str, internal: bool = False, requirement_code: str = ""
) -> Comment:
    """A message on a dossier: ANS admins on any dossier, a reviewer on the dossiers assigned to
    them (internal notes included), vendor members on their own (never an internal note)."""
    dossier = _lock(dossier)
    ans = selectors.is_ans(actor)
    if ans and not actor.is_ans_admin and dossier.reviewer_id != actor.pk:
        raise NotAllowed(
            _("Un instructeur ne commente que les dossiers qui lui sont attribués."),
            code="NOT_ASSIGNED_REVIEWER",
        )
    if not ans:
        _require_vendor_member(actor, dossier)
        if internal:
            raise NotAllowed(_("Les notes internes sont réservées à l'ANS."))
    if not body.strip():
        raise InvalidInput("required", _("Le message est vide."), "body")
    if (
        requirement_code
        and not dossier.requirement_set.requirements.filter(code=requirement_code).exists()
    ):
        raise InvalidInput("does_not_exist", _("Exigence inconnue."), "requirement_code")
    comment = Comment.objects.create(
        dossier=dossier,
        author=actor,
        body=body,
        internal=internal,
        requirement_code=requirement_code,
    )
    audit_record(
        actor=actor,
        action="dossier.comment",
        obj=dossier,
        changes={"comment": [None, str(comment.pk)], "internal": [None, internal]},
    )
    if internal:
        return comment
    if ans:
        recipients = vendor_members(dossier.vendor_id)
    else:
        recipients = [dossier.reviewer] if dossier.reviewer else users_with_role(Role.ANS_ADMIN)
    notify(
        recipients=[r for r in recipients if r and r.pk != actor.pk],
        event="dossier_comment",
        obj=dossier,
        context={"comment": comment},
    )
    return comment


# --- referencings ---------------------------------------------------------------------------------------------
def _referencing_transition(
    *, actor: User, referencing: Referencing, method: str, reason: str, reason_required: bool
) -> Referencing:
    _require_ans_admin(actor)
    referencing = (
        Referencing.objects.select_for_update()
        .select_related("vendor", "scheme")
        .get(pk=referencing.pk)
    )
    require_transition(referencing, method)
    if reason_required and not reason.strip():
        raise InvalidInput("required", _("Le motif est obligatoire."), "reason")
    from_state = referencing.state
    getattr(referencing, method)(reason=reason)
    referencing.save()
    audit_record(
        actor=actor,
        action=f"referencing.{method}",
        obj=referencing,
        from_state=from_state,
        to_state=referencing.state,
        reason=reason,
    )
    notify(
        recipients=vendor_members(referencing.vendor_id),
        event=f"referencing_{method}",
        obj=referencing,
        context={"reason": reason},
    )
    return referencing


@transaction.atomic(durable=True)
def referencing_suspend(*, actor: User, referencing: Referencing, reason: str) -> Referencing:
    return _referencing_transition(
        actor=actor, referencing=referencing, method="suspend", reason=reason, reason_required=True
    )


@transaction.atomic(durable=True)
def referencing_reinstate(
    *, actor: User, referencing: Referencing, reason: str = ""
) -> Referencing:
    return _referencing_transition(
        actor=actor,
        referencing=referencing,
        method="reinstate",
        reason=reason,
        reason_required=False,
    )


@transaction.atomic(durable=True)
def referencing_revoke(*, actor: User, referencing: Referencing, reason: str) -> Referencing:
    return _referencing_transition(
        actor=actor, referencing=referencing, method="revoke", reason=reason, reason_required=True
    )


@transaction.atomic(durable=True)
def referencing_set_validity(
    *, actor: User, referencing: Referencing, valid_until: dt.datetime | None
) -> Referencing:
    _require_ans_admin(actor)
    referencing = Referencing.objects.select_for_update().get(pk=referencing.pk)
    if referencing.state not in (ReferencingState.ACTIVE, ReferencingState.SUSPENDED):
        raise Conflict("TRANSITION_NOT_ALLOWED", _("Ce référencement est clos."))
    if valid_until is not None and valid_until <= referencing.valid_from:
        raise InvalidInput("invalid", _("La fin de validité doit suivre le début."), "valid_until")
    before = snapshot(referencing, ["valid_until"])
    referencing.valid_until = valid_until
    referencing.save(update_fields=["valid_until", "updated_at"])
    audit_record(
        actor=actor,
        action="referencing.update",
        obj=referencing,
        changes=diff(before, snapshot(referencing, ["valid_until"])),
    )
    return referencing
