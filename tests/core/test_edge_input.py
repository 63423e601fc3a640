"""No 500 on input, anywhere (issue 10): each input that cost a 500 (or an answer outside the
error shape) answers its documented 4xx, through HTTP, French by default and English with
`Accept-Language: en` (docs/decisions/0013)."""

from __future__ import annotations

import io
import json
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from core.errors import FileTooLarge
from core.parsers import JSON_MAX_DEPTH, json_too_deep
from core.uploads import LimitedUploadHandler
from orders.models import Establishment
from payments.models import PaymentRequest
from referencing_app.models import Evidence
from tests.factories.accounts import UserFactory
from tests.factories.orders import make_order_world, order_in
from tests.factories.referencing import make_world
from tests.factories.sons import finess

API = "/api/v1"
TOKEN_URL = f"{API}/auth/token/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _error(response, status: int, code: str, attr: str | None, *, detail: str | None = None):
    """The response is one error `code` on `attr` in api.md's shape (a 400 is always a
    `validation_error`); its detail, checked when given."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == ("validation_error" if status == 400 else "client_error"), body
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [(code, attr)], body
    if detail is not None:
        assert body["errors"][0]["detail"] == detail, body
    return body


def _raw_post(client, url: str, body: bytes, **extra):
    return client.generic("POST", url, body, content_type="application/json", **extra)


@pytest.fixture
def vendor_api(db):
    world = make_world()
    client = APIClient()
    client.force_authenticate(world.member)
    client.world = world
    return client


@pytest.fixture
def admin_api(db):
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.ANS_ADMIN))
    return client


# --- JSON depth and size, before parsing ---------------------------------------------------------
DEEP = b"[" * 100_000


def test_a_hundred_thousand_brackets_to_the_unauthenticated_token_endpoint(db):
    client = APIClient()
    _error(
        _raw_post(client, TOKEN_URL, DEEP),
        400,
        "json_too_deep",
        None,
        detail="Le JSON est imbriqué trop profondément (64 niveaux au plus).",
    )
    _error(
        _raw_post(client, TOKEN_URL, DEEP, **EN),
        400,
        "json_too_deep",
        None,
        detail="The JSON is nested too deeply (at most 64 levels).",
    )


@pytest.mark.parametrize("path", ["/solutions/", "/dossiers/", "/payment-requests/"])
def test_deep_json_on_authenticated_endpoints(vendor_api, path):
    _error(_raw_post(vendor_api, API + path, b'{"a": ' + DEEP), 400, "json_too_deep", None)


def test_the_depth_limit_counts_brackets_outside_strings_only():
    at_limit = b"[" * JSON_MAX_DEPTH + b"]" * JSON_MAX_DEPTH
    assert not json_too_deep(at_limit)
    assert json_too_deep(b"[" + at_limit + b"]")
    mixed = json.dumps({"a": [[{"b": [1, {"c": "]]}}"}]}]], "d": '\\"[['}).encode()
    assert not json_too_deep(mixed, limit=6)  # six levels, brackets in strings not counted
    assert json_too_deep(mixed, limit=5)
    started = time.monotonic()
    assert not json_too_deep(b"[{}]" * 2_500_000)  # 10 MB, shallow
    assert json_too_deep(b"[{" * 5_000_000)  # 10 MB, deep
    assert time.monotonic() - started < 2
    in_a_string = json.dumps({"name": "[" * 10_000 + '\\"{'}).encode()
    assert not json_too_deep(in_a_string)
    wide = json.dumps([[i] for i in range(50_000)]).encode()
    assert not json_too_deep(wide)


def test_json_at_the_depth_limit_is_parsed(vendor_api):
    nested = b'{"name": "x", "category": ' + b"[" * 63 + b"]" * 63 + b"}"
    response = _raw_post(vendor_api, f"{API}/solutions/", nested)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] != "json_too_deep"
    assert response.json()["errors"][0]["attr"] == "category"


def test_an_11_mb_json_body_is_a_413_in_the_error_shape_before_parsing(vendor_api):
    body = json.dumps({"name": "x" * (11 * 1024 * 1024), "category": "DPI"}).encode()
    started = time.monotonic()
    response = _raw_post(vendor_api, f"{API}/solutions/", body)
    assert time.monotonic() - started < 1
    _error(
        response,
        413,
        "request_too_large",
        None,
        detail="Le corps de la requête dépasse la taille maximale de 10.0 Mo.",
    )
    english = _raw_post(vendor_api, f"{API}/solutions/", body, **EN)
    assert english.json()["errors"][0]["detail"] == (
        "The request body exceeds the maximum size of 10.0 MB."
    )


def test_a_json_parse_error_is_a_validation_error_in_french_or_english(vendor_api):
    _error(
        _raw_post(vendor_api, f"{API}/solutions/", b"{bad"),
        400,
        "parse_error",
        None,
        detail="Le corps de la requête n'est pas un JSON valide (ligne 1, colonne 2).",
    )
    _error(
        _raw_post(vendor_api, f"{API}/solutions/", b'{"name": NaN}', **EN),
        400,
        "parse_error",
        None,
        detail="The request body is not valid JSON.",
    )


# --- NUL and control characters: fields, path, query string ------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        ("/solutions/", {"name": "Logiciel", "category": "DPI\u0000"}, "category"),
        ("/dossiers/", {"scheme": "\u0000", "solution_version": str(uuid.uuid4())}, "scheme"),
        ("/solutions/", {"name": "Logi\u0000ciel", "category": "DPI"}, "name"),
        ("/solutions/", {"name": "x", "category": "DPI", "a\u0000": 1}, "a"),
    ],
)
def test_nul_in_a_json_field_is_refused(vendor_api, path, body, attr):
    response = vendor_api.post(API + path, body, format="json")
    _error(
        response,
        400,
        "null_characters_not_allowed",
        attr,
        detail="Les caractères nuls ne sont pas admis.",
    )
    english = vendor_api.post(API + path, body, format="json", **EN)
    assert english.json()["errors"][0]["detail"] == "Null characters are not allowed."


def test_a_lone_surrogate_is_refused(vendor_api):
    body = b'{"name": "Logiciel", "category": "DPI\\ud800"}'
    response = _raw_post(vendor_api, f"{API}/solutions/", body, **EN)
    _error(
        response,
        400,
        "surrogate_characters_not_allowed",
        "category",
        detail="Surrogate characters (U+D800 to U+DFFF) are not allowed.",
    )
    paired = b'{"name": "Logiciel \\ud83d\\ude00", "category": "DPI"}'  # an emoji: fine
    assert _raw_post(vendor_api, f"{API}/solutions/", paired).status_code != 400


def test_nested_control_characters_are_named_by_their_path(admin_api):
    response = admin_api.post(
        f"{API}/schemes/", {"code": "X", "proofs": [{"text": "ok"}, {"text": "\x1b[31m"}]}
    )
    _error(response, 400, "control_characters_not_allowed", "proofs.1.text")
    assert "U+001B" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("text", ["Logiciel\r\nBcc: x@example.org", "Logiciel\tDPI", "a\nb"])
def test_a_single_line_field_refuses_line_breaks_and_tabs(vendor_api, text):
    response = vendor_api.post(f"{API}/solutions/", {"name": text, "category": "DPI"})
    _error(
        response,
        400,
        "control_characters_not_allowed",
        "name",
        detail="Ce champ tient sur une ligne : tabulations et retours à la ligne non admis.",
    )


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        ("/solutions/", {"name": "Logiciel", "category": "DPI\n"}, "category"),
        ("/dossiers/", {"scheme": "HOP-DPI-VA2\r", "charter_accepted": True}, "scheme"),
    ],
)
def test_codes_of_related_objects_are_single_line_too(vendor_api, path, body, attr):
    response = vendor_api.post(API + path, body, format="json", **EN)
    _error(
        response,
        400,
        "control_characters_not_allowed",
        attr,
        detail="This field is a single line: tabs and line breaks are not allowed.",
    )


def test_multi_line_text_keeps_its_line_breaks_but_not_other_controls():
    from rest_framework import serializers

    from core.api import StrictSerializerMixin

    class Form(StrictSerializerMixin, serializers.Serializer):
        reason = serializers.CharField(max_length=5000)
        code = serializers.CharField(max_length=40)

    assert Form(data={"reason": "ligne 1\r\n\tligne 2", "code": "A"}).is_valid()
    refused = Form(data={"reason": "bip\x07", "code": "A"})
    assert not refused.is_valid()
    assert refused.errors["reason"][0].code == "control_characters_not_allowed"
    assert not Form(data={"reason": "ok", "code": "A\nB"}).is_valid()


def test_nul_in_the_statements_path_is_400(vendor_api):
    url = f"{API}/dossiers/{uuid.uuid4()}/statements/%00/"
    for response in (vendor_api.get(url), vendor_api.put(url, {"claim": "conform"})):
        _error(response, 400, "null_characters_not_allowed", None)


@pytest.mark.parametrize("query", ["scheme=%00", "state=%01", "%00=x", "q=a%0Db"])
def test_control_characters_in_an_api_query_string(vendor_api, query):
    response = vendor_api.get(f"{API}/dossiers/?{query}")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"][0]["code"] in (
        "null_characters_not_allowed",
        "control_characters_not_allowed",
    )


def test_nul_in_a_portal_filter_is_a_400_page_in_french_or_english(db):
    client = Client()
    client.force_login(UserFactory(role=Role.ANS_ADMIN))
    page = client.get("/ans/dossiers/?scheme=%00")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert "Les caractères nuls ne sont pas admis." in page.content.decode()
    english = client.get("/ans/dossiers/?scheme=%00", **EN)
    assert english.status_code == 400
    assert "Null characters are not allowed." in english.content.decode()
    assert client.get("/ans/dossiers/?scheme=HOP").status_code == 200


def test_nul_in_a_portal_form_field_is_refused(db):
    client = Client()
    client.force_login(UserFactory(role=Role.ANS_ADMIN))
    page = client.post("/ans/dossiers/", {"reason": "x\x00y"})
    assert page.status_code == 400
    assert "Les caractères nuls ne sont pas admis." in page.content.decode()


def test_nul_in_a_multipart_field_is_refused(vendor_api):
    response = vendor_api.post(
        f"{API}/evidence/",
        {"file": SimpleUploadedFile("p.pdf", b"%PDF-1.7\n"), "dossier": "\x00"},
        format="multipart",
    )
    _error(response, 400, "null_characters_not_allowed", "dossier")
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_nul_in_a_form_encoded_patch_is_refused(vendor_api, encoding):
    solution = vendor_api.world.version.solution
    url = f"{API}/solutions/{solution.pk}/"
    if encoding == "multipart":
        response = vendor_api.patch(url, {"category": "DPI\x00"}, format="multipart")
    else:
        body = "category=DPI%00"
        response = vendor_api.generic(
            "PATCH", url, body, content_type="application/x-www-form-urlencoded"
        )
    _error(response, 400, "null_characters_not_allowed", "category")


# --- evidence files ------------------------------------------------------------------------------
def test_a_deeply_nested_json_evidence_file_is_refused_cleanly(vendor_api):
    content = b"[" * 100_000 + b"]" * 100_000
    response = vendor_api.post(
        f"{API}/evidence/",
        {"file": SimpleUploadedFile("rapport.json", content)},
        format="multipart",
    )
    _error(response, 400, "json_too_deep", "file")
    assert not Evidence.objects.exists()


def test_uploaded_file_names_are_sanitised(vendor_api):
    name = "../../etc/" + "é\x01\x7f" + "n" * 400 + ".json"
    response = vendor_api.post(
        f"{API}/evidence/",
        {"file": SimpleUploadedFile(name, b'{"ok": true}')},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    filename = response.json()["filename"]
    assert filename.endswith(".json")
    assert len(filename) <= 160
    assert not any(part in filename for part in ("/", "\\", ".."))
    assert all(32 <= ord(c) < 127 for c in filename)


# --- uploads refused as they stream --------------------------------------------------------------
class CountingInput(io.RawIOBase):
    """A request body of `size` bytes, made as it is read, counting what was read."""

    def __init__(self, size: int, head: bytes):
        self.size, self.head, self.read_bytes = size, head, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        chunk = (self.head[self.read_bytes :] + b"\0" * n)[:n]
        buffer[:n] = chunk
        self.read_bytes += n
        return n


def test_a_500_mb_upload_is_refused_before_its_body_is_read(vendor_api, db):
    boundary = "limite"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gros.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()
    body = CountingInput(500 * 1024 * 1024, head)
    client = Client()
    client.force_login(vendor_api.world.member)
    started = time.monotonic()
    response = client.generic(
        "POST",
        f"{API}/evidence/",
        **{
            "wsgi.input": body,
            "CONTENT_LENGTH": str(body.size),
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        },
    )
    elapsed = time.monotonic() - started
    _error(
        response,
        413,
        "file_too_large",
        None,
        detail="L'envoi dépasse la taille maximale de 100.0 Mo.",
    )
    assert elapsed < 1, elapsed
    assert body.read_bytes <= 64 * 1024  # not more than one chunk
    assert not Evidence.objects.exists()


def test_the_upload_handler_stops_a_stream_past_the_limit(settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    handler = LimitedUploadHandler()
    handler.new_file("file", "x.pdf", "application/pdf", None)
    chunk = b"x" * (64 * 1024)
    passed = 0
    while passed < settings.UPLOAD_MAX_BYTES:
        assert handler.receive_data_chunk(chunk, passed) == chunk  # handed on to be stored
        passed += len(chunk)
    with pytest.raises(FileTooLarge) as refused:  # the first chunk past the limit
        handler.receive_data_chunk(chunk, passed)
    assert refused.value.status_code == 413
    assert refused.value.errors[0].attr == "file"


def test_a_portal_upload_past_the_limit_is_a_413_page(db, settings):
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    client = Client()
    client.force_login(UserFactory(role=Role.ANS_ADMIN))
    content = b"finess;rpps;name;kind;siret\n" + b"x" * (128 * 1024)
    page = client.post(
        "/ans/etablissements/import/", {"file": SimpleUploadedFile("e.csv", content)}, **EN
    )
    assert page.status_code == 413
    assert "The upload exceeds the maximum size of 0.1 MB." in page.content.decode()
    assert not Establishment.objects.exists()


def test_too_many_query_parameters_is_a_400(vendor_api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"p{i}=1" for i in range(11))
    _error(vendor_api.get(f"{API}/dossiers/?{query}"), 400, "too_many_fields", None)


# --- CSV import ----------------------------------------------------------------------------------
def test_an_establishments_csv_with_a_nul_is_a_400_naming_the_line(admin_api):
    content = (
        "finess;rpps;name;kind;siret\n"
        f"{finess(301)};;CH de Lens;hospital;\n"
        f"{finess(302)};;CH\x00 de Douai;hospital;\n"
    ).encode()

    def upload(**extra):
        return admin_api.post(
            f"{API}/establishments/import/",
            {"file": SimpleUploadedFile("e.csv", content, content_type="text/csv")},
            format="multipart",
            **extra,
        )

    _error(
        upload(),
        400,
        "control_characters_not_allowed",
        "file",
        detail="Ligne 3 : caractère de contrôle (U+0000) interdit dans un fichier CSV.",
    )
    english = upload(**EN).json()["errors"][0]["detail"]
    assert english == "Line 3: control character (U+0000) not allowed in a CSV file."
    assert not Establishment.objects.exists()


# --- every 400 is a validation_error -------------------------------------------------------------
def test_a_reused_idempotency_key_is_a_validation_error_in_french_or_english(db):
    ow = make_order_world()
    order = order_in(ow, "installed")
    client = APIClient()
    client.force_authenticate(ow.member)
    url = f"{API}/payment-requests/"
    body = {"purchase_order": str(order.pk), "kind": "balance"}
    assert client.post(url, body, HTTP_IDEMPOTENCY_KEY="cle-1").status_code == 201
    other = {"purchase_order": str(order.pk), "kind": "advance"}
    _error(
        client.post(url, other, HTTP_IDEMPOTENCY_KEY="cle-1"),
        400,
        "IDEMPOTENCY_KEY_REUSED",
        None,
        detail="Cette clé d'idempotence a déjà servi pour une autre demande.",
    )
    english = client.post(url, other, HTTP_IDEMPOTENCY_KEY="cle-1", **EN)
    assert english.json()["errors"][0]["detail"] == (
        "This idempotency key has already been used for another request."
    )
    assert PaymentRequest.objects.count() == 1
