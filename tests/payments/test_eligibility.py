"""Every reason code of domain.md §5 produced by a constructed case; several faults listed at once;
the single-order check and the batch agree."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import PurchaseOrder, Reservation
from payments import eligibility
from payments.models import EligibilityResult, PaymentKind, PaymentRequest
from payments.services import eligibility_check_schemes
from referencing_app import services as referencing_services
from referencing_app.models import Dossier, Referencing
from sons.models import EligibleEstablishment, Scheme
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory
from vendors.models import Vendor


def reasons(order, kind="balance", now=None):
    return eligibility.order_reasons(order.pk, now=now).for_kind(kind)


def _request(order, kind, state="submitted"):
    return PaymentRequest.objects.create(
        order=order,
        kind=kind,
        amount=Decimal("1.00"),
        state=state,
        requested_by=order.signed_by or order.vendor.members.first(),
    )


@pytest.fixture
def ow(db):
    return make_order_world()


def test_installed_order_of_an_enrolled_vendor_is_eligible_for_both(ow):
    order = order_in(ow, "installed")
    result = eligibility.order_reasons(order.pk)
    assert (result.advance, result.balance) == ([], [])


def test_order_not_signed(ow):
    assert reasons(order_in(ow, "sent"), "advance") == ["ORDER_NOT_SIGNED"]


def test_order_signed_after_deadline(ow):
    order = order_in(ow, "signed")
    Scheme.objects.filter(pk=ow.scheme.pk).update(
        order_deadline=order.signed_at - dt.timedelta(seconds=1)
    )
    assert "ORDER_SIGNED_AFTER_DEADLINE" in reasons(order, "advance")


def test_order_signed_too_early_before_the_complete_deposit(db):
    ow = make_order_world()
    version = SolutionVersionFactory(
        solution=SolutionFactory(vendor=ow.vendor, category=ow.scheme.category)
    )
    dossier = referencing_services.dossier_create(
        actor=ow.world.signatory, scheme=ow.scheme, solution_version=version, charter_accepted=True
    )
    from tests.factories.referencing import fill

    fill(ow.world, dossier)
    referencing_services.dossier_submit(actor=ow.member, dossier=dossier)
    from orders import services as order_services

    order = order_services.purchase_order_create(
        actor=ow.member,
        establishment=ow.establishment,
        scheme=ow.scheme,
        solution_version=version,
        amount=Decimal("1000"),
    )
    order_services.purchase_order_send(actor=ow.member, order=order)
    order = order_services.purchase_order_sign(actor=ow.signatory, order=order)
    assert order.pre_referencing_dossier_id == dossier.pk
    assert "ORDER_SIGNED_TOO_EARLY" not in reasons(order, "advance")
    late = order.signed_at + dt.timedelta(days=ow.scheme.pre_referencing_days, seconds=1)
    Dossier.objects.filter(pk=dossier.pk).update(complete_deposit_at=late)
    assert "ORDER_SIGNED_TOO_EARLY" in reasons(order, "advance")
    # still not referenced: the pre-referencing order cannot be paid yet
    assert "SOLUTION_NOT_REFERENCED" in reasons(order, "advance")


def test_referencing_suspended_then_revoked(ow):
    order = order_in(ow, "installed")
    referencing_services.referencing_suspend(
        actor=ow.world.admin, referencing=ow.referencing, reason="Contrôle"
    )
    assert reasons(order) == ["REFERENCING_SUSPENDED"]
    referencing_services.referencing_revoke(
        actor=ow.world.admin, referencing=ow.referencing, reason="Retrait"
    )
    assert reasons(order) == ["REFERENCING_REVOKED"]


def test_solution_not_referenced(ow):
    order = order_in(ow, "installed")
    PurchaseOrder.objects.filter(pk=order.pk).update(referencing=None)
    Referencing.objects.filter(pk=ow.referencing.pk).update(
        scheme=Scheme.objects.exclude(pk=ow.scheme.pk).first() or ow.scheme
    )
    other_scheme_version = SolutionVersionFactory(solution=ow.version.solution)
    PurchaseOrder.objects.filter(pk=order.pk).update(solution_version=other_scheme_version)
    assert "SOLUTION_NOT_REFERENCED" in reasons(order)


def test_establishment_not_eligible_and_amount_above_its_own_cap(ow):
    order = order_in(ow, "installed", amount=Decimal("20000.00"))
    Scheme.objects.filter(pk=ow.scheme.pk).update(uses_eligible_base=True)
    assert "ESTABLISHMENT_NOT_ELIGIBLE" in reasons(order)
    EligibleEstablishment.objects.create(
        scheme=ow.scheme, establishment=ow.establishment.finess, max_amount=Decimal("19999.99")
    )
    assert reasons(order) == ["AMOUNT_ABOVE_CAP"]
    EligibleEstablishment.objects.filter(scheme=ow.scheme).update(max_amount=Decimal("20000.00"))
    assert reasons(order) == []


def test_amount_above_the_scheme_cap(ow):
    order = order_in(ow, "installed", amount=Decimal("20000.00"))
    Scheme.objects.filter(pk=ow.scheme.pk).update(price_cap=Decimal("15000.00"))
    assert reasons(order) == ["AMOUNT_ABOVE_CAP"]


def test_duplicate_order_when_another_one_is_funded(ow):
    funded = order_in(ow, "installed")
    other = order_in(ow, "sent")
    assert reasons(other, "advance") == ["ORDER_NOT_SIGNED", "DUPLICATE_ORDER"]
    assert "DUPLICATE_ORDER" not in reasons(funded, "advance")


def test_installation_not_accepted_and_report_missing(ow):
    order = order_in(ow, "signed")
    assert reasons(order) == ["INSTALLATION_NOT_ACCEPTED", "ACCEPTANCE_REPORT_MISSING"]


def test_installation_after_deadline(ow):
    order = order_in(ow, "installed")
    before = order.accepted_at - dt.timedelta(microseconds=1)
    Scheme.objects.filter(pk=ow.scheme.pk).update(
        installation_deadline=before, order_deadline=before
    )
    assert "INSTALLATION_AFTER_DEADLINE" in reasons(order)
    Scheme.objects.filter(pk=ow.scheme.pk).update(installation_deadline=order.accepted_at)
    assert "INSTALLATION_AFTER_DEADLINE" not in reasons(order)


def test_open_reservations(ow):
    order = order_in(ow, "reserved")
    assert reasons(order) == ["INSTALLATION_NOT_ACCEPTED", "OPEN_RESERVATIONS"]
    PurchaseOrder.objects.filter(pk=order.pk).update(state="installed")
    assert reasons(order) == ["OPEN_RESERVATIONS"]
    Reservation.objects.filter(order=order).update(lifted_at=timezone.now())
    assert reasons(order) == []


def test_vendor_not_enrolled(db):
    ow = make_order_world(enrolled=False)
    order = order_in(ow, "installed")
    assert reasons(order, "advance") == ["VENDOR_NOT_ENROLLED"]
    assert reasons(order, "balance") == ["VENDOR_NOT_ENROLLED"]


def test_advance_not_paid_then_paid(ow):
    order = order_in(ow, "installed")
    advance = _request(order, PaymentKind.ADVANCE, "approved")
    assert reasons(order) == ["ADVANCE_NOT_PAID"]
    PaymentRequest.objects.filter(pk=advance.pk).update(state="paid")
    assert reasons(order) == []
    PaymentRequest.objects.filter(pk=advance.pk).update(state="rejected")
    assert reasons(order) == []  # a rejected advance is no advance


def test_already_requested(ow):
    order = order_in(ow, "installed")
    _request(order, PaymentKind.BALANCE)
    assert reasons(order) == ["ALREADY_REQUESTED"]
    _request(order, PaymentKind.ADVANCE, "paid")
    assert reasons(order, "advance") == ["ALREADY_REQUESTED"]


def test_request_after_deadline_paris_time(ow):
    order = order_in(ow, "installed")
    assert reasons(order, now=ow.scheme.payment_deadline) == []
    late = ow.scheme.payment_deadline + dt.timedelta(microseconds=1)
    assert reasons(order, now=late) == ["REQUEST_AFTER_DEADLINE"]
    assert "REQUEST_AFTER_DEADLINE" in reasons(
        order, "advance", now=ow.scheme.order_deadline + dt.timedelta(seconds=1)
    )


def test_an_order_with_several_faults_lists_them_all(db):
    ow = make_order_world(enrolled=False)
    order = order_in(ow, "reserved", amount=Decimal("20000.00"))
    Scheme.objects.filter(pk=ow.scheme.pk).update(
        uses_eligible_base=True, price_cap=Decimal("100.00")
    )
    referencing_services.referencing_suspend(
        actor=ow.world.admin, referencing=ow.referencing, reason="Contrôle"
    )
    _request(order, PaymentKind.ADVANCE)
    assert reasons(order) == [
        "REFERENCING_SUSPENDED",
        "ESTABLISHMENT_NOT_ELIGIBLE",
        "AMOUNT_ABOVE_CAP",
        "INSTALLATION_NOT_ACCEPTED",
        "OPEN_RESERVATIONS",
        "VENDOR_NOT_ENROLLED",
        "ADVANCE_NOT_PAID",
    ]


def test_every_reason_code_is_known_and_labelled():
    assert set(eligibility.REASON_CODES) == set(eligibility.REASON_LABELS)
    # domain.md §5's 17, ORDER_LAPSED (nothing is paid on a lapsed order) and api.md's
    # RECOVERY_OPEN
    assert len(eligibility.REASON_CODES) == 19


def test_batch_stores_the_same_reasons_and_is_idempotent(ow):
    installed = order_in(ow, "installed")
    clinic = EstablishmentFactory()
    signed = order_in(
        ow,
        "signed",
        establishment=clinic,
        signatory=UserFactory(role="establishment", establishment=clinic, signatory=True),
    )
    first = eligibility_check_schemes(scheme_codes=[ow.scheme.code])
    stored = {r.order_id: r for r in EligibilityResult.objects.all()}
    assert first[0].orders == 2
    assert stored[installed.pk].balance_reasons == ""
    assert stored[signed.pk].balance_reasons == ",".join(reasons(signed))
    assert stored[signed.pk].advance_reasons == ",".join(reasons(signed, "advance"))
    second = eligibility_check_schemes(scheme_codes=[ow.scheme.code])
    again = {
        r.order_id: (r.advance_reasons, r.balance_reasons) for r in EligibilityResult.objects.all()
    }
    assert again == {k: (v.advance_reasons, v.balance_reasons) for k, v in stored.items()}
    assert (second[0].eligible_advance, second[0].eligible_balance) == (
        first[0].eligible_advance,
        1,
    )
    assert PaymentRequest.objects.count() == 0  # checking never pays


def test_check_eligibility_command_reports_progress(ow, capsys):
    order_in(ow, "installed")
    call_command("check_eligibility", "--scheme", ow.scheme.code, verbosity=2)
    out = capsys.readouterr().out
    assert "16/16" in out
    assert f"{ow.scheme.code} : 1 commande(s)" in out
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("check_eligibility", "--scheme", "NOPE-VA9")


def test_eligibility_endpoint_per_role(ow):
    order = order_in(ow, "installed")
    cases = [
        (ow.member, 200),
        (ow.signatory, 200),
        (ow.staff, 200),
        (ow.world.admin, 200),
        (ow.world.officer, 200),
        (ow.world.reviewer, 200),
        (ow.world.other_vendor_member, 404),
        (ow.other_establishment_signatory, 404),
    ]
    for user, expected in cases:
        client = APIClient()
        client.force_authenticate(user)
        response = client.get(f"/api/v1/purchase-orders/{order.pk}/eligibility/")
        assert response.status_code == expected, user
    client = APIClient()
    client.force_authenticate(ow.member)
    body = client.get(f"/api/v1/purchase-orders/{order.pk}/eligibility/").json()
    assert body["eligible"] is True
    assert body["reasons"] == []
    assert body["kind"] == "balance"
    assert APIClient().get(f"/api/v1/purchase-orders/{order.pk}/eligibility/").status_code == 401
    Vendor.objects.filter(pk=ow.vendor.pk).update(enrolled_at=None)
    body = client.get(f"/api/v1/purchase-orders/{order.pk}/eligibility/").json()
    assert (body["eligible"], body["reasons"]) == (False, ["VENDOR_NOT_ENROLLED"])
