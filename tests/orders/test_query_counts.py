"""List endpoints cost the same number of queries for one row as for a hundred."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Establishment, OrderState, PurchaseOrder, Reservation
from tests.factories.orders import make_order_world
from tests.factories.sons import finess
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory, vendor_member
from tests.orders.helpers import client

ROWS = 100


def _many_orders(ow) -> None:
    """A hundred orders of two vendors, to many establishments, in varied states, each with
    reservations (bulk-written: the services are tested elsewhere)."""
    other_version = SolutionVersionFactory(
        solution=SolutionFactory(vendor=ow.other_vendor_member.vendor, category=ow.scheme.category)
    )
    establishments = Establishment.objects.bulk_create(
        [
            Establishment(finess=finess(5000 + i), name=f"CH {i}", kind="hospital")
            for i in range(ROWS)
        ]
    )
    establishments[0] = ow.establishment
    states = [OrderState.SENT, OrderState.RESERVED, OrderState.DECLINED, OrderState.CANCELLED]
    orders = PurchaseOrder.objects.bulk_create(
        [
            PurchaseOrder(
                establishment=establishments[i % len(establishments)],
                vendor=ow.vendor if i % 2 else other_version.solution.vendor,
                scheme=ow.scheme,
                solution_version=ow.version if i % 2 else other_version,
                amount=Decimal("1000.00") + i,
                # at most one funded (reserved) order per establishment
                state=states[i % len(states)] if i < ROWS else OrderState.SENT,
                referencing=ow.referencing if i % 2 else None,
            )
            for i in range(2 * ROWS)
        ]
    )
    Reservation.objects.bulk_create(
        [
            Reservation(order=o, text=f"Réserve {n}", raised_by=ow.signatory)
            for o in orders
            for n in (1, 2)
        ]
    )


def _count(api, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("who", ["admin", "officer", "member", "other_vendor_member", "signatory"])
def test_purchase_order_list_queries_do_not_grow_with_the_page(db, who):
    ow = make_order_world()
    _many_orders(ow)
    if who == "other_vendor_member":
        user = vendor_member(ow.other_vendor_member.vendor)
    else:
        user = getattr(ow, who)
    api = client(user)
    one, rows_one = _count(api, "/api/v1/purchase-orders/?page_size=1")
    many, rows_many = _count(api, "/api/v1/purchase-orders/?page_size=100")
    assert rows_one == 1
    assert rows_many > 1  # the page holds many rows (all of them for the establishment)
    assert one == many
    assert many <= 6


def test_establishment_list_queries_do_not_grow_with_the_page(db):
    ow = make_order_world()
    Establishment.objects.bulk_create(
        [
            Establishment(finess=finess(7000 + i), name=f"CH {i}", kind="hospital")
            for i in range(ROWS)
        ]
    )
    api = client(ow.admin)
    one, rows_one = _count(api, "/api/v1/establishments/?page_size=1")
    many, rows_many = _count(api, "/api/v1/establishments/?page_size=100")
    assert (rows_one, rows_many) == (1, 100)
    assert one == many
    assert many <= 3
