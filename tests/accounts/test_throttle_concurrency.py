"""Login throttling holds when the attempts arrive at once (issue 10): the throttle is read and
the attempt recorded in one transaction under a lock on the username and the address, before the
password is checked, so 40 parallel wrong passwords get at most LOGIN_FAILURES_FREE evaluated."""

import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import LoginFailure, User
from tests.factories.accounts import UserFactory

TOKEN_URL = "/api/v1/auth/token/"
ATTEMPTS = 40

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writers, so logins never truly race",
)


def _parallel_logins(payloads: list[dict], addresses: list[str]) -> tuple[list, int]:
    """POST each payload from its own thread and connection, all released at once; the
    responses (or exceptions) and how many passwords were checked."""
    start = threading.Barrier(len(payloads), timeout=60)
    checked = []
    real_check = User.check_password

    def counting_check(user, raw_password):
        checked.append(user.pk)
        return real_check(user, raw_password)

    def run(index):
        try:
            client = APIClient(REMOTE_ADDR=addresses[index])
            start.wait()
            return client.post(TOKEN_URL, payloads[index], format="json")
        except Exception as exc:  # reported by the assertions
            return exc
        finally:
            connection.close()

    with (
        mock.patch.object(User, "check_password", counting_check),
        ThreadPoolExecutor(max_workers=len(payloads)) as pool,
    ):
        results = list(pool.map(run, range(len(payloads))))
    return results, len(checked)


def _assert_throttled_shape(response) -> None:
    body = response.json()
    assert body["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("throttled", None)]
    assert body["errors"][0]["detail"].startswith("Trop de tentatives de connexion échouées.")
    assert int(response["Retry-After"]) >= 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_forty_parallel_wrong_passwords_get_at_most_the_free_attempts_evaluated():
    UserFactory(username="cible")
    payload = {"username": "cible", "password": "mauvais-mot-de-passe"}
    # each from its own address: only the username's counter can stop them
    addresses = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(ATTEMPTS)]
    results, checked = _parallel_logins([payload] * ATTEMPTS, addresses)

    assert all(not isinstance(r, Exception) for r in results), results
    statuses = sorted(r.status_code for r in results)
    free = settings.LOGIN_FAILURES_FREE
    assert checked == free
    assert statuses == [400] * free + [429] * (ATTEMPTS - free)
    for response in results:
        if response.status_code == 400:
            assert response.json()["errors"][0]["code"] == "invalid_credentials"
        else:
            _assert_throttled_shape(response)
    # throttled attempts are not failures: exactly the evaluated ones are recorded
    assert LoginFailure.objects.filter(username="cible").count() == free


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_on_many_accounts_from_one_address_are_throttled_by_address():
    for i in range(ATTEMPTS):
        UserFactory(username=f"compte{i}")
    payloads = [{"username": f"compte{i}", "password": "mauvais"} for i in range(ATTEMPTS)]
    results, checked = _parallel_logins(payloads, ["192.0.2.7"] * ATTEMPTS)

    assert all(not isinstance(r, Exception) for r in results), results
    assert checked == settings.LOGIN_FAILURES_FREE
    assert sorted(r.status_code for r in results).count(429) == ATTEMPTS - checked
    assert LoginFailure.objects.filter(ip_address="192.0.2.7").count() == checked


@pytest.mark.django_db
def test_a_success_leaves_no_failure_and_a_failure_is_recorded_once(api):
    UserFactory(username="juste", password="mot-de-passe-correct-2026")
    ok = api.post(
        TOKEN_URL, {"username": "juste", "password": "mot-de-passe-correct-2026"}, format="json"
    )
    assert ok.status_code == 200
    assert not LoginFailure.objects.exists()
    bad = api.post(TOKEN_URL, {"username": "juste", "password": "non"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["type"] == "validation_error"
    assert LoginFailure.objects.filter(username="juste", channel="api").count() == 1


@pytest.mark.django_db
def test_the_sixth_sequential_wrong_password_is_throttled_without_being_checked(api):
    UserFactory(username="suite")
    checked = []
    real_check = User.check_password

    def counting_check(user, raw_password):
        checked.append(user.pk)
        return real_check(user, raw_password)

    with mock.patch.object(User, "check_password", counting_check):
        statuses = [
            api.post(TOKEN_URL, {"username": "suite", "password": "non"}, format="json")
            for _ in range(settings.LOGIN_FAILURES_FREE + 2)
        ]
    assert [r.status_code for r in statuses] == [400] * settings.LOGIN_FAILURES_FREE + [429] * 2
    assert len(checked) == settings.LOGIN_FAILURES_FREE
    english = api.post(
        TOKEN_URL,
        {"username": "suite", "password": "non"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 429
    assert english.json()["errors"][0]["detail"].startswith("Too many failed login attempts.")


@pytest.mark.django_db
def test_the_web_login_is_throttled_too(client):
    UserFactory(username="web")
    for _ in range(settings.LOGIN_FAILURES_FREE):
        page = client.post("/connexion/", {"username": "web", "password": "non"})
        assert page.status_code == 200
    assert LoginFailure.objects.filter(username="web", channel="web").count() == 5
    page = client.post("/connexion/", {"username": "web", "password": "non"})
    assert "Trop de tentatives de connexion échouées." in page.content.decode()
    assert LoginFailure.objects.filter(username="web").count() == 5
