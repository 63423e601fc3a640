"""Writes on accounts: users, API tokens, login throttling."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, LoginFailure, Role, User
from core.audit import audit_record, diff, snapshot
from core.errors import ApplicationError, InvalidInput, NotAllowed, TooManyAttempts

security_log = logging.getLogger("sons.security")
T = TypeVar("T")

USER_AUDITED_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "vendor",
    "establishment",
    "signatory",
    "is_active",
    "is_staff",
    "is_superuser",
)
USER_M2M_FIELDS = ("groups", "user_permissions")
USER_EDITABLE_FIELDS = (*USER_AUDITED_FIELDS, *USER_M2M_FIELDS)
# Who may use the Django admin, and do what there: changed by superusers only.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


# --- login throttling ---------------------------------------------------------------------------
def login_wait_seconds(
    *, username: str, ip_address: str | None, now: dt.datetime | None = None
) -> int:
    """Seconds the next attempt for this username or address must still wait (0: go ahead)."""
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    who = Q(username__iexact=username) if username else Q(pk__in=[])
    if ip_address:
        who |= Q(ip_address=ip_address)
    stats = LoginFailure.objects.filter(who, at__gte=since).aggregate(
        by_user=Count("id", filter=Q(username__iexact=username)),
        by_ip=Count("id", filter=Q(ip_address=ip_address))
        if ip_address
        else Count("id", filter=Q(pk__in=[])),
        last=Max("at"),
    )
    failures = max(stats["by_user"], stats["by_ip"])
    if failures < settings.LOGIN_FAILURES_FREE:
        return 0
    delay = min(2 ** (failures - settings.LOGIN_FAILURES_FREE), settings.LOGIN_MAX_DELAY)
    remaining = (stats["last"] + dt.timedelta(seconds=delay) - now).total_seconds()
    return max(0, int(remaining + 0.999))


def login_throttle_check(*, username: str, ip_address: str | None) -> None:
    wait = login_wait_seconds(username=username, ip_address=ip_address)
    if wait:
        security_log.warning(
            "login throttled: username=%r ip=%s wait=%ss", username, ip_address, wait
        )
        raise TooManyAttempts(
            _("Trop de tentatives de connexion échouées. Réessayez dans %(s)s seconde(s).")
            % {"s": wait},
            wait_seconds=wait,
        )


def login_failure_record(
    *, username: str, ip_address: str | None, channel: str
) -> LoginFailure | None:
    security_log.warning(
        "login failed: username=%r ip=%s channel=%s", username, ip_address, channel
    )
    if _attempt_reserved.get():  # already counted by login_attempt()
        return None
    return LoginFailure.objects.create(
        username=(username or "")[:150], ip_address=ip_address, channel=channel
    )


# Set while login_attempt() checks a password: the failure is already recorded.
_attempt_reserved: ContextVar[bool] = ContextVar("login_attempt_reserved", default=False)


def _lock_login_keys(*, username: str, ip_address: str | None) -> None:
    """Serialise the check-and-reserve of attempts on one username or one address (PostgreSQL
    advisory locks, released at commit; always taken in the same order). SQLite needs none:
    `BEGIN IMMEDIATE` already lets one writer in at a time."""
    if connection.vendor != "postgresql":
        return
    keys = {f"login:user:{(username or '').lower()}"}
    if ip_address:
        keys.add(f"login:ip:{ip_address}")
    with connection.cursor() as cursor:
        for key in sorted(keys):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


@transaction.atomic(durable=True)
def _login_attempt_reserve(*, username: str, ip_address: str | None, channel: str) -> int:
    _lock_login_keys(username=username, ip_address=ip_address)
    login_throttle_check(username=username, ip_address=ip_address)
    return LoginFailure.objects.create(
        username=(username or "")[:150], ip_address=ip_address, channel=channel
    ).pk


def login_attempt(
    *, username: str, ip_address: str | None, channel: str, check: Callable[[], T]
) -> T:
    """Check a password (`check`: authenticate, or a login form's clean) under the throttle,
    atomically: the throttle is read and the attempt recorded as a failure in one transaction
    under a lock on the username and the address, before the password is checked; a success
    then deletes that record. So N attempts at once are counted as they start, and at most
    `LOGIN_FAILURES_FREE` of them are evaluated before the others are throttled (429) — never
    counted as failures themselves. `check` returning None or raising is a failure."""
    reserved = _login_attempt_reserve(username=username, ip_address=ip_address, channel=channel)
    token = _attempt_reserved.set(True)
    try:
        result = check()
    finally:
        _attempt_reserved.reset(token)
    if result is not None:
        LoginFailure.objects.filter(pk=reserved).delete()
    return result


# --- API tokens ---------------------------------------------------------------------------------
TOKENS_PER_USER = 20
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


class NewApiToken(NamedTuple):
    """A token just created, and its key in clear: the only time anyone sees it."""

    token: ApiToken
    key: str


def token_obtain(
    *, username: str, password: str, ip_address: str | None, request=None
) -> NewApiToken:
    """Exchange credentials for a NEW API token of that user (see `api_token_create`).

    Each call creates a token: several programs of one user each hold their own, and the
    oldest beyond `TOKENS_PER_USER` are deleted."""
    user = login_attempt(
        username=username,
        ip_address=ip_address,
        channel="api",
        check=lambda: authenticate(request, username=username, password=password),
    )
    if user is None:  # recorded as a failure by login_attempt
        raise ApplicationError("invalid_credentials", _("Identifiant ou mot de passe incorrect."))
    return api_token_create(actor=user, user=user)


@transaction.atomic(durable=True)
def api_token_create(*, actor: User | str, user: User, name: str = "") -> NewApiToken:
    """Create an API token for `user` and return it with its key, in clear this once.

    Only the key's SHA-256 is stored. A user keeps at most `TOKENS_PER_USER` (20) tokens:
    creating one more deletes the oldest. `actor` is the user themself, or a system actor (a
    management command, a benchmark script): nobody else, a superuser included, obtains a key
    that acts as another person. Audited as `token.create` on the user, with the key's prefix
    only."""
    if not isinstance(actor, str) and getattr(actor, "pk", None) != user.pk:
        raise NotAllowed(_("Seul le titulaire d'un compte peut obtenir un jeton d'API pour lui."))
    user = User.objects.select_for_update().get(pk=user.pk)  # one token creation at a time
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user, key_hash=ApiToken.hash_key(key), prefix=key[: ApiToken.PREFIX_LENGTH], name=name
    )
    oldest = list(
        ApiToken.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[TOKENS_PER_USER:]
    )
    if oldest:
        ApiToken.objects.filter(pk__in=oldest).delete()
    changes: dict[str, list[Any]] = {"token": [None, str(token)]}
    if name:
        changes["name"] = [None, name]
    audit_record(
        actor=actor,
        action="token.create",
        obj=user,
        changes=changes,
        reason=(
            _("%(n)s jeton(s) le(s) plus ancien(s) supprimé(s) (limite : %(max)s par compte).")
            % {"n": len(oldest), "max": TOKENS_PER_USER}
            if oldest
            else ""
        ),
    )
    return NewApiToken(token, key)


def api_token_touch(*, token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record that `token` was just used, at most once per `TOKEN_TOUCH_INTERVAL`: one
    conditional UPDATE, and no query at all when the stored instant is recent enough.

    Bookkeeping like Django's `last_login`, not a decision: no actor, no audit entry."""
    now = now or timezone.now()
    stale = now - TOKEN_TOUCH_INTERVAL
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


# --- users --------------------------------------------------------------------------------------
def _check_membership(
    *, role: str, vendor: Any, signatory: bool, establishment: Any = None
) -> None:
    errors = {}
    if establishment is not None and role != Role.ESTABLISHMENT:
        errors["establishment"] = ValidationError(
            _("Seul un utilisateur d'établissement peut être rattaché à un établissement."),
            code="invalid",
        )
    if role == Role.VENDOR and vendor is None:
        errors["vendor"] = ValidationError(
            _("Un utilisateur éditeur doit être rattaché à un éditeur."), code="invalid"
        )
    if role != Role.VENDOR and vendor is not None:
        errors["vendor"] = ValidationError(
            _("Seul un utilisateur éditeur peut être rattaché à un éditeur."), code="invalid"
        )
    if signatory and role not in (Role.ESTABLISHMENT, Role.VENDOR):
        errors["signatory"] = ValidationError(
            _("Seul un utilisateur d'établissement ou d'éditeur peut être signataire."),
            code="invalid",
        )
    if errors:
        raise ValidationError(errors)


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc


def _require_user_admin(actor: User | str, *, privileges: bool = False) -> None:
    """Accounts are managed by ANS admins (and system actors: `load_demo`). Granting or removing
    access to the Django admin (`PRIVILEGE_FIELDS`) is for superusers only."""
    if isinstance(actor, str):
        return
    if not (getattr(actor, "is_authenticated", False) and actor.is_ans_admin):
        raise NotAllowed(_("Réservé aux administrateurs ANS."))
    if privileges and not actor.is_superuser:
        raise NotAllowed(
            _("Seul un superutilisateur peut changer les droits d'accès à l'administration.")
        )


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(USER_EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput("unknown_field", _("Champ inconnu."), unknown[0])


def _m2m_labels(name: str, values: Iterable[Any]) -> list[str]:
    """Groups by name, permissions as `app_label.codename`: readable in the trail for years."""
    if name == "user_permissions":
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in values)
    return sorted(str(group.name) for group in values)


def _current_m2m(user: User, name: str) -> list[Any]:
    if name == "user_permissions":
        return list(user.user_permissions.select_related("content_type"))
    return list(user.groups.all())


def _user_state(user: User, m2m: dict[str, list[Any]]) -> dict[str, Any]:
    """What the audit compares: the scalar fields, and the many-to-many as labels."""
    state = snapshot(user, USER_AUDITED_FIELDS)
    for name in USER_M2M_FIELDS:
        state[name] = _m2m_labels(name, m2m[name])
    return state


@transaction.atomic(durable=True)
def user_create(
    *,
    actor: User | str,
    password: str,
    groups: Iterable[Any] = (),
    user_permissions: Iterable[Any] = (),
    **fields: Any,
) -> User:
    """Create an account. ANS admins only; `is_staff`, `is_superuser`, groups or permissions
    only by a superuser. Audited as `user.create` (never the password)."""
    _check_fields(fields)
    m2m = {"groups": list(groups), "user_permissions": list(user_permissions)}
    _require_user_admin(
        actor,
        privileges=bool(fields.get("is_staff") or fields.get("is_superuser") or any(m2m.values())),
    )
    fields.setdefault("role", "")
    _check_membership(
        role=fields["role"],
        vendor=fields.get("vendor"),
        signatory=fields.get("signatory", False),
        establishment=fields.get("establishment"),
    )
    if User.objects.filter(username__iexact=fields["username"]).exists():
        raise InvalidInput("unique", _("Cet identifiant est déjà pris."), "username")
    user = User(**fields)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    for name, values in m2m.items():
        if values:
            getattr(user, name).set(values)
    changes = diff({}, _user_state(user, m2m))
    for name in USER_M2M_FIELDS:  # an account is created without any: say nothing of them
        if not m2m[name]:
            changes.pop(name, None)
    audit_record(actor=actor, action="user.create", obj=user, changes=changes)
    return user


@transaction.atomic(durable=True)
def user_update(
    *, actor: User | str, user: User, password: str | None = None, **fields: Any
) -> User:
    """Change an account. ANS admins only; `PRIVILEGE_FIELDS` only by a superuser.

    A new password revokes every API token of the user. Audited as `user.update` with the
    before/after of each changed field (a password as `***`, never its value nor its hash);
    nothing changed, nothing written."""
    _check_fields(fields)
    _require_user_admin(actor)
    new_m2m = {name: list(fields.pop(name)) for name in USER_M2M_FIELDS if name in fields}
    user = User.objects.select_for_update().get(pk=user.pk)
    current_m2m = {name: _current_m2m(user, name) for name in USER_M2M_FIELDS}
    before = _user_state(user, current_m2m)
    for name, value in fields.items():
        setattr(user, name, value)
    _check_membership(
        role=user.role,
        vendor=user.vendor,
        signatory=user.signatory,
        establishment=user.establishment,
    )
    if (
        "username" in fields
        and User.objects.filter(username__iexact=user.username).exclude(pk=user.pk).exists()
    ):
        raise InvalidInput("unique", _("Cet identifiant est déjà pris."), "username")
    changes = diff(before, _user_state(user, {**current_m2m, **new_m2m}))
    if any(name in changes for name in PRIVILEGE_FIELDS):
        _require_user_admin(actor, privileges=True)
    if password:
        _check_password(password, user)
        user.set_password(password)
        changes["password"] = ["***", "*** (modifié)"]
        revoked, _by_model = ApiToken.objects.filter(user=user).delete()
        if revoked:  # a new password revokes every API token
            changes["api_tokens"] = [revoked, 0]
    if not changes:
        return user
    user.save()
    for name, values in new_m2m.items():
        if name in changes:
            getattr(user, name).set(values)
    audit_record(actor=actor, action="user.update", obj=user, changes=changes)
    return user
