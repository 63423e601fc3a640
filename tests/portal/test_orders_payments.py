"""The order and payment story through the pages: vendor creates and sends, establishment signs,
vendor declares the installation, establishment reserves, vendor lifts, establishment confirms,
vendor requests payment, one officer approves and another pays; batches and exports."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.timeutils import paris_today
from orders.models import PurchaseOrder
from payments import services as payment_services
from payments.models import PaymentBatch, PaymentRequest
from tests.factories.accounts import UserFactory
from tests.factories.orders import order_in
from tests.factories.referencing import PDF
from tests.portal.conftest import messages_of

pytestmark = pytest.mark.django_db


def _state(order):
    return PurchaseOrder.objects.get(pk=order.pk).state


def test_full_order_and_payment_story(order_world, client_as):
    ow = order_world
    vendor = client_as(ow.member)
    establishment = client_as(ow.signatory)
    # vendor drafts and sends
    response = vendor.post(
        reverse("portal:vendor_order_create"),
        {
            "establishment": ow.establishment.finess,
            "scheme": ow.scheme.pk,
            "solution_version": ow.version.pk,
            "amount": "20000.00",
        },
    )
    order = PurchaseOrder.objects.get(vendor=ow.vendor)
    assert response["Location"] == reverse("portal:vendor_order", args=[order.pk])
    vendor.post(reverse("portal:vendor_order_send", args=[order.pk]))
    assert _state(order) == "sent"
    # establishment signs
    page = establishment.get(reverse("portal:establishment_order", args=[order.pk]))
    assert 'id="btn-order-sign"' in page.content.decode()
    establishment.post(reverse("portal:establishment_order_action", args=[order.pk, "signer"]))
    assert _state(order) == "signed"
    # vendor asks for the advance
    vendor.post(reverse("portal:vendor_payment_request", args=[order.pk, "advance"]))
    advance = PaymentRequest.objects.get(order=order, kind="advance")
    # vendor uploads the report then declares the installation
    response = vendor.post(
        reverse("portal:vendor_order_report_upload", args=[order.pk]),
        {"file": SimpleUploadedFile("va.pdf", PDF, "application/pdf")},
    )
    assert "pv=" in response["Location"]
    page = vendor.get(response["Location"])
    report_id = page.context["declare_form"].initial["report"]
    assert report_id
    vendor.post(
        reverse("portal:vendor_order_declare", args=[order.pk]),
        {
            "installed_on": paris_today().isoformat(),
            "version": ow.version.pk,
            "report": report_id,
        },
    )
    assert _state(order) == "installation_declared"
    # establishment reserves, vendor lifts, establishment confirms
    establishment.post(
        reverse("portal:establishment_order_action", args=[order.pk, "reserver"]),
        {"reserve-reservations": "Flux DMP non testé\nFormation à planifier"},
    )
    assert _state(order) == "reserved"
    assert order.reservations.count() == 2
    vendor.post(reverse("portal:vendor_order_lift", args=[order.pk]))
    assert _state(order) == "installation_declared"
    establishment.post(reverse("portal:establishment_order_action", args=[order.pk, "confirmer"]))
    assert _state(order) == "installed"
    # the balance waits for the advance to be paid: the page says why
    page = vendor.get(reverse("portal:vendor_order", args=[order.pk])).content.decode()
    assert "ADVANCE_NOT_PAID" in page
    # officers: one approves, another pays
    officer, officer2 = client_as(ow.officer), client_as(UserFactory(role="payment_officer"))
    officer.post(reverse("portal:payment_request_action", args=[advance.pk, "valider"]))
    response = officer.post(
        reverse("portal:payment_request_action", args=[advance.pk, "payer"]),
        {"paid-payment_reference": "VIR-1"},
        follow=True,
    )
    assert any("FOUR_EYES" in m for m in messages_of(response))
    officer2.post(
        reverse("portal:payment_request_action", args=[advance.pk, "payer"]),
        {"paid-payment_reference": "VIR-1"},
    )
    assert PaymentRequest.objects.get(pk=advance.pk).state == "paid"
    # now the balance
    vendor.post(reverse("portal:vendor_payment_request", args=[order.pk, "balance"]))
    balance = PaymentRequest.objects.get(order=order, kind="balance")
    assert balance.amount == Decimal("14000.00")
    page = vendor.get(reverse("portal:vendor_payments")).content.decode()
    assert "Solde" in page


def test_sign_refused_shows_reason_codes(order_world, client_as):
    ow = order_world
    order = order_in(ow, "sent", amount=Decimal("99999.00"))
    response = client_as(ow.signatory).post(
        reverse("portal:establishment_order_action", args=[order.pk, "signer"]), follow=True
    )
    assert response.status_code == 200
    assert any("AMOUNT_ABOVE_CAP" in m for m in messages_of(response))
    assert _state(order) == "sent"


def test_staff_member_cannot_sign(order_world, client_as):
    ow = order_world
    order = order_in(ow, "sent")
    response = client_as(ow.staff).post(
        reverse("portal:establishment_order_action", args=[order.pk, "signer"]), follow=True
    )
    assert any("NOT_SIGNATORY" in m for m in messages_of(response))


def test_decline_and_cancel_need_a_reason(order_world, client_as):
    ow = order_world
    order = order_in(ow, "sent")
    client = client_as(ow.signatory)
    url = reverse("portal:establishment_order_action", args=[order.pk, "refuser"])
    client.post(url, {"decline-reason": ""})
    assert _state(order) == "sent"
    client.post(url, {"decline-reason": "Pas de besoin"})
    assert _state(order) == "declined"
    other = order_in(ow, "draft")
    client_as(ow.member).post(
        reverse("portal:vendor_order_cancel", args=[other.pk]), {"cancel-reason": "Erreur"}
    )
    assert _state(other) == "cancelled"


def test_unknown_establishment_is_a_form_error(order_world, client_as):
    ow = order_world
    response = client_as(ow.member).post(
        reverse("portal:vendor_order_create"),
        {
            "establishment": "000000000",
            "scheme": ow.scheme.pk,
            "solution_version": ow.version.pk,
            "amount": "10",
        },
    )
    assert response.status_code == 200
    assert "Aucun établissement" in response.content.decode()


def test_reject_payment_with_reason(order_world, client_as):
    ow = order_world
    order = order_in(ow, "signed")
    request, _ = payment_services.payment_request_create(
        actor=ow.member, order=order, kind="advance"
    )
    client = client_as(ow.officer)
    url = reverse("portal:payment_request_action", args=[request.pk, "rejeter"])
    client.post(url, {"reject-reason": ""})
    assert PaymentRequest.objects.get(pk=request.pk).state == "submitted"
    client.post(url, {"reject-reason": "Pièce manquante"})
    assert PaymentRequest.objects.get(pk=request.pk).state == "rejected"


def test_batch_create_and_exports(order_world, client_as):
    ow = order_world
    order = order_in(ow, "signed")
    request, _ = payment_services.payment_request_create(
        actor=ow.member, order=order, kind="advance"
    )
    payment_services.payment_request_approve(actor=ow.officer, request=request)
    # four-eyes: the officer who approved it does not batch it
    response = client_as(ow.officer).post(reverse("portal:payment_batches"), follow=True)
    assert any("NOTHING_TO_PAY" in m for m in messages_of(response))
    client = client_as(UserFactory(role="payment_officer"))
    response = client.post(reverse("portal:payment_batches"), follow=True)
    batch = PaymentBatch.objects.get()
    assert any(batch.reference in m for m in messages_of(response))
    csv = client.get(reverse("portal:payment_batch_export", args=[batch.pk, "csv"]))
    assert csv.status_code == 200
    assert str(request.pk) in csv.content.decode("utf-8-sig")
    xml = client.get(reverse("portal:payment_batch_export", args=[batch.pk, "xml"]))
    assert xml.status_code == 200
    assert b"CstmrCdtTrfInitn" in xml.content
    # nothing left to batch: a message, not a 500
    response = client.post(reverse("portal:payment_batches"), follow=True)
    assert any("NOTHING_TO_PAY" in m for m in messages_of(response))
    # paid: a second download carries nothing (never paid twice), a message says why
    payment_services.payment_request_mark_paid(
        actor=UserFactory(role="payment_officer"), request=request, payment_reference="VIR-1"
    )
    response = client.get(
        reverse("portal:payment_batch_export", args=[batch.pk, "csv"]), follow=True
    )
    assert any("NOTHING_TO_PAY" in m for m in messages_of(response))
    # an ANS admin reads batches but cannot create one
    assert client_as(ow.admin).post(reverse("portal:payment_batches")).status_code == 403


def test_payment_queue_filters(order_world, client_as):
    ow = order_world
    order_in(ow, "signed")
    from payments.services import eligibility_check_schemes

    eligibility_check_schemes(scheme_codes=[ow.scheme.code])
    client = client_as(ow.officer)
    response = client.get(reverse("portal:payment_queue"), {"kind": "balance", "eligible": "false"})
    assert response.context["page"].paginator.count == 1
    assert "INSTALLATION_NOT_ACCEPTED" in response.content.decode()
    response = client.get(reverse("portal:payment_queue"), {"kind": "advance", "eligible": "true"})
    assert response.context["page"].paginator.count == 1
    response = client.get(
        reverse("portal:payment_queue"), {"kind": "balance", "reason": "OPEN_RESERVATIONS"}
    )
    assert response.context["page"].paginator.count == 0


def test_vendor_enrolment(order_world, client_as):
    ow = order_world
    type(ow.vendor).objects.filter(pk=ow.vendor.pk).update(enrolled_at=None)
    client_as(ow.officer).post(reverse("portal:payment_vendor_enrol", args=[ow.vendor.pk]))
    ow.vendor.refresh_from_db()
    assert ow.vendor.enrolled_at is not None
