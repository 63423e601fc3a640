"""Input refused at the edge, for the API and the web pages alike (docs/decisions/0013), before
any view, parser or query sees it:

- a path or a query string holding a control character (NUL included: PostgreSQL cannot store
  it, and a lookup with it is a server error) → 400;
- a body declared larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (multipart uploads: larger than
  `UPLOAD_MAX_BYTES`) → 413, its bytes never read;
- a form field (urlencoded or multipart) holding a control character other than TAB, LF, CR
  → 400; an upload passing `UPLOAD_MAX_BYTES` while it streams → 413 (core.uploads).

Under `/api/` the answer is the error shape of api.md (`validation_error` for a 400); elsewhere a
short HTML page with the same message. JSON bodies are checked by the API's parser
(core.parsers.GuardedJSONParser).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.errors import ApplicationError, FileTooLarge, InvalidInput
from core.parsers import MAX_REPORTED, clean_attr, control_character_item

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def error_response(request, exc: ApplicationError):
    error_type = "validation_error" if exc.status_code == 400 else exc.error_type
    if _is_api(request):
        body = {"type": error_type, "errors": [e.as_dict() for e in exc.errors]}
        return JsonResponse(body, status=exc.status_code, json_dumps_params={"ensure_ascii": False})
    title = _("Requête refusée")
    items = "".join(f"<li>{escape(e.detail)}</li>" for e in exc.errors)
    page = (
        f'<!DOCTYPE html><html lang="{escape(get_language() or "fr")}"><head>'
        f'<meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><main><h1>{escape(title)}</h1><ul>{items}</ul>"
        f'<p><a href="/">{escape(_("Retour à l’accueil"))}</a></p></main></body></html>'
    )
    return HttpResponse(page, status=exc.status_code, content_type="text/html; charset=utf-8")


def request_too_large_error() -> FileTooLarge:
    return FileTooLarge(
        "request_too_large",
        _("Le corps de la requête dépasse la taille maximale de %(mb)s Mo.")
        % {"mb": round(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024, 1)},
    )


def too_many_fields_error() -> InvalidInput:
    return InvalidInput("too_many_fields", _("La requête compte trop de champs ou de fichiers."))


def _declared_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _check_path_and_query(request) -> None:
    item = control_character_item(request.path, None, single_line=True)
    if item is not None:
        raise InvalidInput(errors=[item])
    try:
        query = request.GET.lists()
    except TooManyFieldsSent as exc:
        raise too_many_fields_error() from exc
    errors = []
    for name, values in query:
        attr = clean_attr(name)
        for value in [name, *values]:
            item = control_character_item(value, attr, single_line=True)
            if item is not None:
                errors.append(item)
                break
    if errors:
        raise InvalidInput(errors=errors[:MAX_REPORTED])


def _check_body_size(request) -> None:
    if request.content_type == "multipart/form-data":
        return  # checked by core.uploads.LimitedUploadHandler as the parser starts
    max_size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if max_size is not None and _declared_length(request) > max_size:
        raise request_too_large_error()


def _check_form(request) -> None:
    """Form fields (and file names) of a POST: read now, with the upload handlers in place."""
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return
    try:
        fields, files = request.POST, request.FILES
    except RequestDataTooBig as exc:
        raise request_too_large_error() from exc
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise too_many_fields_error() from exc
    except MultiPartParserError as exc:
        raise InvalidInput(
            "parse_error", _("Le corps multipart de la requête est illisible.")
        ) from exc
    errors = []
    for name, values in fields.lists():
        attr = clean_attr(name)
        for value in values:
            item = control_character_item(value, attr, single_line=False)
            if item is not None:
                errors.append(item)
                break
    for name in files:
        item = control_character_item(name, clean_attr(name), single_line=True)
        if item is not None:
            errors.append(item)
    if errors:
        raise InvalidInput(errors=errors[:MAX_REPORTED])


class EdgeInputMiddleware:
    """Place after LocaleMiddleware (messages in the request's language), before CSRF and
    authentication (nothing reads the body before it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            _check_path_and_query(request)
            _check_body_size(request)
            _check_form(request)
        except ApplicationError as exc:
            return error_response(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        """An upload refused while a view (not through DRF) reads it."""
        if isinstance(exception, FileTooLarge):
            return error_response(request, exception)
        if isinstance(exception, RequestDataTooBig):
            return error_response(request, request_too_large_error())
        return None


# The former name, kept for settings that still list it.
RejectNullBytesMiddleware = EdgeInputMiddleware
