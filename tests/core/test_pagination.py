"""Page counts: exact for small lists; a large list's total reused for a few seconds."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in

URL = "/api/v1/purchase-orders/"


@pytest.fixture
def officer_client(db):
    cache.clear()
    ow = make_order_world()
    client = APIClient()
    client.force_authenticate(ow.world.officer)
    yield ow, client
    cache.clear()  # the officer's unfiltered count has the same SQL in every test


def _add_order(ow):
    clinic = EstablishmentFactory()
    return order_in(
        ow,
        "signed",
        establishment=clinic,
        signatory=UserFactory(role="establishment", establishment=clinic, signatory=True),
    )


def test_small_lists_are_counted_on_every_page(officer_client, settings):
    settings.PAGINATION_LARGE_COUNT = 10_000
    ow, client = officer_client
    _add_order(ow)
    assert client.get(URL).json()["count"] == 1
    _add_order(ow)
    assert client.get(URL).json()["count"] == 2


def test_a_large_list_reuses_its_count_for_the_ttl_only(officer_client, settings):
    settings.PAGINATION_LARGE_COUNT = 2
    settings.PAGINATION_LARGE_COUNT_TTL = 10
    ow, client = officer_client
    _add_order(ow)
    _add_order(ow)
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert client.get(URL).json()["count"] == 2
        newest = _add_order(ow)
        page = client.get(URL).json()
        assert page["count"] == 2  # within the TTL: the total read a moment ago
        # the rows themselves are read afresh (newest first); the last page may come short
        # of the rows added meanwhile, for the TTL at most
        assert page["results"][0]["id"] == str(newest.pk)
        # another query (another filter, another user's visibility) has its own count
        assert client.get(URL, {"state": "signed"}).json()["count"] == 3
        clock.shift(dt.timedelta(seconds=11))
        assert client.get(URL).json()["count"] == 3
