"""Uploaded files: type decided from the content (never the extension), size limits, names.

Accepted: PDF, PNG, JPEG, ZIP, XML, JSON. Anything else — an executable renamed `.pdf`, a script,
an HTML page — is refused with 415 before anything is stored."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from core.errors import FileTooLarge, InvalidInput, UnsupportedFileType
from core.parsers import json_too_deep, json_too_deep_error

ACCEPTED_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/zip": ".zip",
    "application/xml": ".xml",
    "application/json": ".json",
}
SNIFF_BYTES = 8192


XHTML_NS = "http://www.w3.org/1999/xhtml"
SVG_NS = "http://www.w3.org/2000/svg"
ACTIVE_TAGS = {"html", "body", "svg", "script", "iframe", "object", "embed", "foreignobject"}


def _looks_like_xml(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return (text.startswith(b"<") and not text.startswith(b"<!--")) or text.startswith(b"<?xml")


def _is_plain_xml(upload: UploadedFile) -> bool:
    """Well-formed XML with no browser-active content (HTML, SVG, scripts)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    upload.seek(0)
    try:
        for _event, element in iterparse(upload, events=("start",)):
            tag = element.tag if isinstance(element.tag, str) else ""
            namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
            if tag.rsplit("}", 1)[-1].lower() in ACTIVE_TAGS or namespace in (XHTML_NS, SVG_NS):
                return False
        return True
    except (ParseError, ValueError, DefusedXmlException):
        return False
    finally:
        upload.seek(0)


def sniff_content_type(upload: UploadedFile) -> str | None:
    """The accepted MIME type of this content, or None."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    if _looks_like_xml(head):
        return "application/xml" if _is_plain_xml(upload) else None
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            upload.seek(0)
            content = upload.read()
            if json_too_deep(content):  # json.loads would recurse until a RecursionError
                raise json_too_deep_error("file")
            json.loads(content.decode("utf-8-sig"))
            return "application/json"
        except RecursionError as exc:
            raise json_too_deep_error("file") from exc
        except (UnicodeDecodeError, ValueError):
            return None
        finally:
            upload.seek(0)
    return None


def sanitize_filename(name: str, content_type: str) -> str:
    """A safe display name: no path, no control characters, ASCII-folded, the right extension."""
    base = os.path.basename(str(name or "").replace("\\", "/"))
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" ._") or "fichier"
    stem, _ext = os.path.splitext(base)
    stem = stem[:150].strip(" ._") or "fichier"
    return f"{stem}{ACCEPTED_TYPES[content_type]}"


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    filename: str


def check_upload(upload: UploadedFile | None, *, max_bytes: int, attr: str = "file") -> CheckedFile:
    """Refuse (413/415/400) or describe an upload, before anything is stored."""
    if upload is None or not hasattr(upload, "read"):
        raise InvalidInput("required", _("Joignez un fichier."), attr)
    if upload.size == 0:
        raise InvalidInput("empty_file", _("Le fichier est vide."), attr)
    if upload.size > max_bytes:
        raise FileTooLarge(
            "file_too_large",
            _("Le fichier dépasse la taille maximale de %(mb).1f Mo.")
            % {"mb": max_bytes / 1024 / 1024},
            attr,
        )
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise UnsupportedFileType(
            "unsupported_file_type",
            _("Type de fichier refusé : seuls PDF, PNG, JPEG, ZIP, XML et JSON sont acceptés."),
            attr,
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(
        content_type, upload.size, digest.hexdigest(), sanitize_filename(upload.name, content_type)
    )


def private_file_response(record) -> FileResponse:
    """A private stored file as a download — `record` is an evidence (an acceptance report is
    one too): its `file`, `filename` and `content_type` as sniffed at upload. Attachment, never
    sniffed again by the browser, never cached by a proxy. The caller has checked that the user
    may see it."""
    response = FileResponse(
        record.file.open("rb"),
        as_attachment=True,
        filename=record.filename,
        content_type=record.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
