"""List pages run the same number of queries for one row and for many."""

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments import services as payment_services
from tests.factories.orders import EstablishmentFactory, order_in
from tests.factories.referencing import dossier_in
from tests.factories.vendors import SolutionVersionFactory

pytestmark = pytest.mark.django_db


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _new_version_world(ow):
    version = SolutionVersionFactory(solution=ow.version.solution)
    return dataclasses.replace(ow.world, version=version)


def _add_rows(ow):
    """One more of everything the list pages show."""
    establishment = EstablishmentFactory()
    order = order_in(ow, "signed", establishment=establishment)
    payment_services.payment_request_create(actor=ow.member, order=order, kind="advance")
    order_in(ow, "sent")
    world = _new_version_world(ow)
    dossier_in(world, "approved")
    dossier_in(_new_version_world(ow), "in_review")


@pytest.fixture
def pages(order_world, client_as):
    ow = order_world
    return [
        (client_as(ow.member), reverse("portal:vendor_dossiers")),
        (client_as(ow.member), reverse("portal:vendor_orders")),
        (client_as(ow.member), reverse("portal:vendor_payments")),
        (client_as(ow.member), "/"),
        (client_as(ow.signatory), reverse("portal:establishment_orders")),
        (client_as(ow.signatory), "/"),
        (client_as(ow.reviewer), reverse("portal:review_queue")),
        (client_as(ow.admin), reverse("portal:ans_dossiers")),
        (client_as(ow.admin), reverse("portal:ans_referencings")),
        (client_as(ow.admin), reverse("portal:review_queue")),
        (client_as(ow.admin), "/"),
        (client_as(ow.officer), reverse("portal:payment_requests")),
        (client_as(ow.officer), reverse("portal:payment_requests") + "?state=toutes"),
        (client_as(ow.officer), reverse("portal:payment_queue") + "?kind=advance"),
        (client_as(ow.officer), reverse("portal:payment_batches")),
        (client_as(ow.officer), reverse("portal:eligibility_runs")),
        (client_as(ow.officer), "/"),
        (client_as(None), reverse("portal:catalogue")),
    ]


def test_list_pages_constant_queries(order_world, pages):
    ow = order_world
    _add_rows(ow)
    payment_services.eligibility_check_schemes(scheme_codes=[ow.scheme.code])
    first = [_count(client, url) for client, url in pages]
    for _ in range(3):
        _add_rows(ow)
    payment_services.eligibility_check_schemes(scheme_codes=[ow.scheme.code])
    second = [_count(client, url) for client, url in pages]
    assert first == second, [
        (url, a, b) for (_c, url), a, b in zip(pages, first, second, strict=True) if a != b
    ]
