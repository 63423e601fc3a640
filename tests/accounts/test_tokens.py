"""API tokens: hashed at rest, shown once, bounded per user, revoked by a new password."""

import hashlib
import importlib

import pytest
import time_machine
from django.apps import apps
from django.db import connection

from accounts import services
from accounts.models import ApiToken, Role
from core.audit import audit_verify
from core.errors import NotAllowed
from core.models import AuditEntry
from tests.factories.accounts import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/auth/me/"


@pytest.fixture
def reviewer(db):
    return UserFactory(username="claire", role=Role.REVIEWER)


def _obtain(api, username="claire", password=PASSWORD) -> str:
    response = api.post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"token"}
    return response.json()["token"]


def _database_text() -> str:
    """Every row of every table, as text: where a clear key would show if it were stored."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def _unauthorised(response) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert body["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("authentication_failed", None)]


def test_token_from_the_endpoint_works_and_only_its_hash_is_stored(api, reviewer):
    key = _obtain(api)
    me = api.get(ME_URL, HTTP_AUTHORIZATION=f"Token {key}")
    assert me.status_code == 200
    assert me.json()["username"] == "claire"
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    assert token.user == reviewer
    assert key not in _database_text()


def test_token_creation_is_audited_without_the_key(api, reviewer):
    key = _obtain(api)
    entry = AuditEntry.objects.get(action="token.create")
    assert (entry.actor_id, entry.object_id) == (reviewer.pk, str(reviewer.pk))
    assert entry.changes == {"token": [None, f"{key[:8]}…"]}
    assert key not in str(entry.changes) + entry.reason + entry.object_repr
    assert audit_verify().ok


@pytest.mark.parametrize(
    "header",
    [
        "Token 0123456789abcdef0123456789abcdef01234567",
        "Token",
        "Token two parts",
        "token nope",
    ],
)
def test_a_wrong_or_malformed_token_is_a_401_in_the_error_shape(api, reviewer, header):
    _obtain(api)
    _unauthorised(api.get(ME_URL, HTTP_AUTHORIZATION=header))


def test_without_a_token_the_api_still_says_401(api, db):
    response = api.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_deactivated_users_token_no_longer_works(api, reviewer, admin_client):
    key = _obtain(api)
    assert admin_client.patch(
        f"/api/v1/users/{reviewer.pk}/", {"is_active": False}
    ).status_code == (200)
    _unauthorised(api.get(ME_URL, HTTP_AUTHORIZATION=f"Token {key}"))


def test_a_new_password_revokes_every_token_and_says_so_in_the_audit(api, reviewer, admin_client):
    keys = [_obtain(api), _obtain(api)]
    response = admin_client.patch(
        f"/api/v1/users/{reviewer.pk}/", {"password": "Une-autre-phrase-2026"}
    )
    assert response.status_code == 200
    for key in keys:
        _unauthorised(api.get(ME_URL, HTTP_AUTHORIZATION=f"Token {key}"))
    assert not ApiToken.objects.exists()
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes == {"password": ["***", "*** (modifié)"], "api_tokens": [2, 0]}
    assert _obtain(api, password="Une-autre-phrase-2026")


def test_a_user_keeps_at_most_the_bound_and_the_oldest_go(reviewer, settings):
    with time_machine.travel("2026-03-01 10:00:00+01:00", tick=False):  # same instant for all
        issued = [
            services.api_token_create(actor=reviewer, user=reviewer)
            for _ in range(services.TOKENS_PER_USER + 2)
        ]
    kept = set(ApiToken.objects.filter(user=reviewer).values_list("pk", flat=True))
    assert kept == {t.token.pk for t in issued[2:]}
    last = AuditEntry.objects.filter(action="token.create").order_by("-seq").first()
    assert "limite : 20" in last.reason


def test_nobody_obtains_a_token_for_someone_else_not_even_a_superuser(reviewer):
    root = UserFactory(role="", is_superuser=True, is_staff=True)
    with pytest.raises(NotAllowed):
        services.api_token_create(actor=root, user=reviewer)
    assert not ApiToken.objects.exists()
    assert services.api_token_create(actor="bench_orders_api", user=reviewer).key


def test_last_use_is_recorded_at_most_once_a_minute_in_one_query(
    api, reviewer, django_assert_num_queries
):
    key = _obtain(api)
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    with time_machine.travel("2026-03-01 10:00:00+01:00", tick=False) as clock:
        with django_assert_num_queries(2):  # the lookup, the UPDATE of last_used_at
            assert api.get(ME_URL, **auth).status_code == 200
        first = ApiToken.objects.get().last_used_at
        assert first is not None
        clock.shift(30)
        with django_assert_num_queries(1):  # the lookup only
            assert api.get(ME_URL, **auth).status_code == 200
        assert ApiToken.objects.get().last_used_at == first
        clock.shift(31)
        assert api.get(ME_URL, **auth).status_code == 200
        assert ApiToken.objects.get().last_used_at > first


@pytest.mark.django_db(transaction=True)
def test_rest_framework_authtoken_keys_keep_working_hashed_and_their_table_goes():
    """The migration's data step, on a database that still has authtoken's table."""
    user = UserFactory(username="ancien")
    key = "f" * 40
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id char(32), "
            "created timestamp)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [key, user.pk.hex, "2026-01-01 10:00:00"],
        )
    migration = importlib.import_module("accounts.migrations.0003_api_token")
    with connection.schema_editor() as editor:
        migration.hash_legacy_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get()
    assert (token.user, token.key_hash) == (user, hashlib.sha256(key.encode()).hexdigest())
