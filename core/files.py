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
from django.utils.translation import gettext as _

from core.errors import FileTooLarge, InvalidInput, UnsupportedFileType

ACCEPTED_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/zip": ".zip",
    "application/xml": ".xml",
    "application/json": ".json",
}
SNIFF_BYTES = 8192


def _looks_like_xml(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"<"):
        return False
    lowered = text[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<script", b"<svg")):
        return False
    return (
        text.startswith(b"<?xml")
        or re.match(rb"<[A-Za-z_][\w.\-]*(:[\w.\-]+)?[\s>/]", text) is not None
    )


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
        return "application/xml"
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            upload.seek(0)
            json.loads(upload.read().decode("utf-8-sig"))
            return "application/json"
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
