import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from core.audit import audit_record
from sons.models import Category

AUDIT_URL = "/api/v1/audit/"


def _entries(n: int, actor="test"):
    category = Category.objects.get(code="DPI")
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=actor, action="demo.touch", obj=category, reason=f"motif {i}")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ANS_ADMIN, 200),
        (Role.REVIEWER, 403),
        (Role.PAYMENT_OFFICER, 403),
        (Role.VENDOR, 403),
        (Role.ESTABLISHMENT, 403),
    ],
)
def test_audit_is_readable_by_ans_admins_only(client_for, role, expected):
    assert client_for(role).get(AUDIT_URL).status_code == expected


def test_audit_anonymous_is_401(api, db):
    assert api.get(AUDIT_URL).status_code == 401


def test_audit_entries_show_who_when_what_and_filter(admin_client):
    _entries(3)
    _entries(1, actor=admin_client.user)
    body = admin_client.get(AUDIT_URL).json()
    assert body["count"] == 4
    newest = body["results"][0]
    assert newest["seq"] == 4
    assert newest["actor"] == str(admin_client.user.pk)
    assert {
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "from_state",
        "to_state",
        "reason",
    } <= set(newest)
    filtered = admin_client.get(AUDIT_URL, {"actor": str(admin_client.user.pk)}).json()
    assert filtered["count"] == 1
    by_object = admin_client.get(
        AUDIT_URL, {"object_id": newest["object_id"], "action": "demo.touch"}
    )
    assert by_object.json()["count"] == 4
    assert admin_client.get(AUDIT_URL, {"actor": "pas-un-uuid"}).status_code == 400


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_audit_cannot_be_written_through_the_api(admin_client, method):
    _entries(1)
    entry_id = admin_client.get(AUDIT_URL).json()["results"][0]["id"]
    url = AUDIT_URL if method == "post" else f"{AUDIT_URL}{entry_id}/"
    response = getattr(admin_client, method)(url, {"reason": "effacé"})
    assert response.status_code == 405
    assert response.json()["type"] == "client_error"


def test_audit_admin_pages_cannot_change_or_delete(client, db):
    from tests.factories.accounts import UserFactory

    root = UserFactory(role="", is_superuser=True, is_staff=True)
    client.force_login(root)
    _entries(1)
    from core.models import AuditEntry

    entry = AuditEntry.objects.get()
    assert client.get("/admin/core/auditentry/").status_code == 200
    assert client.get(f"/admin/core/auditentry/{entry.pk}/change/").status_code == 200  # view only
    client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"reason": "x"})
    assert (
        client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.reason == "motif 0"


def test_audit_list_query_count_is_constant(admin_client):
    _entries(5)
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(AUDIT_URL, {"page_size": size}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_unknown_api_path_is_a_json_404(client, db):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Ressource introuvable.", "attr": None}],
    }


def test_schema_and_docs_are_served_without_any_external_asset(client, db):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    external = [
        u
        for u in re.findall(r'(?:src|href)="([^"]+)"', html)
        if u.startswith(("http:", "https:", "//"))
    ]
    assert external == []
    assert "swagger-ui" in html
    bundle = re.search(r'src="([^"]*swagger-ui-bundle[^"]*)"', html).group(1)
    assert client.get(bundle).status_code == 200


def test_home_page_is_in_french(client, db):
    page = client.get("/")
    assert page.status_code == 200
    assert 'lang="fr"' in page.content.decode()
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_english_is_available(client, db):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="en"' in page.content.decode()
