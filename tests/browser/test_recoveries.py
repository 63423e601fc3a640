"""A funded order through the pages: the parties see why they cannot cancel it, the paying agency
cancels it (a recovery opens), the vendor sees what it owes, another officer records the
repayment. Screenshots and axe-core on each page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from payments import services as payment_services
from payments.models import Recovery
from tests.factories.accounts import UserFactory
from tests.factories.orders import make_order_world, order_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_paid_order_cancelled_by_the_paying_agency_and_its_recovery(login_as, page_checks):
    ow = make_order_world()
    order = order_in(ow, "signed")
    request, _ = payment_services.payment_request_create(
        actor=ow.member, order=order, kind="advance"
    )
    payment_services.payment_request_approve(actor=ow.officer, request=request)
    officer2 = UserFactory(role=Role.PAYMENT_OFFICER, first_name="Inès", last_name="Garnier")
    payment_services.payment_request_mark_paid(
        actor=officer2, request=request, payment_reference="VIR-2026-000117"
    )

    # the vendor is told why it cannot cancel any more
    vendor = login_as(ow.member)
    vendor.goto(f"/editeur/commandes/{order.pk}/")
    expect(vendor.page.locator("#funded-no-cancel")).to_be_visible()
    expect(vendor.page.locator("#btn-order-cancel")).to_have_count(0)

    # the paying agency cancels from the request's page, through the order's page
    officer = login_as(ow.officer)
    officer.goto(f"/paiements/demandes/{request.pk}/")
    officer.follow("Le bon de commande, ses paiements et son annulation")
    page_checks.capture(officer.page, "30-officer-order-payments")
    officer.field("Motif").fill("Changement d'éditeur : le centre a choisi un autre logiciel.")
    officer.submit("#btn-cancel-order")
    officer.expect_message("recouvrer")
    expect(officer.page.locator("#order-recovery")).to_contain_text("6 000,00")
    recovery = Recovery.objects.get(purchase_order=order)

    officer.nav("Recouvrements")
    expect(officer.page.locator("#recoveries-table tbody tr")).to_have_count(1)
    page_checks.capture(officer.page, "31-officer-recoveries")
    officer.follow(str(ow.establishment))
    expect(officer.page.locator("#four-eyes")).to_be_visible()  # the opener does not write off
    page_checks.capture(officer.page, "32-officer-recovery-opened-by-me")

    # the vendor sees what it owes, by when
    vendor.nav("Recouvrements")
    expect(vendor.page.locator("#vendor-recoveries-table")).to_contain_text(
        recovery.due_on.strftime("%d/%m/%Y")
    )
    page_checks.capture(vendor.page, "33-vendor-recoveries")

    # another officer records the repayment
    other = login_as(officer2)
    other.goto(f"/paiements/recouvrements/{recovery.pk}/")
    expect(other.page.locator("#btn-write-off")).to_be_visible()
    other.field("Référence du remboursement").fill("REMB-2026-000007")
    other.submit("#btn-recovered")
    other.expect_message("soldé")
    other.expect_badge("main", "Recouvré")
    page_checks.capture(other.page, "34-officer-recovery-recovered")
    assert Recovery.objects.get(pk=recovery.pk).state == "recovered"
    page_checks.assert_accessible()
