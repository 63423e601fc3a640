from django.db.models import QuerySet

from accounts.models import User
from core.errors import NotFound


def user_list() -> QuerySet[User]:
    return User.objects.select_related("vendor", "establishment").order_by("username")


def user_get(user_id) -> User:
    try:
        return user_list().get(pk=user_id)
    except (User.DoesNotExist, ValueError) as exc:
        raise NotFound() from exc
