import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from core.models import AuditEntry
from tests.factories.accounts import UserFactory
from tests.factories.vendors import VendorFactory

URL = "/api/v1/users/"
GOOD_PASSWORD = "Une-phrase-secrete-2026"


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
def test_only_ans_admins_list_users(client_for, role, expected):
    assert client_for(role).get(URL).status_code == expected


def test_anonymous_gets_401(api, db):
    response = api.get(URL)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_superuser_has_ans_admin_rights(client_for, db):
    root = UserFactory(role="", is_superuser=True, is_staff=True)
    assert client_for(user=root).get(URL).status_code == 200


def test_admin_creates_a_vendor_member_and_the_write_is_audited(admin_client):
    vendor = VendorFactory()
    response = admin_client.post(
        URL,
        {
            "username": "marc",
            "password": GOOD_PASSWORD,
            "email": "marc@editeur.fr",
            "role": "vendor",
            "vendor": str(vendor.pk),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body
    user = User.objects.get(username="marc")
    assert user.vendor == vendor
    assert user.check_password(GOOD_PASSWORD)
    entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
    assert entry.actor_id == admin_client.user.pk
    assert entry.changes["role"] == [None, "vendor"]
    assert "password" not in entry.changes


def test_password_change_is_audited_without_the_password(admin_client):
    user = UserFactory(role=Role.REVIEWER)
    response = admin_client.patch(f"{URL}{user.pk}/", {"password": GOOD_PASSWORD})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    entry = AuditEntry.objects.get(action="user.update", object_id=str(user.pk))
    assert GOOD_PASSWORD not in str(entry.changes)
    assert entry.changes["password"][1] == "*** (modifié)"


def test_deactivation_instead_of_deletion(admin_client):
    user = UserFactory(role=Role.REVIEWER)
    assert admin_client.delete(f"{URL}{user.pk}/").status_code == 405
    response = admin_client.patch(f"{URL}{user.pk}/", {"is_active": False})
    assert response.status_code == 200
    assert AuditEntry.objects.get(action="user.update").changes == {"is_active": [True, False]}


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"username": "x1", "role": "reviewer"}, "password", "required"),
        (
            {"username": "x2", "password": "court", "role": "reviewer"},
            "password",
            "password_too_short",
        ),
        ({"username": "x3", "password": GOOD_PASSWORD, "role": "chef"}, "role", "invalid_choice"),
        ({"username": "x4", "password": GOOD_PASSWORD, "role": "vendor"}, "vendor", "invalid"),
        (
            {"username": "x5", "password": GOOD_PASSWORD, "role": "reviewer", "signatory": True},
            "signatory",
            "invalid",
        ),
        (
            {"username": "x6", "password": GOOD_PASSWORD, "role": "reviewer", "colour": "bleu"},
            "colour",
            "unknown_field",
        ),
        (
            {
                "username": "x7",
                "password": GOOD_PASSWORD,
                "role": "vendor",
                "vendor": "00000000-0000-0000-0000-000000000000",
            },
            "vendor",
            "does_not_exist",
        ),
        (
            {
                "username": "x8",
                "password": GOOD_PASSWORD,
                "role": "vendor",
                "vendor": "pas-un-uuid",
            },
            "vendor",
            "invalid",
        ),
        (
            {"username": ["x9"], "password": GOOD_PASSWORD, "role": "reviewer"},
            "username",
            "invalid",
        ),
        (
            {
                "username": "x10",
                "password": GOOD_PASSWORD,
                "role": "reviewer",
                "is_active": "peut-être",
            },
            "is_active",
            "invalid",
        ),
        (
            {
                "username": "x11",
                "password": GOOD_PASSWORD,
                "role": "reviewer",
                "email": "pas-un-mail",
            },
            "email",
            "invalid",
        ),
    ],
)
def test_bad_user_input_is_a_400_naming_the_field(admin_client, payload, attr, code):
    response = admin_client.post(URL, payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert (attr, code) in [(e["attr"], e["code"]) for e in body["errors"]], body
    assert not AuditEntry.objects.exists()


def test_duplicate_username_is_refused_case_insensitively(admin_client):
    UserFactory(username="Sophie")
    response = admin_client.post(
        URL, {"username": "sophie", "password": GOOD_PASSWORD, "role": "reviewer"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "username"


def test_unknown_user_and_malformed_id_are_404(admin_client):
    assert admin_client.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    response = admin_client.get(f"{URL}42/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_user_list_query_count_does_not_depend_on_page_size(admin_client):
    for _ in range(5):
        UserFactory(role=Role.VENDOR, vendor=VendorFactory())
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(URL, {"page_size": size})
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
