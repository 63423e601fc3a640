"""Writes of the vendors app: vendors (by ANS admins), solutions and versions (by the vendor's
own members). Each public function owns its durable transaction, locks what it changes, checks
the actor's right, validates and normalises the identifiers, and writes exactly one audit entry.

`actor` is a user, or a string naming a system actor (a management command such as
`load_demo`), which has every right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core import identifiers
from core.audit import audit_record, diff, snapshot
from core.errors import Conflict, InvalidInput, NotAllowed
from sons.models import Category
from vendors.models import Solution, SolutionVersion, Vendor

Actor = User | str

VENDOR_AUDITED_FIELDS = ("name", "siren", "siret", "nie", "iban", "enrolled_at")
SOLUTION_AUDITED_FIELDS = ("vendor", "name", "category")
VERSION_AUDITED_FIELDS = ("solution", "number", "released_on")
VENDOR_EDITABLE_FIELDS = ("name", "siren", "siret", "nie", "iban")


# --- helpers ----------------------------------------------------------------------------------
def mask_iban(iban: str | None) -> str:
    """`****0189`: enough to recognise an account, not enough to use it."""
    if not iban:
        return ""
    return f"****{iban[-4:]}"


def _masked_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The audit never stores a full IBAN: only its last 4 characters."""
    if "iban" in changes:
        changes["iban"] = [mask_iban(value) if value else value for value in changes["iban"]]
    return changes


def _require_ans_admin(actor: Actor) -> None:
    if isinstance(actor, str):  # a system actor (management command)
        return
    if not (getattr(actor, "is_authenticated", False) and actor.is_ans_admin):
        raise NotAllowed(_("Réservé aux administrateurs ANS."))


def _require_vendor_member(actor: Actor, vendor_id: Any) -> None:
    if isinstance(actor, str):  # a system actor (management command)
        return
    if not (
        getattr(actor, "is_authenticated", False)
        and actor.role == Role.VENDOR
        and actor.vendor_id == vendor_id
    ):
        raise NotAllowed(_("Seuls les membres de l'éditeur peuvent faire cela."))


def _required_text(value: Any, field: str, errors: dict[str, ValidationError]) -> str:
    text = str(value or "").strip()
    if not text:
        errors[field] = ValidationError(_("Ce champ ne peut être vide."), code="blank")
    return text


def _identifier(
    value: Any,
    field: str,
    validate: Callable[[object], str],
    errors: dict[str, ValidationError],
    *,
    optional: bool = False,
) -> str:
    """Normalise and validate one identifier, collecting the error under its field name."""
    if optional and not str(value or "").strip():
        return ""
    try:
        normalised = validate(value)
    except ValidationError as exc:
        errors[field] = exc
        return str(value or "")
    return normalised


def _clean_vendor_fields(fields: dict[str, Any], *, exclude_pk: Any = None) -> dict[str, Any]:
    """Every editable field of a vendor, normalised; all errors at once, each on its field."""
    errors: dict[str, ValidationError] = {}
    cleaned = {
        "name": _required_text(fields.get("name"), "name", errors),
        "siren": _identifier(fields.get("siren"), "siren", identifiers.validate_siren, errors),
        "siret": _identifier(fields.get("siret"), "siret", identifiers.validate_siret, errors),
        "nie": _identifier(
            fields.get("nie"), "nie", identifiers.validate_nie, errors, optional=True
        ),
        "iban": _identifier(
            fields.get("iban"), "iban", identifiers.validate_iban, errors, optional=True
        ),
    }
    if "siren" not in errors and "siret" not in errors:
        try:
            identifiers.validate_siret_of_siren(cleaned["siret"], cleaned["siren"])
        except ValidationError as exc:
            errors["siret"] = exc
    others = Vendor.objects.exclude(pk=exclude_pk) if exclude_pk else Vendor.objects.all()
    if "siren" not in errors and others.filter(siren=cleaned["siren"]).exists():
        errors["siren"] = ValidationError(
            _("Un éditeur portant ce SIREN existe déjà."), code="unique"
        )
    if cleaned["nie"] and "nie" not in errors and others.filter(nie=cleaned["nie"]).exists():
        errors["nie"] = ValidationError(
            _("Un éditeur portant ce numéro CNDA (NIE) existe déjà."), code="unique"
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _save_checked(obj: Any, recheck: Callable[[], None], **save_kwargs: Any) -> None:
    """Save in a savepoint. If a concurrent writer won a uniqueness race, `recheck` (the same
    checks as before the save, now seeing the other row) raises the precise 400; anything else
    stays an IntegrityError (a 409)."""
    try:
        with transaction.atomic():
            obj.save(**save_kwargs)
    except IntegrityError:
        recheck()
        raise


# --- vendors ----------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def vendor_create(
    *,
    actor: Actor,
    name: str,
    siren: str,
    siret: str,
    nie: str = "",
    iban: str = "",
) -> Vendor:
    """Register a vendor (éditeur). ANS admins only. Identifiers are normalised (spaces out)."""
    _require_ans_admin(actor)
    cleaned = _clean_vendor_fields(
        {"name": name, "siren": siren, "siret": siret, "nie": nie, "iban": iban}
    )
    vendor = Vendor(**cleaned)
    _save_checked(vendor, lambda: _clean_vendor_fields(cleaned))
    audit_record(
        actor=actor,
        action="vendor.create",
        obj=vendor,
        changes=_masked_changes(diff({}, snapshot(vendor, VENDOR_AUDITED_FIELDS))),
    )
    return vendor


@transaction.atomic(durable=True)
def vendor_update(*, actor: Actor, vendor: Vendor, **fields: Any) -> Vendor:
    """Change a vendor's name or identifiers. ANS admins only.

    A new IBAN voids the enrolment with the paying agency: the vendor must be enrolled again
    with the new bank details before any payment (recorded in the same audit entry)."""
    _require_ans_admin(actor)
    unknown = set(fields) - set(VENDOR_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput("unknown_field", _("Champ inconnu."), sorted(unknown)[0])
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    before = snapshot(vendor, VENDOR_AUDITED_FIELDS)
    current = {name: getattr(vendor, name) for name in VENDOR_EDITABLE_FIELDS}
    cleaned = _clean_vendor_fields({**current, **fields}, exclude_pk=vendor.pk)
    for name, value in cleaned.items():
        setattr(vendor, name, value)
    if cleaned["iban"] != current["iban"] and vendor.enrolled_at is not None:
        vendor.enrolled_at = None
    changes = diff(before, snapshot(vendor, VENDOR_AUDITED_FIELDS))
    if not changes:
        return vendor
    changed = [name for name in VENDOR_AUDITED_FIELDS if name in changes]
    _save_checked(
        vendor,
        lambda: _clean_vendor_fields(cleaned, exclude_pk=vendor.pk),
        update_fields=[*changed, "updated_at"],
    )
    audit_record(
        actor=actor,
        action="vendor.update",
        obj=vendor,
        changes=_masked_changes(changes),
        reason=_("Nouvel IBAN : enrôlement ASP à refaire.") if "enrolled_at" in changes else "",
    )
    return vendor


# --- solutions --------------------------------------------------------------------------------
def _check_solution_unique(
    *, vendor_id: Any, name: str, category: Category, exclude_pk: Any = None
) -> None:
    others = Solution.objects.filter(vendor_id=vendor_id, category=category, name__iexact=name)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise InvalidInput(
            "unique",
            _("Ce logiciel existe déjà pour cet éditeur dans ce type de logiciel."),
            "name",
        )


@transaction.atomic(durable=True)
def solution_create(*, actor: Actor, vendor: Vendor, name: str, category: Category) -> Solution:
    """Declare a solution (logiciel) of the actor's own vendor."""
    _require_vendor_member(actor, vendor.pk)
    errors: dict[str, ValidationError] = {}
    name = _required_text(name, "name", errors)
    if errors:
        raise ValidationError(errors)
    _check_solution_unique(vendor_id=vendor.pk, name=name, category=category)
    solution = Solution(vendor=vendor, name=name, category=category)
    _save_checked(
        solution,
        lambda: _check_solution_unique(vendor_id=vendor.pk, name=name, category=category),
    )
    audit_record(
        actor=actor,
        action="solution.create",
        obj=solution,
        changes=diff({}, snapshot(solution, SOLUTION_AUDITED_FIELDS)),
    )
    return solution


@transaction.atomic(durable=True)
def solution_update(
    *,
    actor: Actor,
    solution: Solution,
    name: str | None = None,
    category: Category | None = None,
) -> Solution:
    """Rename a solution, or change its type while it has no version yet.

    Once a version exists, dossiers may be built on it for the schemes of that type: the type
    is then fixed (409 `category_locked`)."""
    solution = Solution.objects.select_for_update().select_related("category").get(pk=solution.pk)
    _require_vendor_member(actor, solution.vendor_id)
    before = snapshot(solution, SOLUTION_AUDITED_FIELDS)
    errors: dict[str, ValidationError] = {}
    if name is not None:
        solution.name = _required_text(name, "name", errors)
    if errors:
        raise ValidationError(errors)
    if category is not None and category.pk != solution.category_id:
        if solution.versions.exists():
            raise Conflict(
                "category_locked",
                _("Le type d'un logiciel qui a déjà des versions ne peut plus changer."),
                "category",
            )
        solution.category = category
    changes = diff(before, snapshot(solution, SOLUTION_AUDITED_FIELDS))
    if not changes:
        return solution

    def recheck() -> None:
        _check_solution_unique(
            vendor_id=solution.vendor_id,
            name=solution.name,
            category=solution.category,
            exclude_pk=solution.pk,
        )

    recheck()
    _save_checked(
        solution,
        recheck,
        update_fields=[f for f in ("name", "category") if f in changes] + ["updated_at"],
    )
    audit_record(actor=actor, action="solution.update", obj=solution, changes=changes)
    return solution


# --- versions ---------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def solution_version_create(
    *,
    actor: Actor,
    solution: Solution,
    number: str,
    released_on: dt.date | None = None,
) -> SolutionVersion:
    """Declare a version of a solution. Numbers are unique per solution (case ignored)."""
    solution = Solution.objects.select_for_update().get(pk=solution.pk)
    _require_vendor_member(actor, solution.vendor_id)
    errors: dict[str, ValidationError] = {}
    number = _required_text(number, "number", errors)
    if errors:
        raise ValidationError(errors)

    def check_unique() -> None:
        if SolutionVersion.objects.filter(solution=solution, number__iexact=number).exists():
            raise InvalidInput("unique", _("Cette version existe déjà pour ce logiciel."), "number")

    check_unique()
    version = SolutionVersion(solution=solution, number=number, released_on=released_on)
    _save_checked(version, check_unique)
    audit_record(
        actor=actor,
        action="solution_version.create",
        obj=version,
        changes=diff({}, snapshot(version, VERSION_AUDITED_FIELDS)),
    )
    return version
