"""Role-based permissions. Roles are those of api.md; a superuser has ans_admin rights."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def user_has_role(user, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.has_role(*roles))


def roles(*, read: tuple[str, ...] = (), write: tuple[str, ...] = ()) -> type[BasePermission]:
    """A permission class: `read` roles may use safe methods, `write` roles everything."""

    class RolePermission(BasePermission):
        def has_permission(self, request, view):
            if request.method in SAFE_METHODS:
                return user_has_role(request.user, *read, *write)
            return user_has_role(request.user, *write)

    RolePermission.__name__ = f"Roles(read={read}, write={write})"
    return RolePermission


ANS = ("ans_admin", "reviewer")
ALL_ROLES = ("ans_admin", "reviewer", "payment_officer", "vendor", "establishment")
IsAnsAdmin = roles(write=("ans_admin",))
