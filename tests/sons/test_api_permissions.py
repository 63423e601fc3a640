"""(role × endpoint) matrix of the programme API: allowed, 403 (authenticated but not allowed)
or 401 (anonymous)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Role
from core.models import AuditEntry
from tests.factories.accounts import UserFactory
from tests.factories.sons import EligibleEstablishmentFactory, finess
from tests.sons.conftest import API, assert_error

ADMIN, REVIEWER, OFFICER, VENDOR, ESTAB = (
    Role.ANS_ADMIN,
    Role.REVIEWER,
    Role.PAYMENT_OFFICER,
    Role.VENDOR,
    Role.ESTABLISHMENT,
)
ROLES = [ADMIN, REVIEWER, OFFICER, VENDOR, ESTAB]
S = f"{API}/schemes/HOP-DPI-X1"
ESTABLISHMENT = finess(4242)

READ_ALL = dict.fromkeys(ROLES, 200)
READ_ANS_ASP = {ADMIN: 200, OFFICER: 200, REVIEWER: 403, VENDOR: 403, ESTAB: 403}

READS = [
    (f"{API}/waves/", READ_ALL),
    (f"{API}/waves/VA2/", READ_ALL),
    (f"{API}/sectors/", READ_ALL),
    (f"{API}/sectors/HOP/", READ_ALL),
    (f"{API}/categories/", READ_ALL),
    (f"{API}/categories/DPI/", READ_ALL),
    (f"{API}/schemes/", READ_ALL),
    (f"{S}/", READ_ALL),
    (f"{S}/requirements/", READ_ALL),
    (f"{S}/requirements/SC.INS.01/", READ_ALL),
    (f"{S}/requirements/?version=1", READ_ALL),
    (f"{S}/requirement-sets/", READ_ALL),
    (f"{S}/requirement-sets/1/", READ_ALL),
    (f"{S}/eligible-establishments/", READ_ANS_ASP),
    (f"{S}/eligible-establishments/{ESTABLISHMENT}/", READ_ANS_ASP),
]


def _csv():
    return SimpleUploadedFile(
        "base.csv", f"establishment;max_amount\n{finess(7)};875\n".encode(), "text/csv"
    )


SCHEME_BODY = {
    "code": "MDV-LGC-VA8",
    "wave": "VA2",
    "category": "LGC",
    "submission_opens": "2026-01-05",
    "submission_closes": "2027-01-29",
    "order_deadline": "2027-03-31",
    "installation_deadline": "2027-09-30",
    "payment_deadline": "2027-12-17T12:00:00+01:00",
    "price_cap": "2500.00",
}
REQUIREMENT_BODY = {"code": "SC.NEW.01", "title": "Nouvelle", "statement": "Le logiciel DOIT…"}

# (method, url, body, format, status for ans_admin)
WRITES = [
    ("post", f"{API}/waves/", {"code": "VA3", "name": "Vague 3"}, "json", 201),
    ("patch", f"{API}/waves/VA2/", {"name": "Vague deux"}, "json", 200),
    ("post", f"{API}/schemes/", SCHEME_BODY, "json", 201),
    ("patch", f"{S}/", {"price_cap": "30000.00"}, "json", 200),
    ("post", f"{S}/requirements/", REQUIREMENT_BODY, "json", 201),
    ("put", f"{S}/requirements/SC.INS.01/", REQUIREMENT_BODY, "json", 200),
    ("patch", f"{S}/requirements/SC.INS.01/", {"title": "Titre"}, "json", 200),
    ("delete", f"{S}/requirements/SC.INS.01/", None, "json", 204),
    ("post", f"{S}/eligible-establishments/", {"establishment": finess(5)}, "json", 201),
    (
        "patch",
        f"{S}/eligible-establishments/{ESTABLISHMENT}/",
        {"max_amount": "1.00"},
        "json",
        200,
    ),
    ("delete", f"{S}/eligible-establishments/{ESTABLISHMENT}/", None, "json", 204),
    ("post", f"{S}/eligible-establishments/upload/", "csv", "multipart", 200),
    ("post", f"{API}/sectors/", {"code": "X", "name": "X"}, "json", 403),
    ("post", f"{API}/categories/", {"code": "X", "name": "X"}, "json", 403),
]


@pytest.fixture
def world(scheme):
    EligibleEstablishmentFactory(scheme=scheme, establishment=ESTABLISHMENT)
    return scheme


def _request(client, method, url, body, fmt):
    if body == "csv":
        return client.post(url, {"file": _csv()}, format="multipart")
    return getattr(client, method)(url, body, format=fmt)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("url", "expected"), READS, ids=[u for u, _ in READS])
def test_reads_per_role(client_for, world, role, url, expected):
    response = client_for(role).get(url)
    assert response.status_code == expected[role], response.content[:300]
    if expected[role] == 403:
        assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize(("url", "expected"), READS, ids=[u for u, _ in READS])
def test_reads_anonymous_is_401(world, url, expected):
    assert_error(APIClient().get(url), 401, "not_authenticated")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "url", "body", "fmt", "admin_status"),
    WRITES,
    ids=[f"{m} {u}" for m, u, *_ in WRITES],
)
def test_writes_per_role(client_for, world, role, method, url, body, fmt, admin_status):
    before = AuditEntry.objects.count()
    response = _request(client_for(role), method, url, body, fmt)
    expected = admin_status if role == ADMIN else 403
    assert response.status_code == expected, response.content[:500]
    if expected == 403:
        assert_error(response, 403)
        assert AuditEntry.objects.count() == before  # refused writes leave no trace
    else:
        assert AuditEntry.objects.count() == before + 1


@pytest.mark.parametrize(
    ("method", "url", "body", "fmt", "admin_status"),
    WRITES,
    ids=[f"{m} {u}" for m, u, *_ in WRITES],
)
def test_writes_anonymous_is_401(world, method, url, body, fmt, admin_status):
    assert_error(_request(APIClient(), method, url, body, fmt), 401)


def test_publish_and_discard_per_role(client_for, world):
    admin = client_for(ADMIN)
    admin.patch(f"{S}/requirements/SC.INS.01/", {"title": "v2"}, format="json")
    for role in (REVIEWER, OFFICER, VENDOR, ESTAB):
        client = client_for(role)
        assert_error(client.post(f"{S}/requirement-sets/publish/", {}, format="json"), 403)
        assert_error(client.post(f"{S}/requirement-sets/discard/", {}, format="json"), 403)
    assert_error(APIClient().post(f"{S}/requirement-sets/publish/", {}, format="json"), 401)
    assert admin.post(f"{S}/requirement-sets/publish/", {}, format="json").status_code == 200
    admin.patch(f"{S}/requirements/SC.INS.01/", {"title": "v3"}, format="json")
    assert admin.post(f"{S}/requirement-sets/discard/").status_code == 204


def test_a_superuser_without_role_has_admin_rights(world):
    client = APIClient()
    client.force_authenticate(UserFactory(role="", is_superuser=True, is_staff=True))
    response = client.post(f"{API}/waves/", {"code": "VA3", "name": "Vague 3"}, format="json")
    assert response.status_code == 201


def test_a_user_without_role_reads_nothing(world):
    client = APIClient()
    client.force_authenticate(UserFactory(role=""))
    assert_error(client.get(f"{API}/schemes/"), 403)


def test_drafts_are_visible_to_ans_only(client_for, world):
    client_for(ADMIN).patch(f"{S}/requirements/SC.INS.01/", {"title": "v2"}, format="json")
    for role in (ADMIN, REVIEWER):
        client = client_for(role)
        assert client.get(f"{S}/requirements/?version=draft").status_code == 200
        assert client.get(f"{S}/requirement-sets/").json()["count"] == 2
        assert client.get(f"{S}/requirements/?version=2").status_code == 200
    for role in (OFFICER, VENDOR, ESTAB):
        client = client_for(role)
        assert_error(client.get(f"{S}/requirements/?version=draft"), 404, "not_found")
        assert_error(client.get(f"{S}/requirements/?version=2"), 404, "not_found")
        assert_error(client.get(f"{S}/requirement-sets/draft/"), 404, "not_found")
        versions = client.get(f"{S}/requirement-sets/").json()
        assert [v["version"] for v in versions["results"]] == [1]
