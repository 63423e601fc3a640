"""Evidence files through the API: upload (type from content, size limits, safe names, nothing
stored when refused), the private download, who may do what, and the audit entry."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.static import serve

from accounts.models import Role
from core.models import AuditEntry
from referencing_app import services
from referencing_app.models import Evidence
from sons.models import DEFAULT_EVIDENCE_MAX_BYTES
from tests.factories.referencing import PDF, dossier_in, make_world

URL = "/api/v1/evidence/"

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<rapport><test id="INS">ok</test></rapport>\n'
JSON = json.dumps({"scenario": "DMP.01", "resultat": "conforme", "écart": None}).encode()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("traces/insi.log", "appel INSi OK\n")
    return buffer.getvalue()


PE_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


# --- helpers ------------------------------------------------------------------------------------
def _file(name: str, content: bytes, declared: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=declared)


def _post(client, content: bytes | None = None, name: str = "preuve.pdf", **extra):
    data = dict(extra)
    if content is not None:
        data["file"] = _file(name, content)
    return client.post(URL, data, format="multipart")


_ISOLATED: dict[str, Path] = {}


def _private_root() -> Path:
    """This test's private storage directory (see the `private_storage` fixture)."""
    return _ISOLATED["root"]


def _tree() -> list[str]:
    """Every directory and file under the private storage, relative to it."""
    root = _private_root()
    entries = []
    for directory, dirs, files in os.walk(root):
        rel = Path(directory).relative_to(root)
        entries += [f"{rel / d}/" for d in dirs] + [str(rel / f) for f in files]
    return sorted(entries)


def _assert_error(response, status: int, code: str, attr: str | None = "file") -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert isinstance(body["type"], str)
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert set(error) == {"code", "detail", "attr"}
    assert error["code"] == code
    assert error["detail"]
    assert error["attr"] == attr


@pytest.fixture(autouse=True)
def private_storage(tmp_path, monkeypatch):
    """The configured private storage, moved to a directory of this test's own: the configured
    one is shared by every test process running at the same time, so "nothing was stored" could
    not be checked on it reliably. Same class and options, only the location differs."""
    field = Evidence._meta.get_field("file")
    configured = field.storage
    assert isinstance(configured, FileSystemStorage)
    assert Path(configured.location) == Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    root = tmp_path / "private"
    root.mkdir()
    monkeypatch.setattr(
        field,
        "storage",
        FileSystemStorage(location=root, base_url=configured.base_url),
    )
    monkeypatch.setitem(_ISOLATED, "root", root)
    return root


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def member(client_for, world):
    return client_for(user=world.member)


@pytest.fixture
def nothing_stored(world):
    """Asserts that the test left no Evidence row, no audit entry and no file behind."""
    before_tree, before_rows = _tree(), Evidence.objects.count()
    before_audit = AuditEntry.objects.filter(action="evidence.upload").count()
    yield
    assert Evidence.objects.count() == before_rows
    assert AuditEntry.objects.filter(action="evidence.upload").count() == before_audit
    assert _tree() == before_tree


# --- upload ---------------------------------------------------------------------------------------
def test_upload_returns_digest_size_type_and_name_decided_by_the_service(member, world):
    response = _post(member, PDF, "Rapport de recette.pdf")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf"
    assert body["filename"] == "Rapport de recette.pdf"
    assert body["vendor"] == str(world.vendor.pk)
    evidence = Evidence.objects.get(pk=body["id"])
    assert evidence.uploaded_by == world.member
    with evidence.file.open("rb") as stored:
        assert stored.read() == PDF


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [
        (PDF, "application/pdf", ".pdf"),
        (PNG, "image/png", ".png"),
        (JPEG, "image/jpeg", ".jpg"),
        (_zip(), "application/zip", ".zip"),
        (XML, "application/xml", ".xml"),
        (b"\xef\xbb\xbf" + XML, "application/xml", ".xml"),
        (JSON, "application/json", ".json"),
        (b"[1, 2, 3]", "application/json", ".json"),
    ],
)
def test_each_accepted_type_is_recognised_from_its_content(
    member, content, content_type, extension
):
    # Named and declared as something else: the content decides, the extension follows.
    response = member.post(
        URL, {"file": _file("piece.bin", content, declared="text/plain")}, format="multipart"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == content_type
    assert body["filename"] == f"piece{extension}"
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)


def test_png_named_pdf_is_stored_as_png(member):
    body = _post(member, PNG, "capture.pdf").json()
    assert (body["content_type"], body["filename"]) == ("image/png", "capture.png")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system32\\rapport.pdf", "rapport.pdf"),
        ("/var/private/evidence/x.pdf", "x.pdf"),
        ("Rapport d'été 2025 ✓.pdf", "Rapport d_ete 2025.pdf"),
        ("Résumé-INSi.pdf", "Resume-INSi.pdf"),
        ("rap\x01port\x07.pdf", "rapport.pdf"),
        ("a\tb.pdf", "ab.pdf"),
        ("a;b=c&d.pdf", "a_b_c_d.pdf"),
        ("rapport.pdf.exe", "rapport.pdf.pdf"),
        ("x" * 300 + ".pdf", "x" * 150 + ".pdf"),
    ],
)
def test_filename_is_sanitised(member, name, expected):
    response = _post(member, PDF, name)

    assert response.status_code == 201, response.content
    filename = response.json()["filename"]
    assert filename == expected
    assert "/" not in filename
    assert "\\" not in filename
    assert ".." not in filename.replace(".pdf.pdf", "")
    assert all(ch.isprintable() and ord(ch) < 128 for ch in filename)


@pytest.mark.parametrize(
    "name",
    [
        "evil\x00name.pdf",
        "line\r\nbreak.pdf",
        'q"uote;x=y.pdf',
        "../../../../tmp/x.pdf",
        "C:\\temp\\x.pdf",
        "....",
        "\u202egnp.pdf",
    ],
)
def test_service_sanitises_names_the_http_layer_would_not_have_cleaned(world, name):
    # The service is also called from other code paths (web UI, commands): it must not trust them.
    evidence = services.evidence_upload(actor=world.member, upload=_file(name, PDF))

    assert evidence.filename.endswith(".pdf")
    assert all(ch.isalnum() or ch in "._ -" for ch in evidence.filename)
    assert not evidence.filename.startswith(".")
    stored = (_private_root() / evidence.file.name).resolve()
    assert stored.is_relative_to(_private_root().resolve())


def test_stored_under_a_random_name_in_the_vendor_folder(member, world):
    body = _post(member, PDF, "../../etc/passwd.pdf").json()
    evidence = Evidence.objects.get(pk=body["id"])

    assert evidence.file.name == f"evidence/{world.vendor.pk}/{evidence.pk}"
    assert "passwd" not in evidence.file.name
    assert (_private_root() / evidence.file.name).is_file()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (PE_EXE, "rapport.pdf"),
        (ELF, "rapport.pdf"),
        (b"#!/bin/sh\nrm -rf / --no-preserve-root\n", "rapport.pdf"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "rapport.xml"),
        (b"\xef\xbb\xbf  <HTML><body>hello</body></HTML>", "page.xml"),
        (b"<!-- commentaire --><html><script>alert(1)</script></html>", "page.xml"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.xml"),
        (b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg/>', "logo.svg"),
        (b"<script>alert(document.cookie)</script>", "preuve.json"),
        (b"alert(document.cookie);\n", "preuve.js"),
        (b"{not json at all", "preuve.json"),
        (b"Simple texte, pas une preuve.\n", "preuve.txt"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image.png"),
    ],
)
def test_refused_types_answer_415_and_store_nothing(member, nothing_stored, content, name):
    response = _post(member, content, name)

    _assert_error(response, 415, "unsupported_file_type")
    assert response.json()["type"] == "client_error"


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
        b"<script>alert(1)</script></svg>",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        b"<script>alert(1)</script></html>",
        b'<body onload="alert(1)">bonjour</body>',
        b"<div><script>alert(1)</script></div>",
    ],
)
def test_svg_or_html_disguised_as_xml_is_refused(member, nothing_stored, content):
    _assert_error(_post(member, content, "rapport.xml"), 415, "unsupported_file_type")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'


@pytest.mark.parametrize("content", [BILLION_LAUGHS, XXE])
def test_hostile_xml_is_handled_without_expansion_or_file_access(member, content):
    response = _post(member, content, "rapport.xml")

    assert response.status_code in (201, 415)
    if response.status_code == 201:
        evidence = Evidence.objects.get(pk=response.json()["id"])
        with evidence.file.open("rb") as stored:
            assert stored.read() == content  # stored as sent, never expanded


def test_empty_file_is_400_and_stores_nothing(member, nothing_stored):
    response = _post(member, b"", "vide.pdf")
    _assert_error(response, 400, "empty_file")
    assert response.json()["type"] == "validation_error"


def test_missing_file_is_400(member, nothing_stored):
    response = member.post(URL, {}, format="multipart")
    _assert_error(response, 400, "required")


def test_file_field_that_is_not_a_file_is_400(member, nothing_stored):
    response = member.post(URL, {"file": "%PDF-1.7 pas un fichier"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "file"


def test_unknown_field_is_400(member, nothing_stored):
    response = _post(member, PDF, nom="x")
    _assert_error(response, 400, "unknown_field", attr="nom")


def test_json_body_is_refused(member, nothing_stored):
    response = member.post(URL, {"file": "x"}, format="json")
    assert response.status_code == 415
    assert set(response.json()) == {"type", "errors"}


# --- size limits ---------------------------------------------------------------------------------
def test_scheme_limit_applies_when_a_dossier_is_given(client_for, db):
    world = make_world(evidence_max_bytes=len(PDF))
    dossier = dossier_in(world, "draft")
    member = client_for(user=world.member)

    at_limit = _post(member, PDF, dossier=str(dossier.pk))
    assert at_limit.status_code == 201, at_limit.content

    before_tree, before_rows = _tree(), Evidence.objects.count()
    over = _post(member, PDF + b"\n", dossier=str(dossier.pk))
    _assert_error(over, 413, "file_too_large")
    assert Evidence.objects.count() == before_rows
    assert _tree() == before_tree


def test_default_limit_applies_without_dossier(member, monkeypatch):
    monkeypatch.setattr(services, "DEFAULT_EVIDENCE_MAX_BYTES", len(PDF))
    assert _post(member, PDF).status_code == 201

    before_tree, before_rows = _tree(), Evidence.objects.count()
    _assert_error(_post(member, PDF + b" "), 413, "file_too_large")
    assert Evidence.objects.count() == before_rows
    assert _tree() == before_tree


def test_default_limit_is_25_mb(member, nothing_stored):
    assert DEFAULT_EVIDENCE_MAX_BYTES == 25 * 1024 * 1024
    content = b"%PDF-1.7\n" + b"0" * (DEFAULT_EVIDENCE_MAX_BYTES + 1 - 9)
    response = _post(member, content, "gros.pdf")
    _assert_error(response, 413, "file_too_large")


def test_dossier_of_another_vendor_is_404_and_stores_nothing(client_for, world, nothing_stored):
    dossier = dossier_in(world, "draft")
    stranger = client_for(user=world.other_vendor_member)
    response = _post(stranger, PDF, dossier=str(dossier.pk))
    _assert_error(response, 404, "not_found", attr=None)


def test_unknown_dossier_is_404(member, nothing_stored):
    response = _post(member, PDF, dossier="00000000-0000-0000-0000-000000000000")
    _assert_error(response, 404, "not_found", attr=None)


def test_malformed_dossier_id_is_400(member, nothing_stored):
    _assert_error(_post(member, PDF, dossier="../x"), 400, "invalid", attr="dossier")


def test_failed_transaction_removes_the_stored_file(world, monkeypatch):
    def files():
        return [entry for entry in _tree() if not entry.endswith("/")]

    before = files()

    def broken_audit(**kwargs):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(services, "audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        services.evidence_upload(actor=world.member, upload=_file("a.pdf", PDF))
    assert Evidence.objects.count() == 0
    assert files() == before  # (an empty vendor folder may remain)


# --- audit ---------------------------------------------------------------------------------------
def test_upload_writes_one_audit_entry(member, world):
    body = _post(member, PDF).json()

    (entry,) = AuditEntry.objects.filter(object_id=body["id"])
    assert entry.action == "evidence.upload"
    assert entry.actor_id == world.member.pk
    assert entry.object_type == "referencing.evidence"
    assert entry.changes["sha256"] == [None, hashlib.sha256(PDF).hexdigest()]
    assert entry.changes["size"] == [None, len(PDF)]
    assert entry.changes["content_type"] == [None, "application/pdf"]


# --- who may upload ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VENDOR, 201),
        (Role.ANS_ADMIN, 403),
        (Role.REVIEWER, 403),
        (Role.PAYMENT_OFFICER, 403),
        (Role.ESTABLISHMENT, 403),
    ],
)
def test_only_vendor_members_upload(client_for, role, expected):
    response = _post(client_for(role), PDF)
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["errors"][0]["code"] == "permission_denied"
        assert not Evidence.objects.exists()


def test_anonymous_upload_is_401(api, nothing_stored):
    response = api.post(URL, {"file": _file("a.pdf", PDF)}, format="multipart")
    _assert_error(response, 401, "not_authenticated", attr=None)


def test_superuser_without_vendor_cannot_upload(client_for, nothing_stored):
    client = client_for(Role.ANS_ADMIN, is_superuser=True)
    assert _post(client, PDF).status_code == 403


# --- download --------------------------------------------------------------------------------------
def _download(client, evidence_id):
    response = client.get(f"{URL}{evidence_id}/download/")
    # Consuming the stream closes the response (and the file) the way a WSGI server would.
    content = b"".join(response.streaming_content) if response.status_code == 200 else None
    return response, content


@pytest.fixture
def evidence(world):
    return services.evidence_upload(actor=world.member, upload=_file("../Trace INSi.pdf", PDF))


@pytest.mark.parametrize("who", ["member", "signatory", "admin", "reviewer"])
def test_download_by_vendor_members_and_ans(client_for, world, evidence, who):
    response, content = _download(client_for(user=getattr(world, who)), evidence.pk)

    assert response.status_code == 200
    assert content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Trace INSi.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(XML, "application/xml"), (PNG, "image/png"), (JSON, "application/json")],
)
def test_download_is_always_an_attachment_with_the_sniffed_type(
    client_for, world, content, content_type
):
    evidence = services.evidence_upload(actor=world.member, upload=_file("x.html", content))
    response, body = _download(client_for(user=world.member), evidence.pk)

    assert body == content
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("who", "expected", "code"),
    [
        ("other_vendor_member", 404, "not_found"),
        ("officer", 403, "permission_denied"),
        ("establishment", 403, "permission_denied"),
    ],
)
def test_download_refused_to_others(client_for, world, evidence, who, expected, code):
    response, content = _download(client_for(user=getattr(world, who)), evidence.pk)

    _assert_error(response, expected, code, attr=None)
    assert content is None


def test_other_vendor_gets_the_same_404_as_for_a_missing_file(client_for, world, evidence):
    stranger = client_for(user=world.other_vendor_member)
    theirs, _ = _download(stranger, evidence.pk)
    missing, _ = _download(stranger, "00000000-0000-0000-0000-000000000000")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert stranger.get(f"{URL}{evidence.pk}/").status_code == 404
    assert stranger.get(URL).json()["count"] == 0


def test_anonymous_download_is_401(api, evidence):
    response, content = _download(api, evidence.pk)
    _assert_error(response, 401, "not_authenticated", attr=None)
    assert content is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "..%2F..%2Fetc%2Fpasswd"])
def test_malformed_evidence_id_is_404(admin_client, evidence, bad_id):
    response, _ = _download(admin_client, bad_id)
    _assert_error(response, 404, "not_found", attr=None)


def test_a_nul_in_the_evidence_id_is_400(admin_client, evidence):
    response, _ = _download(admin_client, "%00")
    _assert_error(response, 400, "null_characters_not_allowed", attr=None)


def test_vendor_lists_only_its_own_evidence(client_for, world, evidence):
    services.evidence_upload(actor=world.other_vendor_member, upload=_file("autre.pdf", PDF))

    own = client_for(user=world.member).get(URL).json()
    assert [e["id"] for e in own["results"]] == [str(evidence.pk)]
    assert "file" not in own["results"][0]
    assert client_for(user=world.admin).get(URL).json()["count"] == 2


# --- never under a public URL ------------------------------------------------------------------------
def _is_under(path: Path, root: str | os.PathLike | None) -> bool:
    return bool(root) and path.resolve().is_relative_to(Path(root).resolve())


def test_private_storage_is_outside_public_directories():
    private = Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    public_roots = [settings.MEDIA_ROOT, settings.STATIC_ROOT, *settings.STATICFILES_DIRS]
    for root in public_roots:
        assert not _is_under(private, root), root
        assert not _is_under(Path(root), private), root


def _all_patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _all_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_no_url_pattern_serves_files_from_disk():
    for route, callback in _all_patterns(get_resolver().url_patterns):
        assert callback is not serve, route
        assert "media" not in route.lower(), route


def test_file_is_not_reachable_except_through_the_download_view(api, client_for, world, evidence):
    name = evidence.file.name
    for path in (
        "/" + name,
        evidence.file.url,
        f"/media/{name}",
        f"/static/{name}",
        f"/private/{name}",
        f"/var/private/{name}",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert PDF not in body
    response, content = _download(client_for(user=world.admin), evidence.pk)
    assert content == PDF
