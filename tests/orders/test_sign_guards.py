"""The guards of `sign` (domain.md §4), each at its edge: the order deadline in Paris time (also in
the weeks of the daylight-saving changes, and with an hour), the referencing (or the
pre-referencing dossier), the eligible base, the cap, one funded order per establishment and
scheme — and every fault listed at once."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from accounts.models import Role
from core.errors import Conflict
from core.models import Notification
from core.timeutils import end_of_day_paris, paris_instant
from orders import services
from orders.models import Establishment, PurchaseOrder
from orders.receivers import void_pre_referencing_orders
from referencing_app import services as referencing_services
from referencing_app.models import Referencing
from referencing_app.sweeps import sweep_abandon_overdue_dossiers
from sons.models import Scheme
from tests.factories.accounts import UserFactory
from tests.factories.orders import (
    EstablishmentFactory,
    make_order_world,
    order_in,
    pre_referencing_version,
)
from tests.factories.referencing import fill
from tests.factories.sons import EligibleEstablishmentFactory, rpps
from tests.orders.helpers import (
    assert_error,
    audit_of,
    client,
    codes,
    customer,
    order_url,
    other_solution_version,
    reload,
)

UTC = dt.UTC


def sign(ow, order):
    return client(ow.signatory).post(order_url(order, "sign"))


def refusal_codes(ow, order, at=None) -> list[str]:
    with pytest.raises(Conflict) as refused:
        services.purchase_order_sign(actor=ow.signatory, order=order, at=at)
    return refused.value.codes


# --- the order deadline, in Paris time ----------------------------------------------------------
SPRING = end_of_day_paris(dt.date(2026, 3, 29))  # clocks go forward at 02:00 that night
AUTUMN = end_of_day_paris(dt.date(2026, 10, 25))  # clocks go back at 03:00 that night
WINTER = end_of_day_paris(dt.date(2025, 12, 17))
NOON = paris_instant(2025, 12, 17, 12, 0)  # a deadline with an hour


def test_the_edges_are_the_instants_we_think():
    # summer time (UTC+2) from 29 March 2026, winter time (UTC+1) from 25 October 2026
    assert dt.datetime(2026, 3, 29, 21, 59, 59, 999999, tzinfo=UTC) == SPRING
    assert paris_instant(2026, 3, 30) == dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert dt.datetime(2026, 10, 25, 22, 59, 59, 999999, tzinfo=UTC) == AUTUMN
    assert paris_instant(2026, 10, 26) == dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert dt.datetime(2025, 12, 17, 11, 0, tzinfo=UTC) == NOON


@pytest.mark.parametrize(
    ("deadline", "instant", "allowed"),
    [
        (WINTER, paris_instant(2025, 12, 17, 23, 59), True),
        (WINTER, paris_instant(2025, 12, 17, 23, 59, 59), True),
        (WINTER, paris_instant(2025, 12, 18, 0, 0), False),
        (SPRING, paris_instant(2026, 3, 29, 23, 59), True),
        (SPRING, paris_instant(2026, 3, 29, 23, 59, 59), True),
        (SPRING, paris_instant(2026, 3, 30, 0, 0), False),
        # 23:00 UTC is still 29 March in London but already 30 March 01:00 in Paris
        (SPRING, dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC), False),
        (AUTUMN, paris_instant(2026, 10, 25, 23, 59), True),
        (AUTUMN, paris_instant(2026, 10, 25, 23, 59, 59), True),
        (AUTUMN, paris_instant(2026, 10, 26, 0, 0), False),
        # 22:30 UTC is 23:30 in Paris in winter time: still in time (it would not be in summer)
        (AUTUMN, dt.datetime(2026, 10, 25, 22, 30, tzinfo=UTC), True),
        (NOON, paris_instant(2025, 12, 17, 11, 59), True),
        (NOON, paris_instant(2025, 12, 17, 12, 0, 0), True),  # on or before
        (NOON, paris_instant(2025, 12, 17, 12, 0, 1), False),
        (NOON, paris_instant(2025, 12, 17, 13, 0), False),
    ],
)
def test_sign_deadline_is_paris_time(db, deadline, instant, allowed):
    with time_machine.travel(deadline - dt.timedelta(days=7), tick=False):
        ow = make_order_world(order_deadline=deadline)
        order = order_in(ow, "sent")
    with time_machine.travel(instant, tick=False):
        response = sign(ow, order)
    if allowed:
        assert response.status_code == 200, response.content
        assert reload(order).signed_at == instant
        assert response.json()["state"] == "signed"
    else:
        body = assert_error(response, 409, "ORDER_SIGNED_AFTER_DEADLINE", None)
        assert codes(response) == ["ORDER_SIGNED_AFTER_DEADLINE"], body
        assert reload(order).state == "sent"
        assert not audit_of(order, "purchase_order.sign").exists()


def test_deadline_set_as_a_plain_date_through_the_api_means_end_of_day_paris(db):
    with time_machine.travel(paris_instant(2026, 3, 20, 10), tick=False):
        ow = make_order_world()
        first = order_in(ow, "sent")
        other, other_signatory = customer()
        second = order_in(ow, "sent", establishment=other)
        response = client(ow.admin).patch(
            f"/api/v1/schemes/{ow.scheme.code}/", {"order_deadline": "2026-03-29"}, format="json"
        )
        assert response.status_code == 200, response.content
    assert Scheme.objects.get(pk=ow.scheme.pk).order_deadline == SPRING
    with time_machine.travel(paris_instant(2026, 3, 29, 23, 59, 59), tick=False):
        assert sign(ow, first).status_code == 200
    with time_machine.travel(paris_instant(2026, 3, 30), tick=False):
        response = client(other_signatory).post(order_url(second, "sign"))
    assert_error(response, 409, "ORDER_SIGNED_AFTER_DEADLINE")


# --- the referencing ----------------------------------------------------------------------------
def test_signing_a_referenced_version_records_the_referencing_and_notifies_the_vendor(
    db, django_capture_on_commit_callbacks
):
    ow = make_order_world()
    order = order_in(ow, "sent")
    with django_capture_on_commit_callbacks(execute=True):
        response = sign(ow, order)
    assert response.status_code == 200
    assert response.json()["referencing"] == str(ow.referencing.pk)
    order = reload(order)
    assert (order.state, order.signed_by, order.referencing, order.pre_referencing_dossier) == (
        "signed",
        ow.signatory,
        ow.referencing,
        None,
    )
    entry = audit_of(order, "purchase_order.sign").get()
    assert (entry.actor_id, entry.from_state, entry.to_state) == (ow.signatory.pk, "sent", "signed")
    assert entry.changes["referencing"] == [None, str(ow.referencing.pk)]
    assert set(
        Notification.objects.filter(event="order_signed").values_list("recipient", flat=True)
    ) == {ow.member.pk, ow.world.signatory.pk}
    assert {m.to[0] for m in mail.outbox} == {ow.member.email, ow.world.signatory.email}


def test_version_never_referenced_is_refused(db):
    ow = make_order_world()
    order = order_in(ow, "sent", solution_version=other_solution_version(ow))
    response = sign(ow, order)
    assert_error(response, 409, "SOLUTION_NOT_REFERENCED")
    assert codes(response) == ["SOLUTION_NOT_REFERENCED"]


@pytest.mark.parametrize(
    ("end", "code"),
    [("suspend", "REFERENCING_SUSPENDED"), ("revoke", "REFERENCING_REVOKED")],
)
def test_referencing_not_active_is_refused_with_its_reason(db, end, code):
    ow = make_order_world()
    order = order_in(ow, "sent")
    getattr(referencing_services, f"referencing_{end}")(
        actor=ow.admin, referencing=ow.referencing, reason="Non-conformité constatée"
    )
    response = sign(ow, order)
    assert_error(response, 409, code)
    assert codes(response) == [code]
    assert reload(order).state == "sent"


def test_reinstated_referencing_can_be_ordered_again(db):
    ow = make_order_world()
    order = order_in(ow, "sent")
    referencing_services.referencing_suspend(actor=ow.admin, referencing=ow.referencing, reason="x")
    assert codes(sign(ow, order)) == ["REFERENCING_SUSPENDED"]
    referencing_services.referencing_reinstate(actor=ow.admin, referencing=ow.referencing)
    assert sign(ow, order).status_code == 200


def test_expired_referencing_is_not_referenced(db):
    ow = make_order_world()
    order = order_in(ow, "sent")
    Referencing.objects.filter(pk=ow.referencing.pk).update(state="expired")
    assert codes(sign(ow, order)) == ["SOLUTION_NOT_REFERENCED"]


# --- pre-referencing ----------------------------------------------------------------------------
@pytest.mark.parametrize("dossier_state", ["submitted", "in_review", "changes_requested"])
def test_a_dossier_in_progress_allows_a_pre_referencing_order(db, dossier_state):
    ow = make_order_world()
    version, dossier = pre_referencing_version(ow, dossier_state)
    order = order_in(ow, "sent", solution_version=version)
    response = sign(ow, order)
    assert response.status_code == 200, response.content
    assert response.json()["referencing"] is None
    order = reload(order)
    assert (order.state, order.referencing, order.pre_referencing_dossier) == (
        "signed",
        None,
        dossier,
    )
    assert audit_of(order, "purchase_order.sign").get().changes["pre_referencing_dossier"] == [
        None,
        str(dossier.pk),
    ]


@pytest.mark.parametrize("dossier_state", ["draft", "rejected", "withdrawn"])
def test_a_dossier_not_in_progress_does_not(db, dossier_state):
    ow = make_order_world()
    version, _dossier = pre_referencing_version(ow, dossier_state)
    order = order_in(ow, "sent", solution_version=version)
    assert codes(sign(ow, order)) == ["SOLUTION_NOT_REFERENCED"]


def test_an_incomplete_deposit_still_allows_a_pre_referencing_order(db):
    ow = make_order_world(allows_incomplete_submission=True)
    version, dossier = pre_referencing_version(ow, "draft")
    fill(ow.world, dossier, evidence=False)
    dossier = referencing_services.dossier_submit(actor=ow.member, dossier=dossier)
    assert (dossier.complete, dossier.complete_deposit_at) == (False, None)
    order = order_in(ow, "sent", solution_version=version)
    assert sign(ow, order).status_code == 200
    assert reload(order).pre_referencing_dossier == dossier


@pytest.mark.parametrize("days", [None, 10])
def test_complete_deposit_at_most_pre_referencing_days_after_the_signature(db, days):
    ow = make_order_world(**({"pre_referencing_days": days} if days else {}))
    days = days or 120  # the scheme's default
    version, dossier = pre_referencing_version(ow, "submitted")
    deposit = dossier.complete_deposit_at
    assert deposit is not None
    late = order_in(ow, "sent", solution_version=version)
    # signed more than `days` before the deposit: the deposit came too late for this signature
    assert refusal_codes(ow, late, at=deposit - dt.timedelta(days=days, seconds=1)) == [
        "SOLUTION_NOT_REFERENCED"
    ]
    # exactly `days` before: in time
    order = services.purchase_order_sign(
        actor=ow.signatory, order=late, at=deposit - dt.timedelta(days=days)
    )
    assert (order.state, order.pre_referencing_dossier) == ("signed", dossier)


def test_approval_attaches_the_referencing_to_pre_referencing_orders(db):
    ow = make_order_world()
    version, dossier = pre_referencing_version(ow, "in_review")
    order = order_in(ow, "signed", solution_version=version)
    unsigned = order_in(ow, "sent", solution_version=version, establishment=EstablishmentFactory())
    for code in ("SC.INS.01", "SC.DMP.01"):
        referencing_services.verdict_put(
            actor=ow.reviewer, dossier=dossier, requirement_code=code, verdict="compliant"
        )
    referencing_services.dossier_approve(actor=ow.admin2, dossier=dossier)
    referencing = Referencing.objects.get(dossier=dossier)
    order = reload(order)
    assert (order.state, order.referencing, order.pre_referencing_dossier) == (
        "signed",
        referencing,
        dossier,
    )
    entry = audit_of(order, "purchase_order.referenced").get()
    assert entry.changes == {"referencing": [None, referencing.reference]}
    assert entry.actor_id == ow.admin2.pk
    # an order not signed yet is signed against the referencing itself, now active
    assert reload(unsigned).referencing is None
    assert not audit_of(unsigned, "purchase_order.referenced").exists()


def _end(ow, dossier, how: str):
    if how == "rejected":
        referencing_services.dossier_reject(actor=ow.admin2, dossier=dossier, reason="Non conforme")
    elif how == "withdrawn":
        referencing_services.dossier_withdraw(actor=ow.member, dossier=dossier, reason="Abandon")
    else:
        sweep_abandon_overdue_dossiers(dossier.changes_due_at + dt.timedelta(seconds=1))


@pytest.mark.parametrize(
    ("how", "dossier_state"),
    [("rejected", "in_review"), ("withdrawn", "submitted"), ("abandoned", "changes_requested")],
)
def test_dossier_ending_without_referencing_voids_its_signed_orders(
    db, django_capture_on_commit_callbacks, how, dossier_state
):
    ow = make_order_world()
    version, dossier = pre_referencing_version(ow, dossier_state)
    order = order_in(ow, "signed", solution_version=version)
    other_establishment, _ = customer()
    sent = order_in(ow, "sent", solution_version=version, establishment=other_establishment)
    referenced = order_in(ow, "signed", establishment=EstablishmentFactory())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _end(ow, dossier, how)
    order = reload(order)
    assert order.state == "void"
    assert order.ended_at is not None
    assert order.end_reason
    entry = audit_of(order, "purchase_order.void").get()
    assert (entry.from_state, entry.to_state) == ("signed", "void")
    assert how in entry.reason
    recipients = set(
        Notification.objects.filter(event="order_void", object_id=str(order.pk)).values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {ow.signatory.pk, ow.staff.pk, ow.member.pk, ow.world.signatory.pk}
    assert ow.staff.email in {m.to[0] for m in mail.outbox}
    # only the signed orders of that dossier
    assert reload(sent).state == "sent"
    assert reload(referenced).state == "signed"
    # the establishment may now sign another order for that scheme
    again = order_in(ow, "sent")
    assert sign(ow, again).status_code == 200


def test_void_hook_is_idempotent(db):
    ow = make_order_world()
    version, dossier = pre_referencing_version(ow, "in_review")
    order_in(ow, "signed", solution_version=version)
    _end(ow, dossier, "rejected")
    assert void_pre_referencing_orders(dossier, ow.admin2) == 0
    assert (
        audit_of(PurchaseOrder.objects.get(solution_version=version), "purchase_order.void").count()
        == 1
    )


# --- the eligible base and the cap ------------------------------------------------------------
def test_establishment_outside_the_eligible_base_is_refused(db):
    ow = make_order_world(uses_eligible_base=True)
    EligibleEstablishmentFactory(scheme=ow.scheme)  # somebody else
    order = order_in(ow, "sent")
    response = sign(ow, order)
    assert codes(response) == ["ESTABLISHMENT_NOT_ELIGIBLE"]


def test_eligible_in_another_scheme_only_is_refused(db):
    ow = make_order_world(uses_eligible_base=True)
    other = make_order_world().scheme
    EligibleEstablishmentFactory(scheme=other, establishment=ow.establishment.finess)
    assert codes(sign(ow, order_in(ow, "sent"))) == ["ESTABLISHMENT_NOT_ELIGIBLE"]


def test_the_base_is_ignored_when_the_scheme_does_not_use_it(db):
    ow = make_order_world(uses_eligible_base=False)
    EligibleEstablishmentFactory(
        scheme=ow.scheme, establishment=ow.establishment.finess, max_amount=Decimal("1.00")
    )
    assert sign(ow, order_in(ow, "sent", amount=Decimal("25000.00"))).status_code == 200


@pytest.mark.parametrize(
    ("amount", "allowed"),
    [(Decimal("15000.00"), True), (Decimal("15000.01"), False), (Decimal("0.00"), True)],
)
def test_the_establishment_own_cap_from_the_base(db, amount, allowed):
    ow = make_order_world(uses_eligible_base=True, price_cap=Decimal("25000.00"))
    EligibleEstablishmentFactory(
        scheme=ow.scheme, establishment=ow.establishment.finess, max_amount=Decimal("15000.00")
    )
    response = sign(ow, order_in(ow, "sent", amount=amount))
    if allowed:
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 409, "AMOUNT_ABOVE_CAP", "amount")
        assert codes(response) == ["AMOUNT_ABOVE_CAP"]
        assert "15000" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("amount", "allowed"), [(Decimal("25000.00"), True), (Decimal("25000.01"), False)]
)
def test_in_the_base_without_an_amount_the_scheme_cap_applies(db, amount, allowed):
    ow = make_order_world(uses_eligible_base=True, price_cap=Decimal("25000.00"))
    EligibleEstablishmentFactory(
        scheme=ow.scheme, establishment=ow.establishment.finess, max_amount=None
    )
    response = sign(ow, order_in(ow, "sent", amount=amount))
    assert (response.status_code == 200) is allowed
    if not allowed:
        assert codes(response) == ["AMOUNT_ABOVE_CAP"]


def test_a_practice_is_found_in_the_base_by_its_rpps(db):
    ow = make_order_world(uses_eligible_base=True)
    practice = Establishment.objects.create(rpps=rpps(42), name="Cabinet Dr X", kind="practice")
    doctor = UserFactory(role=Role.ESTABLISHMENT, establishment=practice, signatory=True)
    EligibleEstablishmentFactory(scheme=ow.scheme, establishment=practice.rpps)
    order = order_in(ow, "sent", establishment=practice, amount=Decimal("500.00"))
    assert client(doctor).post(order_url(order, "sign")).status_code == 200


@pytest.mark.parametrize(
    ("amount", "allowed"), [(Decimal("25000.00"), True), (Decimal("25000.01"), False)]
)
def test_scheme_price_cap_without_a_base(db, amount, allowed):
    ow = make_order_world(price_cap=Decimal("25000.00"))
    response = sign(ow, order_in(ow, "sent", amount=amount))
    if allowed:
        assert response.status_code == 200
    else:
        assert_error(response, 409, "AMOUNT_ABOVE_CAP", "amount")


# --- one funded order per establishment and scheme ------------------------------------------
@pytest.mark.parametrize(
    ("other_state", "allowed"),
    [
        ("signed", False),
        ("installation_declared", False),
        ("reserved", False),
        ("installed", False),
        ("lapsed", False),
        ("draft", True),
        ("sent", True),
        ("declined", True),
        ("cancelled", True),
        ("void", True),
    ],
)
def test_another_order_signed_or_later_is_a_duplicate(db, other_state, allowed):
    ow = make_order_world()
    order_in(ow, other_state)
    order = order_in(ow, "sent")
    response = sign(ow, order)
    if allowed:
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 409, "DUPLICATE_ORDER")
        assert codes(response) == ["DUPLICATE_ORDER"]
        assert reload(order).state == "sent"


def test_orders_of_other_establishments_or_schemes_are_not_duplicates(db):
    ow = make_order_world()
    order_in(ow, "signed", establishment=EstablishmentFactory())
    other = make_order_world()
    order_in(other, "signed", establishment=ow.establishment, signatory=ow.signatory)
    assert sign(ow, order_in(ow, "sent")).status_code == 200


# --- every fault at once ------------------------------------------------------------------------
def test_every_fault_is_listed_at_once_and_nothing_is_written(db):
    ow = make_order_world()
    order_in(ow, "signed")  # the establishment's funded order
    order = order_in(
        ow, "sent", solution_version=other_solution_version(ow), amount=Decimal("30000.00")
    )
    Scheme.objects.filter(pk=ow.scheme.pk).update(
        uses_eligible_base=True, order_deadline=paris_instant(2026, 1, 1)
    )
    response = sign(ow, order)
    body = assert_error(response, 409)
    assert codes(response) == [
        "ORDER_SIGNED_AFTER_DEADLINE",
        "SOLUTION_NOT_REFERENCED",
        "ESTABLISHMENT_NOT_ELIGIBLE",
        "AMOUNT_ABOVE_CAP",
        "DUPLICATE_ORDER",
    ]
    assert body["type"] == "client_error"
    assert [e["attr"] for e in body["errors"]] == [None, None, None, "amount", None]
    order = reload(order)
    assert (order.state, order.signed_at, order.signed_by) == ("sent", None, None)
    assert not audit_of(order, "purchase_order.sign").exists()
    assert not Notification.objects.filter(event="order_signed", object_id=str(order.pk)).exists()


def test_only_a_signatory_of_that_establishment_signs(db):
    ow = make_order_world()
    order = order_in(ow, "sent")
    assert_error(client(ow.staff).post(order_url(order, "sign")), 403, "NOT_SIGNATORY")
    assert reload(order).state == "sent"
