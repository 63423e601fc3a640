"""Reads of the vendors app: who sees which vendor, solution and version.

Visibility (docs: see the module docstring of `vendors.api`):
- ANS admins, reviewers and payment officers see every vendor, solution and version;
- a vendor member sees their own vendor, its solutions and versions, and nothing of the others:
  another vendor's object is answered 404, exactly like a missing one;
- establishment members see vendors' public data (name, SIREN, SIRET, NIE — the company
  registry and the CNDA list are public) but not the solutions, which may be under development:
  referenced solutions reach them through the public catalogue;
- the IBAN is readable in clear by ANS admins, payment officers and the vendor's own members only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from vendors.models import Solution, SolutionVersion, Vendor

SEE_ALL_ROLES = (Role.ANS_ADMIN, Role.REVIEWER, Role.PAYMENT_OFFICER)
IBAN_READER_ROLES = (Role.ANS_ADMIN, Role.PAYMENT_OFFICER)


def _uuid_or_404(value: Any) -> uuid.UUID:
    """An identifier from a URL; anything that is not a UUID is simply not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise NotFound() from exc


def _sees_all(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*SEE_ALL_ROLES))


def own_vendor_id(user: User) -> uuid.UUID | None:
    """The vendor this user is a member of, or None."""
    if getattr(user, "is_authenticated", False) and user.role == Role.VENDOR:
        return user.vendor_id
    return None


def is_vendor_member(user: User, vendor_id: uuid.UUID | None) -> bool:
    member_of = own_vendor_id(user)
    return member_of is not None and member_of == vendor_id


def can_read_iban(user: User, vendor: Vendor) -> bool:
    """The bank details: ANS admins, payment officers and the vendor's own members."""
    if getattr(user, "is_authenticated", False) and user.has_role(*IBAN_READER_ROLES):
        return True
    return is_vendor_member(user, vendor.pk)


def can_list_members(user: User, vendor: Vendor) -> bool:
    """Who works for a vendor: ANS admins and the vendor's own members."""
    if getattr(user, "is_authenticated", False) and user.has_role(Role.ANS_ADMIN):
        return True
    return is_vendor_member(user, vendor.pk)


# --- vendors ----------------------------------------------------------------------------------
def vendor_list_for_user(user: User) -> QuerySet[Vendor]:
    qs = Vendor.objects.order_by("name", "id")
    if _sees_all(user) or (
        getattr(user, "is_authenticated", False) and user.role == Role.ESTABLISHMENT
    ):
        return qs
    vendor_id = own_vendor_id(user)
    if vendor_id is not None:
        return qs.filter(pk=vendor_id)
    return qs.none()


def vendor_get_for_user(user: User, vendor_id: Any) -> Vendor:
    """The vendor, or 404 whether it is missing or not visible to this user."""
    try:
        return vendor_list_for_user(user).get(pk=_uuid_or_404(vendor_id))
    except Vendor.DoesNotExist as exc:
        raise NotFound() from exc


def vendor_member_list(vendor: Vendor) -> QuerySet[User]:
    return User.objects.filter(vendor=vendor).order_by("username", "id")


# --- solutions --------------------------------------------------------------------------------
def solution_list_for_user(user: User) -> QuerySet[Solution]:
    qs = Solution.objects.select_related("vendor", "category").order_by(
        "vendor__name", "name", "id"
    )
    if _sees_all(user):
        return qs
    vendor_id = own_vendor_id(user)
    if vendor_id is not None:
        return qs.filter(vendor_id=vendor_id)
    return qs.none()


def solution_get_for_user(user: User, solution_id: Any) -> Solution:
    try:
        return solution_list_for_user(user).get(pk=_uuid_or_404(solution_id))
    except Solution.DoesNotExist as exc:
        raise NotFound() from exc


# --- versions ---------------------------------------------------------------------------------
def solution_version_list(solution: Solution) -> QuerySet[SolutionVersion]:
    """The versions of a solution the caller already may see, newest first."""
    return (
        SolutionVersion.objects.filter(solution=solution)
        .select_related("solution")
        .order_by("-created_at", "id")
    )


def solution_version_get(solution: Solution, version_id: Any) -> SolutionVersion:
    try:
        return solution_version_list(solution).get(pk=_uuid_or_404(version_id))
    except SolutionVersion.DoesNotExist as exc:
        raise NotFound() from exc
