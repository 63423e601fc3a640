"""Reads of the programme app. Each selector names its `select_related` / `prefetch_related`, so
lists cost the same number of queries whatever their length."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from accounts.models import Role
from core.errors import InvalidInput, NotFound
from core.permissions import user_has_role
from sons.models import (
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

DRAFT = "draft"
ANS_ROLES = (Role.ANS_ADMIN, Role.REVIEWER)
# A natural code in a URL: anything else cannot exist, and never reaches the database.
_CODE_IN_URL = re.compile(r"[A-Za-z0-9_.\-]{1,60}")


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _by_code_or_id(queryset: QuerySet, value: Any, code_field: str = "code"):
    """The object whose natural code — or UUID — is `value`, else 404."""
    value = str(value or "")
    pk = _as_uuid(value)
    if pk is not None:
        lookup = Q(pk=pk)
    elif _CODE_IN_URL.fullmatch(value):
        lookup = Q(**{code_field: value})
    else:
        raise NotFound()
    obj = queryset.filter(lookup).first()
    if obj is None:
        raise NotFound()
    return obj


def can_see_drafts(user: Any) -> bool:
    """Draft requirement sets are ANS work in progress: vendors and customers see published ones."""
    return user_has_role(user, *ANS_ROLES)


# --- waves, sectors, categories ------------------------------------------------------------------
def wave_list() -> QuerySet[Wave]:
    return Wave.objects.order_by("code")


def wave_get(code_or_id: Any) -> Wave:
    return _by_code_or_id(wave_list(), code_or_id)


def sector_list() -> QuerySet[Sector]:
    return Sector.objects.order_by("code")


def sector_get(code_or_id: Any) -> Sector:
    return _by_code_or_id(sector_list(), code_or_id)


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("sector").order_by("code")


def category_get(code_or_id: Any) -> Category:
    return _by_code_or_id(category_list(), code_or_id)


# --- schemes -------------------------------------------------------------------------------------
def _current_version_subquery() -> Subquery:
    return Subquery(
        RequirementSet.objects.filter(scheme=OuterRef("pk"), published_at__isnull=False)
        .order_by("-version")
        .values("version")[:1]
    )


def scheme_list() -> QuerySet[Scheme]:
    """Schemes with their wave, sector, category, and `current_requirement_set_version`."""
    return (
        Scheme.objects.select_related("wave", "sector", "category", "category__sector")
        .annotate(current_requirement_set_version=_current_version_subquery())
        .order_by("code")
    )


def scheme_get(code_or_id: Any) -> Scheme:
    return _by_code_or_id(scheme_list(), code_or_id)


def scheme_has_published_set(scheme: Scheme) -> bool:
    return RequirementSet.objects.filter(scheme=scheme, published_at__isnull=False).exists()


# --- requirement sets ----------------------------------------------------------------------------
def requirement_set_current(scheme: Scheme) -> RequirementSet | None:
    """The latest published version: the one new dossiers are filed on."""
    return (
        RequirementSet.objects.select_related("scheme")
        .filter(scheme=scheme, published_at__isnull=False)
        .order_by("-version")
        .first()
    )


def requirement_set_draft(scheme: Scheme) -> RequirementSet | None:
    return (
        RequirementSet.objects.select_related("scheme")
        .filter(scheme=scheme, published_at__isnull=True)
        .first()
    )


def parse_version(value: str | None) -> int | str | None:
    """`?version=` as given: None (current), "draft", or a version number ≥ 1."""
    if value is None or value == "":
        return None
    value = str(value).strip().lower()
    if value == DRAFT:
        return DRAFT
    if value.isdigit() and len(value) <= 9 and int(value) >= 1:
        return int(value)
    raise InvalidInput(
        "invalid",
        _("Version invalide : un numéro de version (1, 2…) ou « draft »."),
        "version",
    )


def requirement_set_resolve(
    *, scheme: Scheme, version: int | str | None, user: Any
) -> RequirementSet | None:
    """The version a read targets: the current published one by default (None when there is
    none yet), a given number, or the draft (ANS only; 404 for others, as for a missing one)."""
    if version is None:
        return requirement_set_current(scheme)
    if version == DRAFT:
        draft = requirement_set_draft(scheme) if can_see_drafts(user) else None
        if draft is None:
            raise NotFound(_("Aucune version brouillon pour ce dispositif."))
        return draft
    qs = RequirementSet.objects.select_related("scheme").filter(scheme=scheme, version=version)
    if not can_see_drafts(user):
        qs = qs.filter(published_at__isnull=False)
    found = qs.first()
    if found is None:
        raise NotFound(_("Version du référentiel introuvable."))
    return found


def requirement_set_list(*, scheme: Scheme, user: Any) -> QuerySet[RequirementSet]:
    """Versions of a scheme, newest first, with their requirement counts."""
    qs = (
        RequirementSet.objects.select_related("scheme")
        .filter(scheme=scheme)
        .annotate(
            requirements_count=Count("requirements"),
            mandatory_count=Count("requirements", filter=Q(requirements__nature=Nature.MANDATORY)),
            recommended_count=Count(
                "requirements", filter=Q(requirements__nature=Nature.RECOMMENDED)
            ),
        )
        .order_by("-version")
    )
    if not can_see_drafts(user):
        qs = qs.filter(published_at__isnull=False)
    return qs


def requirement_set_get(*, scheme: Scheme, version: int | str, user: Any) -> RequirementSet:
    qs = requirement_set_list(scheme=scheme, user=user)
    qs = qs.filter(published_at__isnull=True) if version == DRAFT else qs.filter(version=version)
    found = qs.first()
    if found is None:
        raise NotFound(_("Version du référentiel introuvable."))
    return found


# --- requirements --------------------------------------------------------------------------------
def requirement_queryset() -> QuerySet[Requirement]:
    proofs = Prefetch("proofs", queryset=ExpectedProof.objects.order_by("position", "code"))
    scenarios = Prefetch(
        "scenarios",
        queryset=Scenario.objects.order_by("position", "code").prefetch_related(proofs),
    )
    return Requirement.objects.select_related("requirement_set").prefetch_related(scenarios)


def requirement_list(requirement_set: RequirementSet | None) -> QuerySet[Requirement]:
    if requirement_set is None:
        return Requirement.objects.none()
    return (
        requirement_queryset().filter(requirement_set=requirement_set).order_by("position", "code")
    )


def requirement_get(requirement_set: RequirementSet | None, code: str) -> Requirement:
    if requirement_set is None or not _CODE_IN_URL.fullmatch(str(code or "")):
        raise NotFound(_("Exigence introuvable."))
    found = requirement_list(requirement_set).filter(code=code).first()
    if found is None:
        raise NotFound(_("Exigence introuvable."))
    return found


# --- eligible base -------------------------------------------------------------------------------
def eligible_establishment_list(scheme: Scheme) -> QuerySet[EligibleEstablishment]:
    return (
        EligibleEstablishment.objects.select_related("scheme")
        .filter(scheme=scheme)
        .order_by("establishment")
    )


def eligible_establishment_get(scheme: Scheme, identifier_or_id: Any) -> EligibleEstablishment:
    """By the establishment's national identifier (FINESS, RPPS, SIRET) or by id."""
    return _by_code_or_id(
        eligible_establishment_list(scheme), identifier_or_id, code_field="establishment"
    )
