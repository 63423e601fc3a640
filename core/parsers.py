"""Input checked at the edge, before any parsing or database work (docs/decisions/0013):
JSON nesting depth, control characters in text, and the JSON parser of the API that applies both.

- A JSON body deeper than `JSON_MAX_DEPTH` (64) is refused by a scan of its bytes, before
  `json.loads` (which would recurse until a RecursionError).
- No text may hold a control character (Unicode category Cc: NUL, ESC, DEL, C1…) except TAB, LF
  and CR in multi-line text; PostgreSQL cannot even store NUL. Single-line fields (names, codes,
  titles, references: every `CharField` of at most `SINGLE_LINE_MAX_LENGTH` characters) refuse
  TAB, LF and CR too: see `core.api.StrictSerializerMixin`.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers

from core.errors import ErrorItem, InvalidInput

JSON_MAX_DEPTH = 64
# Longer bounded text (reasons, comments, justifications) may span several lines.
SINGLE_LINE_MAX_LENGTH = 1000
MAX_REPORTED = 20

NUL = "\x00"
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

_JSON_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
_DEPTH_STEP = {ord("["): 1, ord("]"): -1}


def json_too_deep(raw: bytes, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether this JSON text nests arrays/objects deeper than `limit`: brackets counted outside
    strings, in C loops: a 10 MB body in well under a second, a usual one in microseconds."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # then no quote is escaped
    # only the brackets, all written [ ] (their kind does not change the depth)
    brackets = _JSON_STRING.sub(b"", unescaped).translate(_SQUARE, _NOT_BRACKETS)
    peeled = 0  # each pass removes the innermost pairs: exactly one level off the maximum
    while brackets and peeled < 8:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets, peeled = shorter, peeled + 1
    limit -= peeled
    if b"[" * (limit + 1) in brackets:
        return True
    if _deeper_than(brackets[:4096], limit):  # an attack is deep from its start
        return True
    return _deeper_than(brackets, limit)


def _deeper_than(brackets: bytes, limit: int) -> bool:
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


def json_too_deep_error(attr: str | None = None) -> InvalidInput:
    return InvalidInput(
        "json_too_deep",
        _("Le JSON est imbriqué trop profondément (%(max)s niveaux au plus).")
        % {"max": JSON_MAX_DEPTH},
        attr,
    )


def control_character_item(value: str, attr: str | None, *, single_line: bool) -> ErrorItem | None:
    """The error for a text holding a character it may not hold, or None."""
    pattern = _CONTROL_SINGLE_LINE if single_line else _CONTROL_MULTI_LINE
    found = pattern.search(value)
    if found is None:
        if _SURROGATE.search(value):  # a lone \ud800 from a JSON escape: not text at all
            return ErrorItem(
                "surrogate_characters_not_allowed",
                _("Les caractères de substitution (U+D800 à U+DFFF) ne sont pas admis."),
                attr,
            )
        return None
    if found.group() == NUL:
        return ErrorItem(
            "null_characters_not_allowed", _("Les caractères nuls ne sont pas admis."), attr
        )
    if single_line and found.group() in "\t\n\r":
        return ErrorItem(
            "control_characters_not_allowed",
            _("Ce champ tient sur une ligne : tabulations et retours à la ligne non admis."),
            attr,
        )
    return ErrorItem(
        "control_characters_not_allowed",
        _("Les caractères de contrôle (U+%(code)04X) ne sont pas admis.")
        % {"code": ord(found.group())},
        attr,
    )


def clean_attr(name: str) -> str:
    """A field name as it may be shown back: without its control characters."""
    return _CONTROL_SINGLE_LINE.sub("", name)[:100]


# What a JSON text must contain for a string of it to hold a refused character: an escape of
# one (\u0000-\u001f, \u007f-\u009f, \b, \f) or of a surrogate (\ud800-\udfff), or a raw DEL
# or C1 character (raw C0 characters
# are refused by the JSON parser itself). A match may be a false alarm (an escaped backslash):
# the document is then walked.
_MAY_HOLD_CONTROL = re.compile(
    r"\\(?:u00[0189][0-9a-fA-F]|u007[fF]|u[dD][89a-fA-F][0-9a-fA-F]{2}|[bf])|[\x7f-\x9f]"
)


def json_text_may_hold_control_characters(text: str) -> bool:
    return _MAY_HOLD_CONTROL.search(text) is not None


def control_character_errors(data, attr: str | None = None) -> list[ErrorItem]:
    """Every string of a parsed JSON document (keys too) holding a control character other than
    TAB, LF, CR, with its path (`items.0.comment`). Iterative: depth does not matter here."""
    errors: list[ErrorItem] = []
    stack = [(data, attr)]
    while stack and len(errors) < MAX_REPORTED:
        value, path = stack.pop()
        if isinstance(value, str):
            item = control_character_item(value, path, single_line=False)
            if item is not None:
                errors.append(item)
        elif isinstance(value, dict):
            for key, child in reversed(list(value.items())):
                key = str(key)
                child_path = clean_attr(key) if path is None else f"{path}.{clean_attr(key)}"
                item = control_character_item(key, child_path, single_line=True)
                if item is not None:
                    errors.append(item)
                stack.append((child, child_path))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((value[index], str(index) if path is None else f"{path}.{index}"))
    return errors


class GuardedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the depth limit checked before parsing, control characters refused
    after, and every refusal a 400 `validation_error` in the API's shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        if json_too_deep(raw):
            raise json_too_deep_error()
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise json_too_deep_error() from exc
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidInput(
                "parse_error", _("Le corps de la requête doit être encodé en UTF-8.")
            ) from exc
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                "parse_error",
                _(
                    "Le corps de la requête n'est pas un JSON valide (ligne %(line)s, colonne %(col)s)."
                )
                % {"line": exc.lineno, "col": exc.colno},
            ) from exc
        except ValueError as exc:  # NaN, Infinity
            raise InvalidInput(
                "parse_error", _("Le corps de la requête n'est pas un JSON valide.")
            ) from exc
        errors = (
            control_character_errors(data) if json_text_may_hold_control_characters(text) else []
        )
        if errors:
            raise InvalidInput(errors=errors)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _refuse_form_control_characters(data) -> None:
    errors = []
    for name, values in data.lists():
        for value in values:
            item = control_character_item(value, clean_attr(name), single_line=False)
            if item is not None:
                errors.append(item)
                break
    if errors:
        raise InvalidInput(errors=errors[:MAX_REPORTED])


class GuardedFormParser(parsers.FormParser):
    """Form fields of a PUT or PATCH (a POST's are checked by core.middleware)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_form_control_characters(data)
        return data


class GuardedMultiPartParser(parsers.MultiPartParser):
    """Multipart fields of a PUT or PATCH (a POST's are checked by core.middleware)."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _refuse_form_control_characters(result.data)
        return result
