"""Writes on accounts: users, tokens, login throttling."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.models import LoginFailure, Role, User
from core.audit import audit_record, diff, snapshot
from core.errors import ApplicationError, InvalidInput, TooManyAttempts

security_log = logging.getLogger("sons.security")

USER_AUDITED_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "vendor",
    "signatory",
    "is_active",
)


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


def login_failure_record(*, username: str, ip_address: str | None, channel: str) -> LoginFailure:
    security_log.warning(
        "login failed: username=%r ip=%s channel=%s", username, ip_address, channel
    )
    return LoginFailure.objects.create(
        username=(username or "")[:150], ip_address=ip_address, channel=channel
    )


def token_obtain(*, username: str, password: str, ip_address: str | None, request=None) -> Token:
    """Exchange credentials for the user's API token (created on first use)."""
    login_throttle_check(username=username, ip_address=ip_address)
    user = authenticate(request, username=username, password=password)
    if user is None:  # the failure is recorded by the user_login_failed receiver
        raise ApplicationError("invalid_credentials", _("Identifiant ou mot de passe incorrect."))
    with transaction.atomic():
        token, created = Token.objects.get_or_create(user=user)
        if created:
            audit_record(actor=user, action="token.create", obj=user)
    return token


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


@transaction.atomic(durable=True)
def user_create(*, actor: User, password: str, **fields: Any) -> User:
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
    audit_record(
        actor=actor,
        action="user.create",
        obj=user,
        changes=diff({}, snapshot(user, USER_AUDITED_FIELDS)),
    )
    return user


@transaction.atomic(durable=True)
def user_update(*, actor: User, user: User, password: str | None = None, **fields: Any) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, USER_AUDITED_FIELDS)
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
    changes = diff(before, snapshot(user, USER_AUDITED_FIELDS))
    if password:
        _check_password(password, user)
        user.set_password(password)
        changes["password"] = ["***", "*** (modifié)"]
        Token.objects.filter(user=user).delete()  # a new password revokes the API token
    user.save()
    if changes:
        audit_record(actor=actor, action="user.update", obj=user, changes=changes)
    return user
