"""Writes of the programme app: waves, schemes and their calendars, versioned requirement sets,
the eligible-establishment base.

Every public service is keyword-only, owns its (durable) transaction, checks that the actor may
write the programme, locks what it changes, and writes exactly one audit entry — none when the
call changes nothing. `actor` is a user, or a string naming a system actor (a command)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.audit import ObjectRef, audit_record, diff, snapshot
from core.errors import Conflict, ErrorItem, InvalidInput, NotAllowed, NotFound
from core.permissions import user_has_role
from sons.eligible_csv import CsvLineError, parse_eligible_csv
from sons.errors import SonsErrorCode
from sons.models import (
    DEFAULT_EVIDENCE_MAX_BYTES,
    GENERAL_PROFILE,
    Acceptance,
    Category,
    EligibleEstablishment,
    ExpectedProof,
    Nature,
    Requirement,
    RequirementSet,
    Scenario,
    Scheme,
    Sector,
    Wave,
)
from sons.selectors import requirement_get, requirement_list
from sons.validators import establishment_identifier

Actor = User | str

WAVE_FIELDS = ("code", "name")
SCHEME_IDENTITY_FIELDS = ("code", "wave", "sector", "category")
SCHEME_FIELDS = (
    *SCHEME_IDENTITY_FIELDS,
    "name",
    "submission_opens",
    "submission_closes",
    "order_deadline",
    "installation_deadline",
    "payment_deadline",
    "price_cap",
    "advance_rate",
    "changes_due_days",
    "pre_referencing_days",
    "tacit_acceptance_days",
    "acceptance",
    "uses_eligible_base",
    "allows_incomplete_submission",
    "evidence_max_bytes",
)
# The calendar, in the order it must read (each on or after the one before; opens < closes).
CALENDAR_CHAIN = ("submission_opens", "order_deadline", "installation_deadline", "payment_deadline")
REQUIREMENT_FIELDS = (
    "code",
    "section",
    "title",
    "statement",
    "nature",
    "profile",
    "evidence_required",
    "position",
)
ELIGIBLE_FIELDS = ("establishment", "name", "max_amount")


# --- helpers -------------------------------------------------------------------------------------
def _require_programme_admin(actor: Actor) -> None:
    """Programme configuration is for ANS admins (and system commands)."""
    if isinstance(actor, str):
        return
    if not user_has_role(actor, Role.ANS_ADMIN):
        raise NotAllowed(_("Réservé aux administrateurs ANS."))


def _full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    """Model-level validation (formats, lengths, choices, uniqueness, constraints) as a 400."""
    instance.full_clean(exclude=list(exclude))


def _unknown_fields(changes: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(
            errors=[ErrorItem("unknown_field", _("Champ inconnu."), name) for name in unknown]
        )


def _lock_scheme(scheme: Scheme) -> Scheme:
    try:
        return Scheme.objects.select_for_update().get(pk=scheme.pk)
    except Scheme.DoesNotExist as exc:
        raise NotFound() from exc


# --- waves ---------------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def wave_create(*, actor: Actor, code: str, name: str) -> Wave:
    _require_programme_admin(actor)
    wave = Wave(code=code, name=name)
    _full_clean(wave)
    wave.save()
    audit_record(
        actor=actor, action="wave.create", obj=wave, changes=diff({}, snapshot(wave, WAVE_FIELDS))
    )
    return wave


@transaction.atomic(durable=True)
def wave_update(*, actor: Actor, wave: Wave, **changes: Any) -> Wave:
    """Rename a wave. Its code no longer changes once a scheme uses it."""
    _require_programme_admin(actor)
    _unknown_fields(changes, WAVE_FIELDS)
    wave = Wave.objects.select_for_update().get(pk=wave.pk)
    before = snapshot(wave, WAVE_FIELDS)
    for name, value in changes.items():
        setattr(wave, name, value)
    changed = diff(before, snapshot(wave, WAVE_FIELDS))
    if not changed:
        return wave
    if "code" in changed and wave.schemes.exists():
        raise Conflict(
            SonsErrorCode.WAVE_CODE_FROZEN,
            _("Le code d'une vague ne change plus une fois des dispositifs rattachés."),
            "code",
        )
    _full_clean(wave)
    wave.save(update_fields=[*changed, "updated_at"])
    audit_record(actor=actor, action="wave.update", obj=wave, changes=changed)
    return wave


# --- schemes -------------------------------------------------------------------------------------
def _scheme_rules(scheme: Scheme) -> None:
    """Sector consistent with the category; calendar in order."""
    errors: list[ErrorItem] = []
    if scheme.category_id and scheme.sector_id and scheme.category.sector_id != scheme.sector_id:
        errors.append(
            ErrorItem(
                SonsErrorCode.SECTOR_MISMATCH,
                _("Le type de logiciel %(c)s relève du couloir %(s)s.")
                % {"c": scheme.category.code, "s": scheme.category.sector.code},
                "sector",
            )
        )
    if (
        scheme.submission_opens
        and scheme.submission_closes
        and scheme.submission_closes <= scheme.submission_opens
    ):
        errors.append(
            ErrorItem(
                SonsErrorCode.CALENDAR_ORDER,
                _("La clôture des dépôts doit suivre leur ouverture."),
                "submission_closes",
            )
        )
    labels = {
        "submission_opens": _("l'ouverture des dépôts"),
        "order_deadline": _("la date limite de commande"),
        "installation_deadline": _("la date limite d'installation"),
        "payment_deadline": _("la date limite de demande de paiement"),
    }
    for earlier, later in itertools.pairwise(CALENDAR_CHAIN):
        first, second = getattr(scheme, earlier), getattr(scheme, later)
        if first and second and second < first:
            errors.append(
                ErrorItem(
                    SonsErrorCode.CALENDAR_ORDER,
                    _("%(later)s ne peut pas précéder %(earlier)s.")
                    % {"later": labels[later].capitalize(), "earlier": labels[earlier]},
                    later,
                )
            )
    if errors:
        raise InvalidInput(errors=errors)


def _default_scheme_name(scheme: Scheme) -> str:
    return f"{scheme.category.name} — {scheme.sector.name} — {scheme.wave.name}"[:300]


@transaction.atomic(durable=True)
def scheme_create(
    *,
    actor: Actor,
    code: str,
    wave: Wave,
    category: Category,
    sector: Sector | None = None,
    submission_opens: dt.datetime,
    submission_closes: dt.datetime,
    order_deadline: dt.datetime,
    installation_deadline: dt.datetime,
    payment_deadline: dt.datetime,
    price_cap: Decimal,
    name: str = "",
    advance_rate: Decimal = Decimal("0.30"),
    changes_due_days: int = 15,
    pre_referencing_days: int = 120,
    tacit_acceptance_days: int | None = None,
    acceptance: str = Acceptance.VA,
    uses_eligible_base: bool = False,
    allows_incomplete_submission: bool = True,
    evidence_max_bytes: int = DEFAULT_EVIDENCE_MAX_BYTES,
) -> Scheme:
    """Open a scheme (sector × category × wave). The sector defaults to the category's."""
    _require_programme_admin(actor)
    scheme = Scheme(
        code=code,
        name=name,
        wave=wave,
        category=category,
        sector=sector or category.sector,
        submission_opens=submission_opens,
        submission_closes=submission_closes,
        order_deadline=order_deadline,
        installation_deadline=installation_deadline,
        payment_deadline=payment_deadline,
        price_cap=price_cap,
        advance_rate=advance_rate,
        changes_due_days=changes_due_days,
        pre_referencing_days=pre_referencing_days,
        tacit_acceptance_days=tacit_acceptance_days,
        acceptance=acceptance,
        uses_eligible_base=uses_eligible_base,
        allows_incomplete_submission=allows_incomplete_submission,
        evidence_max_bytes=evidence_max_bytes,
    )
    _scheme_rules(scheme)
    if not scheme.name:
        scheme.name = _default_scheme_name(scheme)
    _full_clean(scheme, exclude=("wave", "sector", "category"))
    scheme.save()
    audit_record(
        actor=actor,
        action="scheme.create",
        obj=scheme,
        changes=diff({}, snapshot(scheme, SCHEME_FIELDS)),
    )
    return scheme


@transaction.atomic(durable=True)
def scheme_update(*, actor: Actor, scheme: Scheme, **changes: Any) -> Scheme:
    """Change a scheme's calendar and parameters. Its identity (code, wave, sector, category)
    is frozen once it has a published requirement set: dossiers may have been filed on it.
    A new category without a sector moves the scheme to the category's sector."""
    _require_programme_admin(actor)
    _unknown_fields(changes, SCHEME_FIELDS)
    scheme = Scheme.objects.select_for_update().select_related("category__sector").get(pk=scheme.pk)
    before = snapshot(scheme, SCHEME_FIELDS)
    for name, value in changes.items():
        setattr(scheme, name, value)
    if "category" in changes and changes.get("sector") is None:
        scheme.sector = scheme.category.sector
    changed = diff(before, snapshot(scheme, SCHEME_FIELDS))
    if not changed:
        return scheme
    identity = sorted(set(changed) & set(SCHEME_IDENTITY_FIELDS))
    if identity and scheme.requirement_sets.filter(published_at__isnull=False).exists():
        raise Conflict(
            errors=[
                ErrorItem(
                    SonsErrorCode.SCHEME_IDENTITY_FROZEN,
                    _(
                        "Le code, la vague, le couloir et le type de logiciel d'un dispositif "
                        "ne changent plus une fois un référentiel publié."
                    ),
                    name,
                )
                for name in identity
            ]
        )
    _scheme_rules(scheme)
    if not scheme.name:
        scheme.name = _default_scheme_name(scheme)
        changed = diff(before, snapshot(scheme, SCHEME_FIELDS))
    _full_clean(scheme, exclude=("wave", "sector", "category"))
    scheme.save(update_fields=[*changed, "updated_at"])
    audit_record(actor=actor, action="scheme.update", obj=scheme, changes=changed)
    return scheme


# --- requirement sets ----------------------------------------------------------------------------
def _requirement_content(requirement: Requirement) -> dict[str, Any]:
    """A requirement with its scenarios and proofs, as plain data (for audit and comparison)."""
    content = snapshot(requirement, REQUIREMENT_FIELDS)
    content["scenarios"] = [
        {
            "code": s.code,
            "description": s.description,
            "proofs": [
                {"code": p.code, "nature": p.nature, "text": p.text} for p in s.proofs.all()
            ],
        }
        for s in requirement.scenarios.all()
    ]
    return content


def _set_content(requirement_set: RequirementSet) -> list[dict[str, Any]]:
    return [_requirement_content(r) for r in requirement_list(requirement_set)]


def _latest_published(scheme: Scheme) -> RequirementSet | None:
    return (
        RequirementSet.objects.filter(scheme=scheme, published_at__isnull=False)
        .order_by("-version")
        .first()
    )


def _next_version(scheme: Scheme) -> int:
    latest = RequirementSet.objects.filter(scheme=scheme).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


def _copy_requirements(source: RequirementSet, target: RequirementSet) -> int:
    """Copy every requirement, scenario and proof of `source` into `target` (3 inserts)."""
    requirements, scenarios, proofs = [], [], []
    for req in requirement_list(source):
        new_req = Requirement(
            requirement_set=target, **{f: getattr(req, f) for f in REQUIREMENT_FIELDS}
        )
        requirements.append(new_req)
        for scen in req.scenarios.all():
            new_scen = Scenario(
                requirement=new_req,
                code=scen.code,
                description=scen.description,
                position=scen.position,
            )
            scenarios.append(new_scen)
            proofs.extend(
                ExpectedProof(
                    scenario=new_scen,
                    code=p.code,
                    nature=p.nature,
                    text=p.text,
                    position=p.position,
                )
                for p in scen.proofs.all()
            )
    Requirement.objects.bulk_create(requirements, batch_size=500)
    Scenario.objects.bulk_create(scenarios, batch_size=500)
    ExpectedProof.objects.bulk_create(proofs, batch_size=500)
    return len(requirements)


@dataclass(frozen=True)
class _Draft:
    requirement_set: RequirementSet
    created: bool
    copied_from: RequirementSet | None

    @property
    def reason(self) -> str:
        reason = _("brouillon v%(v)s") % {"v": self.requirement_set.version}
        if self.created and self.copied_from is not None:
            reason += _(" créé à partir de la v%(b)s") % {"b": self.copied_from.version}
        elif self.created:
            reason += _(" créé (aucune version publiée)")
        return reason


def _draft_for_write(scheme: Scheme) -> _Draft:
    """The scheme's draft, created on first write as a copy of the latest published version.
    The caller holds the scheme's row lock, so two first writes cannot both create one."""
    draft = RequirementSet.objects.filter(scheme=scheme, published_at__isnull=True).first()
    if draft is not None:
        return _Draft(draft, created=False, copied_from=None)
    base = _latest_published(scheme)
    draft = RequirementSet.objects.create(scheme=scheme, version=_next_version(scheme))
    if base is not None:
        _copy_requirements(base, draft)
    return _Draft(draft, created=True, copied_from=base)


def _check_unique_codes(items: Sequence[Mapping[str, Any]], attr: str) -> list[ErrorItem]:
    errors, seen = [], set()
    for index, item in enumerate(items):
        code = item.get("code")
        if code in seen:
            errors.append(
                ErrorItem(
                    SonsErrorCode.DUPLICATE_CODE,
                    _("Le code %(c)s apparaît deux fois.") % {"c": code},
                    f"{attr}.{index}.code",
                )
            )
        seen.add(code)
    return errors


def _replace_scenarios(requirement: Requirement, scenarios: Sequence[Mapping[str, Any]]) -> None:
    """Replace a requirement's scenarios (and their proofs) as a whole."""
    errors = _check_unique_codes(scenarios, "scenarios")
    new_scenarios, new_proofs = [], []
    for index, data in enumerate(scenarios):
        scenario = Scenario(
            requirement=requirement,
            code=data.get("code", ""),
            description=data.get("description", ""),
            position=index,
        )
        proofs = list(data.get("proofs") or [])
        errors.extend(_check_unique_codes(proofs, f"scenarios.{index}.proofs"))
        errors.extend(_clean_errors(scenario, f"scenarios.{index}", exclude=("requirement",)))
        new_scenarios.append(scenario)
        for position, proof_data in enumerate(proofs):
            proof = ExpectedProof(
                scenario=scenario,
                code=proof_data.get("code", ""),
                nature=proof_data.get("nature", ""),
                text=proof_data.get("text", ""),
                position=position,
            )
            errors.extend(
                _clean_errors(proof, f"scenarios.{index}.proofs.{position}", exclude=("scenario",))
            )
            new_proofs.append(proof)
    if errors:
        raise InvalidInput(errors=errors)
    requirement.scenarios.all().delete()
    Scenario.objects.bulk_create(new_scenarios)
    ExpectedProof.objects.bulk_create(new_proofs)


def _clean_errors(instance: Any, prefix: str, exclude: Sequence[str]) -> list[ErrorItem]:
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        return [
            ErrorItem(error.code or "invalid", error.messages[0], f"{prefix}.{name}")
            for name, errors in exc.error_dict.items()
            for error in errors
        ]
    return []


def _requirement_unique_code(draft: RequirementSet, code: str, exclude_pk: Any = None) -> None:
    qs = draft.requirements.filter(code=code)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise InvalidInput(
            "unique", _("Une exigence porte déjà ce code dans cette version."), "code"
        )


def _requirement_in_draft(draft: RequirementSet, code: str) -> Requirement:
    return requirement_get(draft, code)


@transaction.atomic(durable=True)
def requirement_create(
    *,
    actor: Actor,
    scheme: Scheme,
    code: str,
    title: str,
    statement: str,
    nature: str = Nature.MANDATORY,
    profile: str = GENERAL_PROFILE,
    evidence_required: bool = True,
    section: str = "",
    position: int | None = None,
    scenarios: Sequence[Mapping[str, Any]] = (),
) -> Requirement:
    """Add a requirement to the scheme's draft (created from the latest published version)."""
    _require_programme_admin(actor)
    scheme = _lock_scheme(scheme)
    work = _draft_for_write(scheme)
    draft = work.requirement_set
    _requirement_unique_code(draft, code)
    if position is None:
        position = (draft.requirements.aggregate(p=Max("position"))["p"] or 0) + 1
    requirement = Requirement(
        requirement_set=draft,
        code=code,
        title=title,
        statement=statement,
        nature=nature,
        profile=profile,
        evidence_required=evidence_required,
        section=section,
        position=position,
    )
    _full_clean(requirement, exclude=("requirement_set",))
    requirement.save()
    _replace_scenarios(requirement, scenarios)
    requirement = _requirement_in_draft(draft, requirement.code)
    audit_record(
        actor=actor,
        action="requirement.create",
        obj=requirement,
        reason=work.reason,
        changes=diff({}, _requirement_content(requirement)),
    )
    return requirement


@transaction.atomic(durable=True)
def requirement_update(
    *, actor: Actor, scheme: Scheme, requirement_code: str, **changes: Any
) -> Requirement:
    """Change a requirement of the scheme's draft; `scenarios`, when given, replace the old ones
    as a whole. Published versions are never touched."""
    _require_programme_admin(actor)
    _unknown_fields(changes, (*REQUIREMENT_FIELDS, "scenarios"))
    scheme = _lock_scheme(scheme)
    work = _draft_for_write(scheme)
    draft = work.requirement_set
    requirement = _requirement_in_draft(draft, requirement_code)
    before = _requirement_content(requirement)
    scenarios = changes.pop("scenarios", None)
    for name, value in changes.items():
        setattr(requirement, name, value)
    if "code" in changes:
        _requirement_unique_code(draft, requirement.code, exclude_pk=requirement.pk)
    _full_clean(requirement, exclude=("requirement_set",))
    requirement.save()
    if scenarios is not None:
        _replace_scenarios(requirement, scenarios)
    requirement = _requirement_in_draft(draft, requirement.code)
    changed = diff(before, _requirement_content(requirement))
    if changed or work.created:
        audit_record(
            actor=actor,
            action="requirement.update",
            obj=requirement,
            reason=work.reason,
            changes=changed,
        )
    return requirement


@transaction.atomic(durable=True)
def requirement_delete(*, actor: Actor, scheme: Scheme, requirement_code: str) -> None:
    """Remove a requirement from the scheme's draft."""
    _require_programme_admin(actor)
    scheme = _lock_scheme(scheme)
    work = _draft_for_write(scheme)
    requirement = _requirement_in_draft(work.requirement_set, requirement_code)
    before = _requirement_content(requirement)
    ref = ObjectRef(requirement._meta.label_lower, str(requirement.pk), str(requirement))
    requirement.delete()
    audit_record(
        actor=actor,
        action="requirement.delete",
        obj=ref,
        reason=work.reason,
        changes={k: [v, None] for k, v in before.items()},
    )


@transaction.atomic(durable=True)
def requirement_set_publish(
    *, actor: Actor, scheme: Scheme, notes: str | None = None, at: dt.datetime | None = None
) -> RequirementSet:
    """Publish the scheme's draft: it becomes the current version, frozen for good."""
    _require_programme_admin(actor)
    scheme = _lock_scheme(scheme)
    draft = RequirementSet.objects.filter(scheme=scheme, published_at__isnull=True).first()
    if draft is None:
        raise Conflict(
            SonsErrorCode.NO_DRAFT,
            _("Aucun brouillon à publier : modifiez d'abord une exigence de ce dispositif."),
        )
    content = _set_content(draft)
    if not content:
        raise Conflict(SonsErrorCode.EMPTY_DRAFT, _("Le brouillon ne contient aucune exigence."))
    previous = _latest_published(scheme)
    previous_content = _set_content(previous) if previous is not None else []
    if previous is not None and previous_content == content:
        raise Conflict(
            SonsErrorCode.DRAFT_UNCHANGED,
            _("Le brouillon est identique à la version %(v)s publiée.") % {"v": previous.version},
        )
    draft.published_at = at or timezone.now()
    if notes is not None:
        draft.notes = notes
    draft.save(update_fields=["published_at", "notes", "updated_at"])
    audit_record(
        actor=actor,
        action="requirementset.publish",
        obj=draft,
        from_state="draft",
        to_state="published",
        changes={
            "version": [previous.version if previous else None, draft.version],
            "requirements": [len(previous_content), len(content)],
            "published_at": [None, draft.published_at],
        },
    )
    return draft


@transaction.atomic(durable=True)
def requirement_set_discard_draft(*, actor: Actor, scheme: Scheme) -> None:
    """Throw the scheme's draft away; the published versions stay as they are."""
    _require_programme_admin(actor)
    scheme = _lock_scheme(scheme)
    draft = RequirementSet.objects.filter(scheme=scheme, published_at__isnull=True).first()
    if draft is None:
        raise Conflict(SonsErrorCode.NO_DRAFT, _("Ce dispositif n'a pas de brouillon."))
    ref = ObjectRef(draft._meta.label_lower, str(draft.pk), str(draft))
    count = draft.requirements.count()
    draft.delete()
    audit_record(
        actor=actor,
        action="requirementset.discard",
        obj=ref,
        from_state="draft",
        changes={"requirements": [count, None]},
    )


@transaction.atomic(durable=True)
def requirement_set_import(
    *,
    actor: Actor,
    scheme: Scheme,
    requirements: Sequence[Mapping[str, Any]],
    notes: str = "",
) -> RequirementSet:
    """Replace the whole content of the scheme's draft (created if needed) with `requirements`:
    mappings with the requirement fields and `scenarios` [{code, description, proofs}]."""
    _require_programme_admin(actor)
    scheme = _lock_scheme(scheme)
    draft = RequirementSet.objects.filter(scheme=scheme, published_at__isnull=True).first()
    created = draft is None
    if draft is None:
        draft = RequirementSet.objects.create(scheme=scheme, version=_next_version(scheme))
    before = draft.requirements.count()
    draft.requirements.all().delete()
    errors = _check_unique_codes(requirements, "requirements")
    if errors:
        raise InvalidInput(errors=errors)
    for position, data in enumerate(requirements):
        _unknown_fields(data, (*REQUIREMENT_FIELDS, "scenarios"))
        fields = {k: v for k, v in data.items() if k in REQUIREMENT_FIELDS}
        fields.setdefault("position", position)
        requirement = Requirement(requirement_set=draft, **fields)
        _full_clean(requirement, exclude=("requirement_set",))
        requirement.save()
        _replace_scenarios(requirement, data.get("scenarios") or [])
    if notes:
        draft.notes = notes
        draft.save(update_fields=["notes", "updated_at"])
    audit_record(
        actor=actor,
        action="requirementset.import",
        obj=draft,
        reason=_("brouillon v%(v)s%(c)s")
        % {"v": draft.version, "c": _(" créé") if created else ""},
        changes={"requirements": [before, len(requirements)]},
    )
    return draft


# --- eligible base -------------------------------------------------------------------------------
def _identifier(value: Any) -> str:
    try:
        return establishment_identifier(value)
    except ValidationError as exc:
        raise InvalidInput(exc.code or "invalid", exc.messages[0], "establishment") from exc


def _eligible_unique(scheme: Scheme, identifier: str, exclude_pk: Any = None) -> None:
    qs = EligibleEstablishment.objects.filter(scheme=scheme, establishment=identifier)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise InvalidInput(
            "unique",
            _("Cet établissement figure déjà dans la base de ce dispositif."),
            "establishment",
        )


@transaction.atomic(durable=True)
def eligible_establishment_create(
    *,
    actor: Actor,
    scheme: Scheme,
    establishment: str,
    max_amount: Decimal | None = None,
    name: str = "",
) -> EligibleEstablishment:
    _require_programme_admin(actor)
    identifier = _identifier(establishment)
    scheme = _lock_scheme(scheme)  # serialises with imports into the same base
    _eligible_unique(scheme, identifier)
    eligible = EligibleEstablishment(
        scheme=scheme, establishment=identifier, max_amount=max_amount, name=name
    )
    _full_clean(eligible, exclude=("scheme",))
    eligible.save()
    audit_record(
        actor=actor,
        action="eligibleestablishment.create",
        obj=eligible,
        changes=diff({}, snapshot(eligible, ELIGIBLE_FIELDS)),
    )
    return eligible


@transaction.atomic(durable=True)
def eligible_establishment_update(
    *, actor: Actor, eligible: EligibleEstablishment, **changes: Any
) -> EligibleEstablishment:
    _require_programme_admin(actor)
    _unknown_fields(changes, ELIGIBLE_FIELDS)
    eligible = (
        EligibleEstablishment.objects.select_for_update()
        .select_related("scheme")
        .get(pk=eligible.pk)
    )
    before = snapshot(eligible, ELIGIBLE_FIELDS)
    if "establishment" in changes:
        changes["establishment"] = _identifier(changes["establishment"])
        _eligible_unique(eligible.scheme, changes["establishment"], exclude_pk=eligible.pk)
    for name, value in changes.items():
        setattr(eligible, name, value)
    changed = diff(before, snapshot(eligible, ELIGIBLE_FIELDS))
    if not changed:
        return eligible
    _full_clean(eligible, exclude=("scheme",))
    eligible.save(update_fields=[*changed, "updated_at"])
    audit_record(actor=actor, action="eligibleestablishment.update", obj=eligible, changes=changed)
    return eligible


@transaction.atomic(durable=True)
def eligible_establishment_delete(*, actor: Actor, eligible: EligibleEstablishment) -> None:
    _require_programme_admin(actor)
    eligible = EligibleEstablishment.objects.select_for_update().get(pk=eligible.pk)
    before = snapshot(eligible, ELIGIBLE_FIELDS)
    ref = ObjectRef(eligible._meta.label_lower, str(eligible.pk), str(eligible))
    eligible.delete()
    audit_record(
        actor=actor,
        action="eligibleestablishment.delete",
        obj=ref,
        changes={k: [v, None] for k, v in before.items()},
    )


@dataclass
class EligibleImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[CsvLineError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.line for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
        }


@transaction.atomic(durable=True)
def eligible_base_import(
    *, actor: Actor, scheme: Scheme, data: bytes, source: str = ""
) -> EligibleImportReport:
    """Upsert the good lines of a CSV file into the scheme's eligible base (by identifier) and
    report the bad ones with their line numbers. One transaction, one audit entry with counts.
    Establishments absent from the file are kept."""
    _require_programme_admin(actor)
    parsed = parse_eligible_csv(data)
    scheme = _lock_scheme(scheme)
    existing = {e.establishment: e for e in EligibleEstablishment.objects.filter(scheme=scheme)}
    report = EligibleImportReport(errors=parsed.errors)
    now = timezone.now()
    to_create, to_update = [], []
    for row in parsed.rows:
        current = existing.get(row.establishment)
        if current is None:
            to_create.append(
                EligibleEstablishment(
                    scheme=scheme,
                    establishment=row.establishment,
                    max_amount=row.max_amount,
                    name=row.name or "",
                )
            )
            continue
        new_name = row.name if row.name else current.name
        if current.max_amount == row.max_amount and current.name == new_name:
            report.unchanged += 1
            continue
        current.max_amount, current.name, current.updated_at = row.max_amount, new_name, now
        to_update.append(current)
    EligibleEstablishment.objects.bulk_create(to_create, batch_size=1000)
    EligibleEstablishment.objects.bulk_update(
        to_update, ["max_amount", "name", "updated_at"], batch_size=1000
    )
    report.created, report.updated = len(to_create), len(to_update)
    audit_record(
        actor=actor,
        action="eligibleestablishment.import",
        obj=scheme,
        reason=(source or "")[:300],
        changes={
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
            "rejected_lines": sorted({e.line for e in report.errors})[:100],
        },
    )
    return report
