"""Payment requests: creation only when eligible, amounts, idempotency, concurrency, decisions,
four-eyes, batches and their exports, enrolment, the payment queue and the deployment report."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import AuditEntry, Notification
from payments.models import PaymentRequest
from payments.services import eligibility_check_schemes
from referencing_app import services as referencing_services
from tests.factories.accounts import UserFactory
from tests.factories.orders import make_order_world, order_in
from vendors.models import Vendor

URL = "/api/v1/payment-requests/"


def _client(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def ow(db):
    return make_order_world()


def test_advance_then_balance_with_amounts_from_the_scheme(ow, django_capture_on_commit_callbacks):
    order = order_in(ow, "signed", amount=Decimal("20000.00"))
    client = _client(ow.member)
    with django_capture_on_commit_callbacks(execute=True):
        advance = client.post(
            URL, {"purchase_order": str(order.pk), "kind": "advance"}, format="json"
        )
    assert advance.status_code == 201, advance.json()
    assert (advance.json()["amount"], advance.json()["state"], advance.json()["reasons"]) == (
        "6000.00",
        "submitted",
        [],
    )
    assert Notification.objects.filter(
        event="payment_request_submitted", recipient=ow.world.officer
    ).exists()
    entry = AuditEntry.objects.get(action="payment_request.create.advance")
    assert (entry.actor_id, entry.to_state) == (ow.member.pk, "submitted")
    officer2 = UserFactory(role="payment_officer")
    _client(ow.world.officer).post(f"{URL}{advance.json()['id']}/approve/")
    _client(officer2).post(
        f"{URL}{advance.json()['id']}/mark-paid/", {"payment_reference": "VIR-1"}, format="json"
    )
    from orders import services as order_services
    from tests.factories.referencing import upload

    order = order_services.purchase_order_declare_installation(
        actor=ow.member,
        order=order,
        installed_on=order.signed_at.date(),
        version=ow.version,
        report=upload(ow.world),
    )
    order_services.purchase_order_confirm_installation(actor=ow.signatory, order=order)
    balance = client.post(URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json")
    assert balance.status_code == 201, balance.json()
    assert balance.json()["amount"] == "14000.00"


def test_refused_with_the_reason_codes_when_not_eligible(ow):
    order = order_in(ow, "signed")
    response = _client(ow.member).post(
        URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json"
    )
    assert response.status_code == 409
    assert [e["code"] for e in response.json()["errors"]] == [
        "INSTALLATION_NOT_ACCEPTED",
        "ACCEPTANCE_REPORT_MISSING",
    ]
    assert not PaymentRequest.objects.exists()


def test_idempotency_key_returns_the_same_result_and_creates_nothing_twice(ow):
    order = order_in(ow, "installed")
    client = _client(ow.member)
    body = {"purchase_order": str(order.pk), "kind": "balance"}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cle-123")
    second = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cle-123")
    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json() == second.json()
    assert PaymentRequest.objects.count() == 1
    reused = client.post(
        URL,
        {"purchase_order": str(order.pk), "kind": "advance"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="cle-123",
    )
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    without_key = client.post(URL, body, format="json")
    assert without_key.status_code == 409
    assert without_key.json()["errors"][0]["code"] == "ALREADY_REQUESTED"


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_balance_requests_make_exactly_one(db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    ow = make_order_world()
    order = order_in(ow, "installed")
    barrier = threading.Barrier(20)
    results = []

    def call(index):
        try:
            client = _client(ow.member)
            barrier.wait(timeout=10)
            key = {"HTTP_IDEMPOTENCY_KEY": "meme-cle"} if index % 2 else {}
            response = client.post(
                URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json", **key
            )
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 20
    created = [r for r in results if r[0] == 201]
    assert len(created) == 1
    request_id = created[0][1]["id"]
    for status_code, body in results:
        if status_code == 409:
            assert body["errors"][0]["code"] == "ALREADY_REQUESTED"
        else:  # the same idempotency key may replay the one success
            assert (status_code, body["id"]) in ((201, request_id), (200, request_id))
    assert PaymentRequest.objects.filter(order=order, kind="balance").count() == 1


def test_approval_rechecks_eligibility(ow):
    order = order_in(ow, "installed")
    request_id = (
        _client(ow.member)
        .post(URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json")
        .json()["id"]
    )
    referencing_services.referencing_revoke(
        actor=ow.world.admin, referencing=ow.referencing, reason="Retrait"
    )
    response = _client(ow.world.officer).post(f"{URL}{request_id}/approve/")
    assert response.status_code == 409
    assert [e["code"] for e in response.json()["errors"]] == ["REFERENCING_REVOKED"]
    rejected = _client(ow.world.officer).post(
        f"{URL}{request_id}/reject/", {"reason": "Référencement retiré"}, format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["reasons"] == ["REFERENCING_REVOKED"]
    assert AuditEntry.objects.get(action="payment_request.reject").reason == "Référencement retiré"


def test_the_officer_who_approved_cannot_mark_paid(ow, django_capture_on_commit_callbacks):
    order = order_in(ow, "installed")
    request_id = (
        _client(ow.member)
        .post(URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json")
        .json()["id"]
    )
    officer = ow.world.officer
    assert _client(officer).post(f"{URL}{request_id}/approve/").json()["state"] == "approved"
    same = _client(officer).post(
        f"{URL}{request_id}/mark-paid/", {"payment_reference": "VIR-42"}, format="json"
    )
    assert same.status_code == 403
    assert same.json()["errors"][0]["code"] == "FOUR_EYES"
    other = UserFactory(role="payment_officer")
    assert (
        _client(other).post(f"{URL}{request_id}/mark-paid/", {}, format="json").status_code == 400
    )
    with django_capture_on_commit_callbacks(execute=True):
        paid = _client(other).post(
            f"{URL}{request_id}/mark-paid/", {"payment_reference": "VIR-42"}, format="json"
        )
    assert paid.status_code == 200
    assert (paid.json()["state"], paid.json()["payment_reference"]) == ("paid", "VIR-42")
    assert Notification.objects.filter(event="payment_request_paid", recipient=ow.member).exists()


@pytest.mark.parametrize(
    ("action", "from_state", "allowed"),
    [
        ("approve", "submitted", True),
        ("approve", "approved", False),
        ("approve", "rejected", False),
        ("approve", "paid", False),
        ("reject", "submitted", True),
        ("reject", "approved", False),
        ("reject", "paid", False),
        ("mark-paid", "approved", True),
        ("mark-paid", "submitted", False),
        ("mark-paid", "rejected", False),
        ("mark-paid", "paid", False),
    ],
)
def test_payment_request_transition_table(ow, action, from_state, allowed):
    order = order_in(ow, "installed")
    request = PaymentRequest.objects.create(
        order=order,
        kind="balance",
        amount=Decimal("1"),
        state=from_state,
        requested_by=ow.member,
        approved_by=ow.world.admin,
    )
    body = (
        {"reason": "Motif"}
        if action == "reject"
        else ({"payment_reference": "VIR"} if action == "mark-paid" else {})
    )
    response = _client(ow.world.officer).post(f"{URL}{request.pk}/{action}/", body, format="json")
    if allowed:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "TRANSITION_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("actor", "create", "approve", "read"),
    [
        ("member", 201, 403, 200),
        ("other_vendor_member", 404, 404, 404),
        ("signatory", 403, 403, 403),
        ("officer", 403, 200, 200),
        ("admin", 403, 403, 200),
        ("reviewer", 403, 403, 403),
    ],
)
def test_payment_request_role_matrix(ow, actor, create, approve, read):
    order = order_in(ow, "installed")
    user = getattr(ow, actor) if actor in ("member", "signatory") else getattr(ow.world, actor)
    response = _client(user).post(
        URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json"
    )
    assert response.status_code == create, response.json()
    request = PaymentRequest.objects.filter(order=order).first() or PaymentRequest.objects.create(
        order=order, kind="balance", amount=Decimal("1"), requested_by=ow.member
    )
    assert _client(user).get(f"{URL}{request.pk}/").status_code == read
    assert _client(user).post(f"{URL}{request.pk}/approve/").status_code == approve
    assert _client(None).get(URL).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"purchase_order": "x", "kind": "balance"},
        {"purchase_order": None, "kind": "solde"},
        {"kind": "balance", "extra": 1},
        {"purchase_order": "00000000-0000-0000-0000-000000000000", "kind": "balance"},
    ],
)
def test_bad_payment_request_input_is_400(ow, body):
    response = _client(ow.member).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_batch_exports_csv_and_sepa_xml(ow):
    order = order_in(ow, "installed", amount=Decimal("12345.67"))
    request_id = (
        _client(ow.member)
        .post(URL, {"purchase_order": str(order.pk), "kind": "balance"}, format="json")
        .json()["id"]
    )
    _client(ow.world.officer).post(f"{URL}{request_id}/approve/")
    # four-eyes: the officer who approved does not batch it
    assert (
        _client(ow.world.officer).post("/api/v1/payment-batches/").json()["errors"][0]["code"]
        == "NOTHING_TO_PAY"
    )
    officer = _client(UserFactory(role="payment_officer"))
    batch = officer.post("/api/v1/payment-batches/")
    assert batch.status_code == 201
    assert (batch.json()["count"], batch.json()["total"]) == (1, "12345.67")
    assert officer.post("/api/v1/payment-batches/").json()["errors"][0]["code"] == "NOTHING_TO_PAY"
    csv_text = officer.get(
        f"/api/v1/payment-batches/{batch.json()['id']}/export.csv/"
    ).content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("request;kind;amount")
    assert "12345.67" in lines[1]
    xml = officer.get(f"/api/v1/payment-batches/{batch.json()['id']}/export.xml/")
    assert xml.status_code == 200
    body = xml.content.decode()
    assert "pain.001.001.03" in body
    assert '<InstdAmt Ccy="EUR">12345.67</InstdAmt>' in body
    assert ow.vendor.iban in body
    assert (
        _client(ow.member)
        .get(f"/api/v1/payment-batches/{batch.json()['id']}/export.xml/")
        .status_code
        == 403
    )


def test_enrolment_needs_a_valid_iban_and_an_active_referencing(db):
    ow = make_order_world(enrolled=False)
    url = f"/api/v1/vendors/{ow.vendor.pk}/enrol/"
    assert _client(ow.member).post(url).status_code == 403
    Vendor.objects.filter(pk=ow.vendor.pk).update(iban="FR7630006000011234567890180")
    refused = _client(ow.world.officer).post(url)
    assert refused.status_code == 409
    assert [e["code"] for e in refused.json()["errors"]] == ["IBAN_INVALID"]
    Vendor.objects.filter(pk=ow.vendor.pk).update(iban="FR7630006000011234567890189")
    ok = _client(ow.world.officer).post(url)
    assert ok.status_code == 200
    assert ok.json()["enrolled_at"]
    assert _client(ow.world.officer).post(url).json()["errors"][0]["code"] == "ALREADY_ENROLLED"
    assert AuditEntry.objects.filter(action="vendor.enrol").count() == 1
    other = make_order_world(enrolled=False)
    referencing_services.referencing_suspend(
        actor=other.world.admin, referencing=other.referencing, reason="x"
    )
    assert [
        e["code"]
        for e in _client(ow.world.officer)
        .post(f"/api/v1/vendors/{other.vendor.pk}/enrol/")
        .json()["errors"]
    ] == ["SOLUTION_NOT_REFERENCED"]


def test_payment_queue_lists_eligible_orders_and_the_reasons_of_others(ow):
    eligible = order_in(ow, "installed")
    from tests.factories.orders import EstablishmentFactory

    clinic = EstablishmentFactory()
    pending = order_in(
        ow,
        "signed",
        establishment=clinic,
        signatory=UserFactory(role="establishment", establishment=clinic, signatory=True),
    )
    eligibility_check_schemes(scheme_codes=[ow.scheme.code])
    officer = _client(ow.world.officer)
    yes = officer.get(
        "/api/v1/payment-queue/", {"eligible": "true", "scheme": ow.scheme.code}
    ).json()
    assert [r["purchase_order"] for r in yes["results"]] == [str(eligible.pk)]
    no = officer.get("/api/v1/payment-queue/", {"eligible": "false"}).json()
    assert no["results"][0]["purchase_order"] == str(pending.pk)
    assert no["results"][0]["balance_reasons"] == [
        "INSTALLATION_NOT_ACCEPTED",
        "ACCEPTANCE_REPORT_MISSING",
    ]
    by_reason = officer.get(
        "/api/v1/payment-queue/", {"reason": "ACCEPTANCE_REPORT_MISSING"}
    ).json()
    assert by_reason["count"] == 1
    assert _client(ow.member).get("/api/v1/payment-queue/").status_code == 403
    assert (
        officer.get("/api/v1/payment-queue/reasons/").json()["OPEN_RESERVATIONS"]
        == "Réserves non levées"
    )


def test_list_query_counts_are_constant(ow):
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        from tests.factories.orders import EstablishmentFactory

        est = EstablishmentFactory()
        order = order_in(
            ow,
            "installed",
            establishment=est,
            signatory=UserFactory(role="establishment", establishment=est, signatory=True),
        )
        PaymentRequest.objects.create(
            order=order, kind="balance", amount=Decimal("1"), requested_by=ow.member
        )
    eligibility_check_schemes()
    officer = _client(ow.world.officer)
    for url in ("/api/v1/payment-requests/", "/api/v1/payment-queue/", "/api/v1/purchase-orders/"):
        counts = []
        for size in (1, 100):
            with CaptureQueriesContext(connection) as ctx:
                assert officer.get(url, {"page_size": size}).status_code == 200
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1], url


def test_deployment_report_per_scheme_and_rolled_up(ow):
    from tests.factories.orders import EstablishmentFactory

    states = ["installed", "installed", "installed", "signed", "reserved"]
    for index, state in enumerate(states):
        est = EstablishmentFactory()
        order = order_in(
            ow,
            state,
            establishment=est,
            signatory=UserFactory(role="establishment", establishment=est, signatory=True),
        )
        if index == 0:
            PaymentRequest.objects.create(
                order=order, kind="balance", amount=Decimal("1"), requested_by=ow.member
            )
    order_in(ow, "sent")  # not ordered yet: not counted
    client = _client(ow.world.officer)
    rows = {r["scheme"]: r for r in client.get("/api/v1/stats/deployment/").json()}
    row = rows[ow.scheme.code]
    assert {
        k: row[k]
        for k in (
            "ordered",
            "installed",
            "with_balance_request",
            "without_balance_request",
            "not_installed",
            "installation_rate",
            "category",
            "sector",
        )
    } == {
        "ordered": 5,
        "installed": 3,
        "with_balance_request": 1,
        "without_balance_request": 2,
        "not_installed": 2,
        "installation_rate": 0.6,
        "category": "DPI",
        "sector": "HOP",
    }
    by_category = client.get("/api/v1/stats/deployment/", {"by": "category"}).json()
    dpi = next(r for r in by_category if r["category"] == "DPI")
    assert (dpi["ordered"], dpi["installed"]) == (5, 3)
    assert _client(ow.member).get("/api/v1/stats/deployment/").status_code == 403
    assert _client(ow.world.admin).get("/api/v1/stats/deployment/").status_code == 200
