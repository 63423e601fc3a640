"""The one error family of the service, rendered by `core.api.exception_handler`.

Every 4xx has the shape of api.md:
`{"type": "...", "errors": [{"code": "...", "detail": "...", "attr": "field or null"}]}`.
Codes are stable: rule violations use the reason codes of the programme (domain.md §5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ErrorItem:
    code: str
    detail: str
    attr: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self.detail), "attr": self.attr}


class ApplicationError(Exception):
    """A refusal the caller can act on. Subclasses fix the HTTP status and the `type`."""

    status_code = 400
    error_type = "client_error"

    def __init__(
        self,
        code: str = "invalid",
        detail: str = "",
        attr: str | None = None,
        *,
        errors: Iterable[ErrorItem] | None = None,
    ) -> None:
        self.errors: list[ErrorItem] = list(errors) if errors else [ErrorItem(code, detail, attr)]
        super().__init__("; ".join(f"{e.code}: {e.detail}" for e in self.errors))

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]


class InvalidInput(ApplicationError):
    status_code = 400
    error_type = "validation_error"


class NotAllowed(ApplicationError):
    """Authenticated, but this actor may not do that (403)."""

    status_code = 403

    def __init__(self, detail: str | None = None, code: str = "permission_denied"):
        super().__init__(code, detail or _("Action non autorisée."))


class NotFound(ApplicationError):
    """Missing, or not visible to this actor: the same answer for both (404)."""

    status_code = 404

    def __init__(self, detail: str | None = None, code: str = "not_found"):
        super().__init__(code, detail or _("Objet introuvable."))


class Conflict(ApplicationError):
    """The object's state (or a programme rule) does not allow the action (409)."""

    status_code = 409


class FileTooLarge(ApplicationError):
    status_code = 413


class UnsupportedFileType(ApplicationError):
    status_code = 415


class TooManyAttempts(ApplicationError):
    status_code = 429

    def __init__(self, detail: str, wait_seconds: int, code: str = "throttled"):
        self.wait_seconds = wait_seconds
        super().__init__(code, detail)
