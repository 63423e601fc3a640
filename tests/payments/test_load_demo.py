"""`load_demo` (what `make run` loads): the whole story through the services, idempotent."""

from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from core.audit import audit_verify
from orders.models import PurchaseOrder
from payments.models import EligibilityResult, PaymentRequest
from referencing_app.models import Dossier, Referencing


def _counts():
    return (
        Dossier.objects.count(),
        Referencing.objects.count(),
        PurchaseOrder.objects.count(),
        PaymentRequest.objects.count(),
    )


def test_load_demo_tells_the_story_once_and_stays_consistent(db):
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = _counts()
    states = set(Dossier.objects.values_list("state", flat=True))
    assert {"approved", "in_review", "changes_requested", "submitted"} <= states
    assert set(PurchaseOrder.objects.values_list("state", flat=True)) >= {
        "sent",
        "reserved",
        "installed",
    }
    assert PaymentRequest.objects.filter(state="paid").exists()
    assert EligibilityResult.objects.count() == PurchaseOrder.objects.count()
    assert "demo-sons-2026" in out.getvalue()
    call_command("load_demo", stdout=StringIO())
    assert _counts() == first
    assert audit_verify().ok
    client = APIClient()
    assert (
        client.get("/api/v1/catalogue/").json()["count"]
        == Referencing.objects.filter(state="active").count()
        > 0
    )
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "etablissement", "password": "demo-sons-2026"},
        format="json",
    ).json()["token"]
    orders = client.get("/api/v1/purchase-orders/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert orders["count"] >= 2
