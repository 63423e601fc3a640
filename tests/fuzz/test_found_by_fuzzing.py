"""What the schemathesis runs (tests/test_api_fuzz.py) found, kept as plain regression tests."""

import pytest

from accounts.models import Role


def _is_validation_error(response, attr):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error", body
    assert [e["attr"] for e in body["errors"]] == [attr], body


def test_a_catalogue_page_past_any_table_is_a_404_not_a_500(api, db):
    # the page's OFFSET overflowed the database's 64-bit integer
    for page in ("26336435568289648640", str(2**62)):
        response = api.get("/api/v1/catalogue/", {"page": page})
        assert response.status_code == 404, response.content
        assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/dossiers/", "complete"),
        ("/api/v1/users/", "is_active"),
        ("/api/v1/schemes/", "uses_eligible_base"),
    ],
)
@pytest.mark.parametrize("value", ["AAA", "null", "2", "0.5"])
def test_a_boolean_filter_that_is_not_a_boolean_is_refused(admin_client, url, name, value):
    # it used to be ignored: the whole list came back, as if unfiltered
    _is_validation_error(admin_client.get(url, {name: value}), name)


@pytest.mark.parametrize("value", ["true", "false", "1", "0", ""])
def test_a_boolean_filter_reads_true_false_or_nothing(admin_client, value):
    assert admin_client.get("/api/v1/users/", {"is_active": value}).status_code == 200


@pytest.mark.parametrize(
    ("name", "value"), [("kind", "AAA"), ("eligible", "null"), ("reason", "AAA")]
)
def test_a_payment_queue_filter_that_means_nothing_is_refused(client_for, name, value):
    officer = client_for(Role.PAYMENT_OFFICER)
    _is_validation_error(officer.get("/api/v1/payment-queue/", {name: value}), name)
    for fine in ({}, {"kind": "advance", "eligible": "false"}, {"eligible": "", "reason": ""}):
        assert officer.get("/api/v1/payment-queue/", fine).status_code == 200


def test_a_page_size_that_is_not_an_integer_is_refused(admin_client):
    _is_validation_error(admin_client.get("/api/v1/users/", {"page_size": "1e9"}), "page_size")
