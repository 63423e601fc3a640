"""API plumbing shared by every app: the error format, pagination, deadline fields."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from functools import cached_property

import django_filters
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import (
    EmptyResultSet,
    FullResultSet,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, ErrorItem, TooManyAttempts
from core.parsers import SINGLE_LINE_MAX_LENGTH, control_character_item
from core.timeutils import end_of_day_paris

logger = logging.getLogger("sons.api")


def _flatten(detail, attr: str | None = None) -> list[ErrorItem]:
    if isinstance(detail, dict):
        items: list[ErrorItem] = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                child = attr
            else:
                child = str(key) if attr is None else f"{attr}.{key}"
            items.extend(_flatten(value, child))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not isinstance(value, str):
                child = str(index) if attr is None else f"{attr}.{index}"
                items.extend(_flatten(value, child))
            else:
                items.extend(_flatten(value, attr))
        return items
    code = getattr(detail, "code", None) or "invalid"
    return [ErrorItem(str(code), str(detail), attr)]


def _details(errors: list[DjangoValidationError]) -> list[ErrorDetail]:
    details = []
    for error in errors:
        message = error.message % error.params if error.params else error.message
        details.append(ErrorDetail(str(message), code=error.code or "invalid"))
    return details


def django_validation_detail(exc: DjangoValidationError) -> dict | list:
    """A Django ValidationError as DRF detail, keeping each message's code."""
    if hasattr(exc, "error_dict"):
        return {field: _details(errors) for field, errors in exc.error_dict.items()}
    return _details(exc.error_list)


def _body(error_type: str, errors: list[ErrorItem]) -> dict:
    return {"type": error_type, "errors": [e.as_dict() for e in errors]}


def exception_handler(exc, context):
    """Render every refusal in api.md's one shape. Every 400 is a `validation_error`."""
    if isinstance(exc, RequestDataTooBig):
        from core.middleware import request_too_large_error

        exc = request_too_large_error()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        from core.middleware import too_many_fields_error

        exc = too_many_fields_error()
    if isinstance(exc, ApplicationError):
        from rest_framework.response import Response

        headers = {}
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.wait_seconds)
        error_type = "validation_error" if exc.status_code == 400 else exc.error_type
        return Response(_body(error_type, exc.errors), status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error answered 409: %s", exc)
        exc = exceptions.APIException(_("Conflit avec une donnée existante."), code="conflict")
        exc.status_code = 409
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body("validation_error", _flatten(exc.detail))
    elif isinstance(exc, Http404):
        response.data = _body("client_error", [ErrorItem("not_found", _("Objet introuvable."))])
    elif isinstance(exc, PermissionDenied):
        response.data = _body(
            "client_error", [ErrorItem("permission_denied", _("Action non autorisée."))]
        )
    elif isinstance(exc, exceptions.APIException):
        response.data = _body("client_error", _flatten(exc.detail))
        for item in response.data["errors"]:
            item["attr"] = None
    if response.status_code == 400 and isinstance(response.data, dict):
        response.data["type"] = "validation_error"
    return response


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(
            _body("client_error", [ErrorItem("not_found", _("Ressource introuvable."))]), status=404
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            _body("server_error", [ErrorItem("server_error", _("Erreur interne."))]), status=500
        )
    from django.views.defaults import server_error

    return server_error(request)


class CountCachingPaginator(Paginator):
    """Django's paginator, whose count of a large list (at least `PAGINATION_LARGE_COUNT`
    rows) is reused for `PAGINATION_LARGE_COUNT_TTL` seconds by the process (same SQL, same
    parameters: the user's visibility filter included). Counting a million orders costs
    20 ms — more than the page itself — on every page of a payment officer's browsing; a total
    a few seconds old changes nothing for them. Smaller lists are counted every time."""

    @cached_property
    def count(self) -> int:
        try:
            sql, params = self.object_list.query.sql_with_params()
        except (AttributeError, EmptyResultSet, FullResultSet):
            return super().count
        key = "page-count:" + hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()
        cached = cache.get(key)
        if cached is not None and cached >= settings.PAGINATION_LARGE_COUNT:
            return cached
        count = super().count
        if count >= settings.PAGINATION_LARGE_COUNT:
            cache.set(key, count, settings.PAGINATION_LARGE_COUNT_TTL)
        return count


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CountCachingPaginator

    def get_page_size(self, request):
        """A `page_size` that is not an integer is refused (400), not silently replaced by the
        default: a client's typo must not change what it reads."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                serializers.IntegerField().to_internal_value(raw)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({self.page_size_query_param: exc.detail}) from exc
        return super().get_page_size(request)


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class DeadlineField(serializers.DateTimeField):
    """An instant with offset, or a plain date meaning the end of that day in Europe/Paris."""

    default_error_messages = {
        "offset_required": "Indiquez l'instant avec son décalage horaire "
        "(ex. 2025-12-17T12:00:00+01:00) ou une date seule (AAAA-MM-JJ).",
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
            try:
                return end_of_day_paris(dt.date.fromisoformat(value.strip()))
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD")
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("offset_required")
        return super().to_internal_value(value)


def _multi_line(field: serializers.CharField) -> bool:
    """Long or unbounded text (reasons, comments, a model's TextField) may span lines; bounded
    short text (names, codes, titles, references) is one line."""
    if (getattr(field, "style", None) or {}).get("base_template") == "textarea.html":
        return True
    return field.max_length is None or field.max_length > SINGLE_LINE_MAX_LENGTH


def _control_character_errors(fields, data) -> dict:
    """Text of a long CharField may span lines; every other field given a string (a name, a
    code, a choice, a related object's code, a date...) takes one line."""
    errors = {}
    for name, field in fields.items():
        value = data.get(name) if not field.read_only else None
        if isinstance(value, str) and not isinstance(field, serializers.JSONField):
            multi_line = isinstance(field, serializers.CharField) and _multi_line(field)
            item = control_character_item(value, name, single_line=not multi_line)
            if item is not None:
                errors[name] = [serializers.ErrorDetail(item.detail, code=item.code)]
    return errors


class StrictSerializerMixin:
    """Unknown fields are an error, not silently dropped (a typo must not lose data); text
    fields refuse control characters, and single-line ones line breaks (core.parsers)."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and hasattr(self, "fields"):
            errors = _control_character_errors(self.fields, data)
            if errors:
                raise serializers.ValidationError(errors)
            known = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(
                set(data) - known - {name for name, f in self.fields.items() if f.read_only}
            )
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail(_("Champ inconnu."), code="unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, but a boolean filter given anything other than true/false (or
    1/0) is refused (400) instead of ignored (its form field reads other text as "no filter"):
    a typo must not change what a client reads."""

    BOOLEAN_VALUES = frozenset({"true", "false", "1", "0", ""})

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        invalid = serializers.BooleanField().error_messages["invalid"]
        errors = {
            name: [ErrorDetail(str(invalid), code="invalid")]
            for name, field in filterset.filters.items()
            if isinstance(field, django_filters.BooleanFilter)
            and request.query_params.get(name, "").strip().lower() not in self.BOOLEAN_VALUES
        }
        if errors:
            raise serializers.ValidationError(errors)
        return filterset


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant filter whose value is sent to the database in UTC (PostgreSQL refuses
    offsets beyond ±15:59, which Python accepts)."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except (OverflowError, ValueError) as exc:
                raise serializers.ValidationError(
                    {self._parameter(): [ErrorDetail(_("Instant hors limites."), code="invalid")]}
                ) from exc
        return super().filter(qs, value)

    def _parameter(self) -> str:
        """The query parameter's name (this filter's key in its filterset), for `attr`."""
        filters = getattr(getattr(self, "parent", None), "filters", {})
        return next((name for name, item in filters.items() if item is self), self.field_name)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP "CSV injection"): text
    starting with = + - @ gets a leading apostrophe. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, int | float) or not isinstance(value, str):
        return str(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
