"""How portal views guard access and call services.

- `role_required(*roles)`: anonymous → login page; another role → 403 page; a selector's
  `NotFound` (missing or not theirs) → 404 page.
- `attempt(request, call, form=None)`: run one service; an `ApplicationError` becomes error
  messages (or form errors when a form is given) instead of a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404

from accounts.models import Role
from core.errors import ApplicationError, NotFound

ANS = (Role.ANS_ADMIN, Role.REVIEWER)


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active or not user.has_role(*roles):
                raise PermissionDenied("Cette page est réservée à un autre profil d'utilisateur.")
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc)) from exc

        wrapper.portal_roles = roles
        return wrapper

    return decorator


def error_lines(exc: ApplicationError) -> list[str]:
    return [
        f"{item.detail} ({item.code})" if item.code else str(item.detail) for item in exc.errors
    ]


def attempt(request, call: Callable[[], Any], *, form=None, success: str = "") -> tuple[bool, Any]:
    """Run `call` (one service). Returns (ok, result). On a refusal, the errors go to the form
    (field errors where the error names a field of the form) or to the page's messages."""
    try:
        result = call()
    except ApplicationError as exc:
        for item in exc.errors:
            text = f"{item.detail} ({item.code})"
            if form is not None and item.attr and item.attr in form.fields:
                form.add_error(item.attr, text)
            elif form is not None:
                form.add_error(None, text)
            else:
                messages.error(request, text)
        return False, None
    except DjangoValidationError as exc:
        texts = exc.messages
        if form is not None and hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, " ".join(error.messages))
        else:
            for text in texts:
                if form is not None:
                    form.add_error(None, text)
                else:
                    messages.error(request, text)
        return False, None
    if success:
        messages.success(request, success)
    return True, result
