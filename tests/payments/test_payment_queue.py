"""The payment queue read from the eligibility results: signing order per scheme, the reason
filter (exact codes, through the distinct lists of reasons), and results as derived data (no
database foreign keys: deletions still follow, the batch drops what it no longer sees)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orders.models import PurchaseOrder
from payments.models import EligibilityResult
from payments.selectors import payment_queue
from payments.services import eligibility_check_schemes
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in

URL = "/api/v1/payment-queue/"
PARIS = dt.timezone(dt.timedelta(hours=1))


def _order(ow, state: str, signed_at: dt.datetime | None = None) -> PurchaseOrder:
    clinic = EstablishmentFactory()
    order = order_in(
        ow,
        state,
        establishment=clinic,
        signatory=UserFactory(role="establishment", establishment=clinic, signatory=True),
    )
    if signed_at is not None:
        PurchaseOrder.objects.filter(pk=order.pk).update(signed_at=signed_at)
    return order


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["purchase_order"] for row in response.json()["results"]]


@pytest.fixture
def queue(db):
    """Two schemes; in the first, three signed orders signed in the order late, early, middle,
    and one installed order (the only one without INSTALLATION_NOT_ACCEPTED)."""
    first, second = make_order_world(), make_order_world()
    day = dt.datetime(2023, 5, 10, 12, tzinfo=PARIS)
    late = _order(first, "signed", day + dt.timedelta(days=2))
    early = _order(first, "signed", day)
    middle = _order(first, "signed", day + dt.timedelta(days=1))
    installed = _order(first, "installed")
    other = _order(second, "signed", day - dt.timedelta(days=30))
    eligibility_check_schemes()
    officer = APIClient()
    officer.force_authenticate(first.world.officer)
    return {
        "first": first,
        "second": second,
        "late": late,
        "early": early,
        "middle": middle,
        "installed": installed,
        "other": other,
        "officer": officer,
    }


def test_the_batch_copies_each_order_signing_instant(queue):
    for name in ("late", "early", "middle", "installed", "other"):
        order = PurchaseOrder.objects.get(pk=queue[name].pk)
        assert EligibilityResult.objects.get(pk=order.pk).signed_at == order.signed_at


def test_a_scheme_queue_is_in_signing_order(queue, plan):
    response = queue["officer"].get(URL, {"scheme": queue["first"].scheme.code})
    signed = [queue[name] for name in ("early", "middle", "late")]
    assert _ids(response)[:3] == [str(order.pk) for order in signed]
    assert len(_ids(response)) == 4


def test_the_whole_queue_is_grouped_by_scheme(queue, plan):
    ids = _ids(queue["officer"].get(URL))
    schemes = [
        EligibilityResult.objects.get(pk=pk).scheme_id
        for pk in ids  # each scheme's rows come together
    ]
    assert len(ids) == 5
    assert schemes == sorted(schemes)
    assert ids.index(str(queue["early"].pk)) < ids.index(str(queue["late"].pk))


def test_an_unknown_scheme_gives_an_empty_queue(queue):
    response = queue["officer"].get(URL, {"scheme": "NOPE-VA9"})
    assert response.json()["count"] == 0


@pytest.fixture(params=["sorted", "walked"])
def plan(request, monkeypatch):
    """Both ways the selector reads a filtered queue (PostgreSQL: sort the few matches, or walk
    the signing-order index) must give the same rows in the same order."""
    if request.param == "walked":
        monkeypatch.setattr("payments.selectors.SORT_BELOW_ROWS", -1)
    return request.param


def test_the_reason_filter_matches_whole_codes_in_every_scheme(queue, plan):
    not_accepted = queue["officer"].get(URL, {"reason": "INSTALLATION_NOT_ACCEPTED"})
    expected = {str(queue[n].pk) for n in ("late", "early", "middle", "other")}
    assert set(_ids(not_accepted)) == expected
    in_first = queue["officer"].get(
        URL, {"reason": "INSTALLATION_NOT_ACCEPTED", "scheme": queue["first"].scheme.code}
    )
    assert _ids(in_first) == [str(queue[n].pk) for n in ("early", "middle", "late")]
    not_eligible = queue["officer"].get(
        URL, {"eligible": "false", "scheme": queue["first"].scheme.code}
    )
    assert _ids(not_eligible)[:3] == [str(queue[n].pk) for n in ("early", "middle", "late")]
    # a code nobody has, and the advance kind, which never lists installation reasons
    assert queue["officer"].get(URL, {"reason": "OPEN_RESERVATIONS"}).json()["count"] == 0
    advance = queue["officer"].get(URL, {"reason": "INSTALLATION_NOT_ACCEPTED", "kind": "advance"})
    assert advance.json()["count"] == 0


def test_the_reason_filter_does_not_match_a_code_inside_another(queue):
    """ORDER_SIGNED_AFTER_DEADLINE must not match REQUEST_AFTER_DEADLINE and the like."""
    result = EligibilityResult.objects.get(pk=queue["early"].pk)
    result.balance_reasons = "ORDER_SIGNED_AFTER_DEADLINE"
    result.save()
    for code, expected in (("ORDER_SIGNED_AFTER_DEADLINE", 1), ("REQUEST_AFTER_DEADLINE", 0)):
        assert payment_queue(reason=code).count() == expected, code


def test_reason_and_eligible_filters_keep_a_constant_number_of_queries(queue, plan):
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = queue["officer"].get(
                URL,
                {
                    "page_size": size,
                    "reason": "INSTALLATION_NOT_ACCEPTED",
                    "scheme": queue["first"].scheme.code,
                },
            )
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_deleting_an_order_deletes_its_result(queue):
    order = queue["late"]
    assert EligibilityResult.objects.filter(pk=order.pk).exists()
    order.delete()
    assert not EligibilityResult.objects.filter(pk=order.pk).exists()


def test_the_batch_drops_results_whose_order_is_gone(queue):
    """Results carry no database foreign key: an order deleted behind the ORM's back leaves a
    result, which the next run of its scheme removes."""
    order = queue["middle"]
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM orders_purchaseorder WHERE id = %s",
            [PurchaseOrder._meta.pk.get_db_prep_value(order.pk, connection)],
        )
    assert EligibilityResult.objects.filter(pk=order.pk).exists()
    eligibility_check_schemes(scheme_codes=[queue["first"].scheme.code])
    assert not EligibilityResult.objects.filter(pk=order.pk).exists()
    assert EligibilityResult.objects.filter(pk=queue["early"].pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_big_run_vacuums_the_results_outside_a_transaction():
    from django.db import transaction

    from payments import eligibility

    big = eligibility.ANALYZE_AFTER_ROWS
    assert eligibility.vacuum_results(big - 1) is False  # small runs leave it to autovacuum
    with transaction.atomic():
        assert eligibility.vacuum_results(big) is False  # VACUUM cannot run in a transaction
    assert eligibility.vacuum_results(big) is (connection.vendor == "postgresql")
