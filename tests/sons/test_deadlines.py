"""Deadlines as instants in Europe/Paris: a plain date is the end of that day in Paris (the
opening of submissions: the start), across daylight-saving changes."""

import datetime as dt

import pytest
from rest_framework.exceptions import ValidationError

from core.api import DeadlineField
from core.timeutils import on_or_before
from sons.models import Scheme
from sons.serializers import OpeningField
from tests.sons.conftest import API

UTC = dt.UTC


@pytest.mark.parametrize(
    ("given", "expected_utc"),
    [
        # winter (CET, +01:00)
        ("2026-03-28", dt.datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC)),
        # the day clocks go forward (29 March 2026): that evening is CEST, +02:00
        ("2026-03-29", dt.datetime(2026, 3, 29, 21, 59, 59, 999999, tzinfo=UTC)),
        # summer
        ("2023-09-20", dt.datetime(2023, 9, 20, 21, 59, 59, 999999, tzinfo=UTC)),
        # the day clocks go back (25 October 2026): that evening is CET again
        ("2026-10-25", dt.datetime(2026, 10, 25, 22, 59, 59, 999999, tzinfo=UTC)),
        # an instant with its offset is kept as it is
        ("2025-12-17T12:00:00+01:00", dt.datetime(2025, 12, 17, 11, 0, tzinfo=UTC)),
        ("2026-03-29T01:30:00Z", dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ],
)
def test_deadline_field_reads_dates_as_the_end_of_the_paris_day(given, expected_utc):
    assert DeadlineField().to_internal_value(given) == expected_utc


@pytest.mark.parametrize(
    ("given", "expected_utc"),
    [
        ("2026-03-29", dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),  # midnight is still CET
        ("2026-03-30", dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),  # now CEST
        ("2021-08-31", dt.datetime(2021, 8, 30, 22, 0, tzinfo=UTC)),
    ],
)
def test_opening_field_reads_dates_as_the_start_of_the_paris_day(given, expected_utc):
    assert OpeningField().to_internal_value(given) == expected_utc


@pytest.mark.parametrize("given", ["2026-03-29T12:00:00", "2026-02-30", "demain", "2026-3-9"])
def test_deadline_field_refuses_naive_or_bad_values(given):
    with pytest.raises(ValidationError):
        DeadlineField().to_internal_value(given)


def test_a_date_deadline_includes_the_whole_paris_day():
    deadline = DeadlineField().to_internal_value("2023-09-20")
    last_minute = dt.datetime(2023, 9, 20, 21, 59, 59, tzinfo=UTC)  # 23:59:59 Paris (CEST)
    next_day = dt.datetime(2023, 9, 20, 22, 0, tzinfo=UTC)  # 21 Sept 00:00 Paris
    assert on_or_before(last_minute, deadline)
    assert not on_or_before(next_day, deadline)


def test_scheme_api_round_trip_in_a_dst_week(admin_client, db):
    body = {
        "code": "MDV-LGC-VA8",
        "wave": "VA2",
        "category": "LGC",
        "submission_opens": "2026-03-29",
        "submission_closes": "2026-03-29T18:00:00+02:00",
        "order_deadline": "2026-03-31",
        "installation_deadline": "2026-10-25",
        "payment_deadline": "2026-10-26T09:30:00+01:00",
        "price_cap": "2500.00",
    }
    from tests.factories.sons import WaveFactory

    WaveFactory(code="VA2")
    response = admin_client.post(f"{API}/schemes/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["submission_opens"] == "2026-03-29T00:00:00+01:00"
    assert data["submission_closes"] == "2026-03-29T18:00:00+02:00"
    assert data["order_deadline"] == "2026-03-31T23:59:59.999999+02:00"
    assert data["installation_deadline"] == "2026-10-25T23:59:59.999999+01:00"
    assert data["payment_deadline"] == "2026-10-26T09:30:00+01:00"
    scheme = Scheme.objects.get(code="MDV-LGC-VA8")
    assert scheme.order_deadline == dt.datetime(2026, 3, 31, 21, 59, 59, 999999, tzinfo=UTC)
    assert scheme.submission_opens == dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
