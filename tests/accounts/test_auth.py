import logging

import pytest
import time_machine
from django.urls import reverse

from accounts.models import LoginFailure, Role
from core.models import AuditEntry
from tests.factories.accounts import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def reviewer(db):
    return UserFactory(username="claire", role=Role.REVIEWER)


def test_token_is_issued_for_good_credentials_and_authenticates(api, reviewer):
    response = api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    me = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == "claire"
    assert AuditEntry.objects.filter(action="token.create", object_id=str(reviewer.pk)).count() == 1


def test_each_login_gets_its_own_token_and_both_work(api, reviewer):
    first = api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}, format="json")
    second = api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}, format="json")
    assert first.json()["token"] != second.json()["token"]
    for token in (first.json()["token"], second.json()["token"]):
        me = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token}")
        assert me.status_code == 200


def test_bad_password_is_a_400_in_the_documented_format_and_is_recorded(api, reviewer):
    response = api.post(TOKEN_URL, {"username": "claire", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "invalid_credentials",
                "detail": "Identifiant ou mot de passe incorrect.",
                "attr": None,
            }
        ],
    }
    failure = LoginFailure.objects.get()
    assert (failure.username, failure.channel) == ("claire", "api")


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({}, "username", "required"),
        ({"username": "claire"}, "password", "required"),
        ({"username": "claire", "password": "x", "extra": 1}, "extra", "unknown_field"),
        ({"username": ["a"], "password": "x"}, "username", "invalid"),
    ],
)
def test_malformed_token_requests_are_400(api, reviewer, payload, attr, code):
    response = api.post(TOKEN_URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {"attr": attr, "code": code} in [
        {"attr": e["attr"], "code": e["code"]} for e in body["errors"]
    ]


def test_malformed_json_is_a_400(api, db):
    response = api.generic("POST", TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_inactive_user_gets_no_token(api, db):
    UserFactory(username="parti", is_active=False)
    response = api.post(TOKEN_URL, {"username": "parti", "password": PASSWORD}, format="json")
    assert response.status_code == 400


def test_repeated_failures_slow_down_then_let_through(api, reviewer, settings, caplog):
    settings.LOGIN_FAILURES_FREE = 3
    with time_machine.travel("2026-03-01 10:00:00+01:00", tick=False) as clock:
        for _ in range(3):
            assert api.post(TOKEN_URL, {"username": "claire", "password": "bad"}).status_code == 400
        caplog.set_level(logging.WARNING, logger="sons.security")
        # 3 failures: the next attempt waits 2^0 = 1 second, even with the right password
        blocked = api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD})
        assert blocked.status_code == 429
        assert blocked.json()["errors"][0]["code"] == "throttled"
        assert blocked["Retry-After"] == "1"
        assert any("login throttled" in r.message for r in caplog.records)
        clock.shift(2)
        assert api.post(TOKEN_URL, {"username": "claire", "password": "bad"}).status_code == 400
        # 4 failures: 2 seconds now
        assert api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}).status_code == 429
        clock.shift(1)
        assert api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}).status_code == 429
        clock.shift(2)
        assert api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}).status_code == 200
    assert LoginFailure.objects.count() == 4


def test_failures_from_one_address_throttle_other_usernames(api, reviewer, settings):
    settings.LOGIN_FAILURES_FREE = 2
    with time_machine.travel("2026-03-01 10:00:00+01:00", tick=False):
        for name in ("a1", "a2"):
            api.post(TOKEN_URL, {"username": name, "password": "bad"})
        assert api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}).status_code == 429


def test_old_failures_outside_the_window_do_not_count(api, reviewer, settings):
    settings.LOGIN_FAILURES_FREE = 2
    with time_machine.travel("2026-03-01 10:00:00+01:00", tick=False) as clock:
        for _ in range(2):
            api.post(TOKEN_URL, {"username": "claire", "password": "bad"})
        clock.shift(settings.LOGIN_FAILURE_WINDOW + 1)
        assert api.post(TOKEN_URL, {"username": "claire", "password": PASSWORD}).status_code == 200


def test_browser_login_works_and_is_throttled_too(client, reviewer, settings):
    settings.LOGIN_FAILURES_FREE = 2
    url = reverse("login")
    with time_machine.travel("2026-03-01 10:00:00+01:00", tick=False):
        page = client.get(url)
        assert page.status_code == 200
        assert "Connexion" in page.content.decode()
        for _ in range(2):
            assert client.post(url, {"username": "claire", "password": "bad"}).status_code == 200
        refused = client.post(url, {"username": "claire", "password": PASSWORD})
        assert refused.status_code == 200
        assert "Trop de tentatives" in refused.content.decode()
        assert LoginFailure.objects.filter(channel="web").count() == 2
    ok = client.post(url, {"username": "claire", "password": PASSWORD})
    assert ok.status_code == 302


def test_passwords_are_hashed_with_argon2_outside_tests(settings):
    from django.contrib.auth.hashers import check_password, make_password

    from config.settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    encoded = make_password("un mot de passe", hasher="argon2")
    assert encoded.startswith("argon2$argon2id$")
    assert check_password("un mot de passe", encoded)
