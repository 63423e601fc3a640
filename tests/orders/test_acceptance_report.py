"""The acceptance report of an installation: downloadable by whoever may see the order (the
establishment that confirms it above all), by nobody else, through the API and the portal."""

import pytest
from rest_framework.test import APIClient

from tests.factories.orders import make_order_world, order_in
from tests.factories.referencing import PDF


@pytest.fixture
def declared(db):
    ow = make_order_world()
    return ow, order_in(ow, "installation_declared")


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _url(order) -> str:
    return f"/api/v1/purchase-orders/{order.pk}/acceptance-report/"


@pytest.mark.parametrize("who", ["signatory", "staff", "member", "officer", "admin", "reviewer"])
def test_whoever_sees_the_order_downloads_its_report(declared, who):
    ow, order = declared
    response = _api(getattr(ow, who)).get(_url(order))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", ["other_establishment_signatory", "other_vendor_member"])
def test_others_get_a_404(declared, who):
    ow, order = declared
    response = _api(getattr(ow, who)).get(_url(order))
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_an_order_without_report_is_a_404_in_the_error_format(db):
    ow = make_order_world()
    order = order_in(ow, "signed")
    response = _api(ow.signatory).get(_url(order))
    assert response.status_code == 404
    assert "procès-verbal" in response.json()["errors"][0]["detail"]


def test_anonymous_is_refused(declared):
    _ow, order = declared
    assert APIClient().get(_url(order)).status_code in (401, 403)


def test_the_portal_links_the_report_for_the_establishment(declared, client):
    ow, order = declared
    client.force_login(ow.signatory)
    page = client.get(f"/etablissement/commandes/{order.pk}/")
    link = f"/commandes/{order.pk}/proces-verbal/"
    assert link in page.content.decode()
    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    client.force_login(ow.other_establishment_signatory)
    assert client.get(link).status_code == 404
