"""Sweeps isolate failures (docs/decisions/0014): an object the database refuses to move is
skipped and reported (count and id, in the run recorded for the admin), the others proceed, every
sweep runs, and `run_sweeps` fails only afterwards, naming the failures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import AuditEntry, Notification, SweepRun
from core.sweeps import SWEEPS
from core.tasks import SweepsFailed, run_sweeps
from orders.models import PurchaseOrder
from referencing_app.models import Dossier
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in
from tests.factories.referencing import dossier_in, make_world


def refuse_updates_of(order: PurchaseOrder) -> None:
    """A trigger that makes the database refuse any update of this one order (as a corrupt row
    or an overflowing value would), inside the test's transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                CREATE FUNCTION test_refuse_order() RETURNS trigger AS $$
                BEGIN
                    IF OLD.id = %s::uuid THEN RAISE EXCEPTION 'refused by the test'; END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql
                """.replace("%s", f"'{order.pk}'")
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_order BEFORE UPDATE ON orders_purchaseorder "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_order()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_refuse_order BEFORE UPDATE ON orders_purchaseorder "
                f"WHEN OLD.id = '{order.pk.hex}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


@pytest.fixture
def three_overdue_orders(db):
    ow = make_order_world()
    orders = [order_in(ow, "signed")]
    for _ in range(2):  # one order per establishment
        establishment = EstablishmentFactory()
        signatory = UserFactory(role="establishment", establishment=establishment, signatory=True)
        orders.append(order_in(ow, "signed", establishment=establishment, signatory=signatory))
    return ow, orders, ow.scheme.installation_deadline + dt.timedelta(days=1)


def test_one_refused_order_is_skipped_and_reported_the_others_lapse(three_overdue_orders):
    _ow, (first, refused, third), later = three_overdue_orders
    refuse_updates_of(refused)
    with time_machine.travel(later, tick=False):
        with pytest.raises(CommandError) as error:
            call_command("run_sweeps")
    assert "order_lapse" in str(error.value)
    assert str(refused.pk) in str(error.value)
    states = dict(PurchaseOrder.objects.values_list("pk", "state"))
    assert (states[first.pk], states[refused.pk], states[third.pk]) == (
        "lapsed",
        "signed",
        "lapsed",
    )
    lapsed = set(
        AuditEntry.objects.filter(action="purchase_order.lapse").values_list("object_id", flat=True)
    )
    assert lapsed == {str(first.pk), str(third.pk)}
    # every sweep ran and is recorded; only the lapse had a failure
    runs = {run.name: run for run in SweepRun.objects.all()}
    assert set(runs) == set(SWEEPS)
    lapse = runs["order_lapse"]
    assert (lapse.moved, lapse.failed, lapse.failed_ids) == (2, 1, [str(refused.pk)])
    assert "refused by the test" in lapse.error
    assert lapse.finished_at is not None
    assert all(
        run.failed == 0 and not run.error for name, run in runs.items() if name != "order_lapse"
    )


def test_the_next_run_moves_the_object_once_it_is_fixed(three_overdue_orders):
    _ow, (_first, refused, _third), later = three_overdue_orders
    refuse_updates_of(refused)
    with time_machine.travel(later, tick=False):
        with pytest.raises(SweepsFailed, match=str(refused.pk)):
            run_sweeps(["order_lapse"])
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_refuse_order"
                + (" ON orders_purchaseorder" if connection.vendor == "postgresql" else "")
            )
        assert run_sweeps(["order_lapse"]) == {"order_lapse": 1}
    assert PurchaseOrder.objects.get(pk=refused.pk).state == "lapsed"
    assert list(SweepRun.objects.order_by("started_at").values_list("moved", "failed")) == [
        (2, 1),
        (1, 0),
    ]


def test_a_sweep_that_fails_entirely_does_not_stop_the_others(db, monkeypatch, capsys):
    def broken(now):
        raise RuntimeError("the whole sweep is broken")

    monkeypatch.setitem(SWEEPS, "aaa_broken", broken)
    with pytest.raises(CommandError, match="aaa_broken"):
        call_command("run_sweeps")
    out = capsys.readouterr().out
    for name in SWEEPS:  # the broken one runs first; all the others still ran after it
        assert f"{name}: 0" in out
    broken_run = SweepRun.objects.get(name="aaa_broken")
    assert "the whole sweep is broken" in broken_run.error
    assert SweepRun.objects.count() == len(SWEEPS)


def test_the_admin_lists_runs_with_failures(three_overdue_orders, client):
    _ow, (_first, refused, _third), later = three_overdue_orders
    refuse_updates_of(refused)
    with time_machine.travel(later, tick=False):
        with pytest.raises(SweepsFailed):
            run_sweeps(["order_lapse", "referencing_expire"])
    client.force_login(UserFactory(role="ans_admin", is_superuser=True, is_staff=True))
    page = client.get("/admin/core/sweeprun/", {"en_echec": "oui"})
    assert page.status_code == 200
    assert [run.name for run in page.context["cl"].result_list] == ["order_lapse"]
    run = SweepRun.objects.get(name="order_lapse")
    detail = client.get(f"/admin/core/sweeprun/{run.pk}/change/").content.decode()
    assert str(refused.pk) in detail


def test_clean_runs_are_forgotten_after_90_days_failed_ones_kept(db):
    from django.utils import timezone

    from core.sweeps import prune_runs

    old = timezone.now() - dt.timedelta(days=91)
    SweepRun.objects.create(name="clean", started_at=old, finished_at=old)
    SweepRun.objects.create(name="failed", started_at=old, failed=1, failed_ids=["x"])
    SweepRun.objects.create(name="recent", started_at=timezone.now())
    assert prune_runs() == 1
    assert sorted(SweepRun.objects.values_list("name", flat=True)) == ["failed", "recent"]


def test_a_300_character_solution_name_no_longer_stops_the_sweeps(db, capsys):
    """The regression of issue 10: the abandon notice's subject overflowed its column."""
    world = make_world()
    world.version.solution.name = "N" * 300
    world.version.solution.save()
    dossier = dossier_in(world, "changes_requested")
    with time_machine.travel(dossier.changes_due_at + dt.timedelta(days=1), tick=False):
        call_command("run_sweeps")  # no CommandError: nothing failed
    assert "dossier_abandon: 1" in capsys.readouterr().out
    assert Dossier.objects.get(pk=dossier.pk).state == "abandoned"
    notices = Notification.objects.filter(event="dossier_abandoned", object_id=str(dossier.pk))
    assert notices.exists()  # one per member of the vendor
    for notice in notices:
        assert len(notice.subject) == 300
        assert notice.subject.endswith("…")
    assert not SweepRun.objects.exclude(failed=0).exists()
