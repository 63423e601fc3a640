"""One funded order per establishment and scheme, even when two signatures race: the service's
check, and under it the partial unique index `order_one_funded_per_establishment_and_scheme`."""

import threading
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction

from core.errors import Conflict
from orders import services
from orders.models import SIGNED_OR_LATER, PurchaseOrder
from tests.factories.orders import make_order_world, order_in
from tests.orders.helpers import audit_of, client, order_url, reload

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writers, so two signatures never truly race",
)


# --- the database alone -----------------------------------------------------------------------
@pytest.mark.parametrize("state", [str(s) for s in SIGNED_OR_LATER])
def test_the_database_refuses_a_second_funded_order(db, state):
    ow = make_order_world()
    order_in(ow, "signed")
    second = order_in(ow, "sent")
    with pytest.raises(IntegrityError), transaction.atomic():
        # bypassing the service (and its check) entirely
        PurchaseOrder.objects.filter(pk=second.pk).update(state=state)
    assert reload(second).state == "sent"


@pytest.mark.parametrize("state", ["cancelled", "declined", "void", "sent", "draft"])
def test_the_database_allows_other_orders_that_are_not_funded(db, state):
    ow = make_order_world()
    order_in(ow, "signed")
    second = order_in(ow, "sent")
    PurchaseOrder.objects.filter(pk=second.pk).update(state=state)
    assert reload(second).state == state


def test_the_index_is_per_establishment_and_scheme(db):
    ow = make_order_world()
    order_in(ow, "signed")
    other = order_in(ow, "sent", establishment=order_in(ow, "draft").establishment)
    assert other.establishment == ow.establishment
    another_scheme = make_order_world()
    third = order_in(another_scheme, "sent", establishment=ow.establishment)
    PurchaseOrder.objects.filter(pk=third.pk).update(state="signed")  # other scheme: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrder.objects.filter(pk=other.pk).update(state="signed")


def test_a_race_lost_at_the_index_is_a_clear_duplicate_order(db):
    """Both checks passed before either signature was written: the index decides, and the loser
    gets the same 409 DUPLICATE_ORDER as if the check had seen it."""
    ow = make_order_world()
    order_in(ow, "signed")
    second = order_in(ow, "sent")
    real = services.sign_refusals

    def blind(order, at):
        refusals, referencing, dossier = real(order, at)
        return [r for r in refusals if r.code != "DUPLICATE_ORDER"], referencing, dossier

    with mock.patch.object(services, "sign_refusals", blind):
        response = client(ow.signatory).post(order_url(second, "sign"))
    assert response.status_code == 409
    assert [e["code"] for e in response.json()["errors"]] == ["DUPLICATE_ORDER"]
    assert reload(second).state == "sent"
    assert not audit_of(second, "purchase_order.sign").exists()


# --- two threads, PostgreSQL ------------------------------------------------------------------
def _race(ow, orders, *, before_save: threading.Barrier | None = None) -> list:
    """Sign each order from its own thread, all released at once; the responses."""
    start = threading.Barrier(len(orders), timeout=30)
    results: list = [None] * len(orders)

    def run(index, order):
        try:
            api = client(ow.signatory)
            start.wait()
            results[index] = api.post(order_url(order, "sign"))
        except Exception as exc:  # reported by the assertions below
            results[index] = exc
        finally:
            connection.close()

    real = services.sign_refusals

    def checked_then_wait(order, at):
        answer = real(order, at)
        if before_save is not None:
            before_save.wait()  # every thread has passed the check before any writes
        return answer

    threads = [threading.Thread(target=run, args=(i, o)) for i, o in enumerate(orders)]
    with mock.patch.object(services, "sign_refusals", checked_then_wait):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _assert_one_wins(ow, orders, results):
    assert all(not isinstance(r, Exception) for r in results), results
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.content for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert [e["code"] for e in loser.json()["errors"]] == ["DUPLICATE_ORDER"]
    assert loser.json()["type"] == "client_error"
    states = sorted(reload(o).state for o in orders)
    assert states == ["sent", "signed"]
    signed = PurchaseOrder.objects.filter(establishment=ow.establishment, state="signed")
    assert signed.count() == 1
    assert sum(audit_of(o, "purchase_order.sign").count() for o in orders) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_signatures_at_the_same_time_one_wins():
    ow = make_order_world()
    orders = [order_in(ow, "sent"), order_in(ow, "sent")]
    results = _race(ow, orders)
    _assert_one_wins(ow, orders, results)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_signatures_both_past_the_check_one_wins_at_the_index():
    ow = make_order_world()
    orders = [order_in(ow, "sent"), order_in(ow, "sent")]
    results = _race(ow, orders, before_save=threading.Barrier(2, timeout=30))
    _assert_one_wins(ow, orders, results)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_service_level_race_raises_conflict_for_the_loser():
    ow = make_order_world()
    orders = [order_in(ow, "sent"), order_in(ow, "sent")]
    start = threading.Barrier(2, timeout=30)
    outcomes: list = [None, None]

    def run(index):
        try:
            start.wait()
            outcomes[index] = services.purchase_order_sign(
                actor=ow.signatory, order=orders[index]
            ).state
        except Conflict as exc:
            outcomes[index] = exc.codes
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)) == sorted(["signed", str(["DUPLICATE_ORDER"])]), outcomes
