"""Every list endpoint costs the same number of queries for a page of 1 and a page of 100."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sons.models import RequirementSet
from tests.factories.sons import (
    EligibleEstablishmentFactory,
    SchemeFactory,
    WaveFactory,
    published_requirement,
)
from tests.sons.conftest import API

S = f"{API}/schemes/HOP-DPI-X1"


@pytest.fixture
def many(scheme):
    WaveFactory(code="VA1", name="Vague 1")
    WaveFactory(code="VA3", name="Vague 3")
    for _n in range(5):
        other = SchemeFactory()
        RequirementSet.objects.create(scheme=other, version=1, published_at=timezone.now())
        RequirementSet.objects.create(scheme=other, version=2)
    current = scheme.requirement_sets.get()
    for n in range(6):
        published_requirement(current, f"EXTRA.{n:02d}")
    for version in (2, 3, 4):
        RequirementSet.objects.create(scheme=scheme, version=version, published_at=timezone.now())
    RequirementSet.objects.create(scheme=scheme, version=5)
    EligibleEstablishmentFactory.create_batch(6, scheme=scheme)
    return scheme


LISTS = [
    f"{API}/waves/",
    f"{API}/sectors/",
    f"{API}/categories/",
    f"{API}/schemes/",
    f"{API}/schemes/?wave=VA2",
    f"{S}/requirements/?version=1",
    f"{S}/requirement-sets/",
    f"{S}/eligible-establishments/",
]


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_is_constant(admin_client, many, url):
    counts, sizes = [], []
    for page_size in (1, 100):
        separator = "&" if "?" in url else "?"
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(f"{url}{separator}page_size={page_size}")
        assert response.status_code == 200, response.content
        counts.append(len(ctx.captured_queries))
        sizes.append(len(response.json()["results"]))
    assert sizes[0] == 1
    assert sizes[1] > 2  # the large page really holds many rows
    assert counts[0] == counts[1], (url, counts)


def test_requirement_list_query_count_is_small_and_bounded(admin_client, many):
    with CaptureQueriesContext(connection) as ctx:
        admin_client.get(f"{S}/requirements/?version=1&page_size=100")
    # scheme, version, count, page, scenarios, proofs (+ session/auth free with force_auth)
    assert len(ctx.captured_queries) <= 6, [q["sql"] for q in ctx.captured_queries]
