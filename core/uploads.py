"""Uploads refused as soon as they pass the limit, not after being spooled to disk.

`LimitedUploadHandler` is the first of `FILE_UPLOAD_HANDLERS`: Django's multipart parser hands
it the declared size of the request before reading anything, then every chunk of every file
before the handlers that store them. Past `UPLOAD_MAX_BYTES` it raises `FileTooLarge`, which the
API renders as a 413 in the error shape (core.api) and the middleware for every other path
(core.middleware); the rest of the body is never read. A file's own limit (a scheme's evidence
size, an import's) is checked afterwards by the code that receives it (core.files.check_upload).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

from core.errors import FileTooLarge


def upload_max_bytes() -> int:
    return settings.UPLOAD_MAX_BYTES


def upload_too_large(attr: str | None = None) -> FileTooLarge:
    return FileTooLarge(
        "file_too_large",
        _("L'envoi dépasse la taille maximale de %(mb)s Mo.")
        % {"mb": round(upload_max_bytes() / 1024 / 1024, 1)},
        attr,
    )


class LimitedUploadHandler(FileUploadHandler):
    """Counts; stores nothing (the next handlers do)."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0  # bytes of files received in this request, all files together

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > upload_max_bytes():
            raise upload_too_large()
        return None  # go on: the other handlers parse

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > upload_max_bytes():
            raise upload_too_large(self.field_name)
        return raw_data

    def file_complete(self, file_size):
        return None  # the storing handler returns the file
