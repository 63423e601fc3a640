"""The recovery path through the pages: the paying agency cancels a paid order, the recovery
shows to the officers and to the vendor, another officer settles it; the parties are no longer
offered to cancel a funded order."""

from django.urls import reverse

from orders.models import PurchaseOrder
from payments import services as payment_services
from payments.models import PaymentRequest, Recovery
from portal.templatetags.portal_tags import euros
from tests.factories.accounts import UserFactory
from tests.factories.orders import order_in
from tests.portal.conftest import messages_of


def _paid_order(ow):
    order = order_in(ow, "signed")
    request, _ = payment_services.payment_request_create(
        actor=ow.member, order=order, kind="advance"
    )
    payment_services.payment_request_approve(actor=ow.officer, request=request)
    payment_services.payment_request_mark_paid(
        actor=UserFactory(role="payment_officer"), request=request, payment_reference="VIR-1"
    )
    return PurchaseOrder.objects.get(pk=order.pk), request


def test_a_funded_order_offers_no_cancel_to_its_parties(order_world, client_as):
    ow = order_world
    order, _request = _paid_order(ow)
    for user, name in ((ow.member, "vendor_order"), (ow.signatory, "establishment_order")):
        page = client_as(user).get(reverse(f"portal:{name}", args=[order.pk])).content.decode()
        assert 'id="btn-order-cancel"' not in page
        assert 'id="funded-no-cancel"' in page
    # and posting anyway is refused with the code, nothing changes
    response = client_as(ow.member).post(
        reverse("portal:vendor_order_cancel", args=[order.pk]),
        {"cancel-reason": "Autre éditeur"},
        follow=True,
    )
    assert any("ORDER_FUNDED" in m for m in messages_of(response))
    assert PurchaseOrder.objects.get(pk=order.pk).state == "signed"


def test_the_officer_cancels_then_another_settles_the_recovery(order_world, client_as):
    ow = order_world
    order, request = _paid_order(ow)
    officer = client_as(ow.officer)
    page = officer.get(reverse("portal:payment_order", args=[order.pk])).content.decode()
    assert 'id="btn-cancel-order"' in page
    assert "ordre de recouvrement" in page
    # from the request's page, a link leads to the order
    detail = officer.get(reverse("portal:payment_request", args=[request.pk])).content.decode()
    assert reverse("portal:payment_order", args=[order.pk]) in detail
    response = officer.post(
        reverse("portal:payment_order_cancel", args=[order.pk]),
        {"cancel-reason": "Changement d'éditeur"},
        follow=True,
    )
    assert any("recouvrer" in m for m in messages_of(response))
    recovery = Recovery.objects.get(purchase_order=order)
    assert 'id="order-recovery"' in response.content.decode()
    # the list of open recoveries, the detail: the opener cannot write it off (four-eyes)
    listing = officer.get(reverse("portal:payment_recoveries")).content.decode()
    assert str(recovery.pk) in listing
    assert euros(recovery.amount) in listing  # 6 000,00 € (the advance paid)
    mine = officer.get(reverse("portal:payment_recovery", args=[recovery.pk])).content.decode()
    assert 'id="btn-recovered"' in mine
    assert 'id="btn-write-off"' not in mine
    assert 'id="four-eyes"' in mine
    # the vendor sees it, with its due date
    vendor_page = client_as(ow.member).get(reverse("portal:vendor_recoveries")).content.decode()
    assert recovery.due_on.strftime("%d/%m/%Y") in vendor_page
    vendor_order = client_as(ow.member).get(reverse("portal:vendor_order", args=[order.pk]))
    assert 'id="order-recovery"' in vendor_order.content.decode()
    # another officer records the repayment
    other = client_as(UserFactory(role="payment_officer"))
    page = other.get(reverse("portal:payment_recovery", args=[recovery.pk])).content.decode()
    assert 'id="btn-write-off"' in page
    response = other.post(
        reverse("portal:payment_recovery_action", args=[recovery.pk, "recouvre"]),
        {"recovered-payment_reference": "REMB-42"},
        follow=True,
    )
    assert any("soldé" in m for m in messages_of(response))
    recovery = Recovery.objects.get(pk=recovery.pk)  # (its state field is protected)
    assert (recovery.state, recovery.payment_reference) == ("recovered", "REMB-42")
    assert PaymentRequest.objects.get(pk=request.pk).state == "paid"


def test_write_off_needs_a_reason_and_another_officer(order_world, client_as):
    ow = order_world
    order, _request = _paid_order(ow)
    client_as(ow.officer).post(
        reverse("portal:payment_order_cancel", args=[order.pk]), {"cancel-reason": "Faillite"}
    )
    recovery = Recovery.objects.get(purchase_order=order)
    url = reverse("portal:payment_recovery_action", args=[recovery.pk, "non-valeur"])
    response = client_as(ow.officer).post(url, {"write_off-reason": "Irrécouvrable"}, follow=True)
    assert any("FOUR_EYES" in m for m in messages_of(response))
    other = client_as(UserFactory(role="payment_officer"))
    response = other.post(url, {"write_off-reason": ""}, follow=True)
    assert any("motif" in m for m in messages_of(response))
    other.post(url, {"write_off-reason": "Irrécouvrable"})
    assert Recovery.objects.get(pk=recovery.pk).state == "written_off"


def test_who_sees_the_recovery_pages(order_world, client_as):
    ow = order_world
    order, _request = _paid_order(ow)
    client_as(ow.admin).post(
        reverse("portal:payment_order_cancel", args=[order.pk]), {"cancel-reason": "Doublon"}
    )
    recovery = Recovery.objects.get(purchase_order=order)
    detail = reverse("portal:payment_recovery", args=[recovery.pk])
    assert client_as(ow.admin).get(detail).status_code == 200
    assert client_as(ow.world.reviewer).get(detail).status_code == 200
    assert client_as(ow.signatory).get(detail).status_code == 403
    assert client_as(ow.member).get(detail).status_code == 403
    # an ANS admin reads but does not settle
    assert 'id="btn-recovered"' not in client_as(ow.admin).get(detail).content.decode()
    action = reverse("portal:payment_recovery_action", args=[recovery.pk, "recouvre"])
    assert client_as(ow.admin).post(action, {"recovered-payment_reference": "R"}).status_code == 403
    # another vendor's member sees none of it
    other = UserFactory(role="vendor", vendor=ow.world.other_vendor_member.vendor)
    assert (
        str(recovery.pk)
        not in client_as(other).get(reverse("portal:vendor_recoveries")).content.decode()
    )
