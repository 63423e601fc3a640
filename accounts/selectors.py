from django.db.models import QuerySet

from accounts.models import ApiToken, User
from core.errors import NotFound


def user_list() -> QuerySet[User]:
    return User.objects.select_related("vendor", "establishment").order_by("username")


def user_get(user_id) -> User:
    try:
        return user_list().get(pk=user_id)
    except (User.DoesNotExist, ValueError) as exc:
        raise NotFound() from exc


def vendor_members(vendor_id) -> list[User]:
    """The active members of a vendor: who a vendor-side notification goes to."""
    return list(User.objects.filter(vendor_id=vendor_id, is_active=True))


def establishment_members(establishment_id) -> list[User]:
    return list(User.objects.filter(establishment_id=establishment_id, is_active=True))


def users_with_role(role: str) -> list[User]:
    return list(User.objects.filter(role=role, is_active=True))


def api_token_for_key(key: str) -> ApiToken | None:
    """The token whose key this is, with its user (one query, by the hash's unique index)."""
    return ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()


def api_tokens_of(user_id) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=user_id).order_by("-created_at", "-pk")
