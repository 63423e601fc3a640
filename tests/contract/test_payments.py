"""Payment requests, batches and their exports, recoveries, the deployment report, the audit
trail — with the December 2026 clarifications on money."""

from decimal import Decimal

from tests.contract.conftest import (
    IBAN_A,
    IBAN_B,
    assert_fields,
    assert_instant,
    assert_money,
    assert_uuid,
    installed_order,
    make_scheme,
    new_order,
    paid_request,
    referenced_version,
    results,
    signed_order,
    unique,
)


def request(world, order, kind, expect=201, **kwargs):
    return world.vendor_api.post(
        "payment-requests/", {"purchase_order": order["id"], "kind": kind}, expect, **kwargs
    )


def test_payment_requests_create_list_and_filters(world, referenced):
    order, _signatory, _e = signed_order(world, referenced, amount="10000.00")
    advance = request(world, order, "advance").json()
    assert_fields(advance, "id", "purchase_order", "kind", "amount", "state", "reasons")
    assert advance["purchase_order"] == order["id"]
    assert advance["kind"] == "advance"
    assert assert_money(advance["amount"]) == Decimal("3000.00")
    rows = results(
        world.officer1.get(
            "payment-requests/", params={"purchase_order": order["id"], "kind": "advance"}
        )
    )
    assert [r["id"] for r in rows] == [advance["id"]]
    assert (
        results(
            world.officer1.get(
                "payment-requests/", params={"purchase_order": order["id"], "state": "paid"}
            )
        )
        == []
    )


def test_payment_requests_refusals(world, referenced):
    order = new_order(world, referenced)
    world.vendor_api.refused(
        "POST",
        "payment-requests/",
        409,
        "ORDER_NOT_SIGNED",
        json={"purchase_order": order["id"], "kind": "advance"},
    )
    world.vendor_api.refused(
        "POST",
        "payment-requests/",
        400,
        attr="kind",
        json={"purchase_order": order["id"], "kind": "bonus"},
    )
    world.other_vendor_api.refused(
        "POST",
        "payment-requests/",
        404,
        json={"purchase_order": order["id"], "kind": "advance"},
    )
    world.officer1.refused(
        "POST",
        "payment-requests/",
        403,
        json={"purchase_order": order["id"], "kind": "advance"},
    )
    world.signatory.refused("GET", "payment-requests/", 403)
    world.officer1.refused("GET", "payment-requests/", 400, params={"kind": "bonus"})
    # The same Idempotency-Key with another body.
    signed, _s, _e = signed_order(world, referenced)
    key = unique("cle-")
    request(world, signed, "advance", headers={"Idempotency-Key": key})
    world.vendor_api.refused(
        "POST",
        "payment-requests/",
        400,
        "IDEMPOTENCY_KEY_REUSED",
        json={"purchase_order": signed["id"], "kind": "balance"},
        headers={"Idempotency-Key": key},
    )
    # One request of each kind per order.
    world.vendor_api.refused(
        "POST",
        "payment-requests/",
        409,
        "ALREADY_REQUESTED",
        json={"purchase_order": signed["id"], "kind": "advance"},
    )


def test_approve_reject_mark_paid(world, referenced):
    order, _s, _e = signed_order(world, referenced)
    advance = request(world, order, "advance").json()
    url = f"payment-requests/{advance['id']}/"
    approved = world.officer1.post(f"{url}approve/").json()
    assert approved["state"] == "approved"
    assert_instant(approved["approved_at"])
    world.officer2.post("payment-batches/", expect=201)
    paid = world.officer3.post(f"{url}mark-paid/", {"payment_reference": "VIR-42"}).json()
    assert paid["state"] == "paid"
    assert paid["payment_reference"] == "VIR-42"
    assert_instant(paid["paid_at"])
    other, _s, _e = signed_order(world, referenced)
    rejected = request(world, other, "advance").json()
    rejected = world.officer2.post(
        f"payment-requests/{rejected['id']}/reject/", {"reason": "RIB illisible."}
    ).json()
    assert rejected["state"] == "rejected"


def test_approve_reject_mark_paid_refusals(world, referenced):
    order, _s, _e = signed_order(world, referenced)
    advance = request(world, order, "advance").json()
    url = f"payment-requests/{advance['id']}/"
    world.vendor_api.refused("POST", f"{url}approve/", 403)
    world.vendor_api.refused("POST", f"{url}reject/", 403, json={"reason": "x"})
    world.officer1.refused("POST", f"{url}reject/", 400, attr="reason", json={})
    world.officer1.refused("POST", f"{url}mark-paid/", 409, json={"payment_reference": "VIR-1"})
    world.officer1.post(f"{url}approve/")
    world.officer2.refused("POST", f"{url}approve/", 409)
    world.officer2.refused("POST", f"{url}reject/", 409, json={"reason": "x"})
    # Four-eyes: not by the officer who approved it.
    world.officer1.refused(
        "POST", f"{url}mark-paid/", 403, "FOUR_EYES", json={"payment_reference": "VIR-1"}
    )
    world.officer2.refused("POST", f"{url}mark-paid/", 400, attr="payment_reference", json={})
    world.vendor_api.refused("POST", f"{url}mark-paid/", 403, json={"payment_reference": "VIR-1"})
    world.officer1.refused(
        "POST", "payment-requests/00000000-0000-0000-0000-000000000000/approve/", 404
    )


def test_payment_batches_and_exports(world, referenced):
    order, _s, _e = signed_order(world, referenced, amount="20000.00")
    advance = request(world, order, "advance").json()
    world.officer1.post(f"payment-requests/{advance['id']}/approve/")
    batch = world.officer2.post("payment-batches/", expect=201).json()
    assert_fields(batch, "id", "reference", "total", "count", "created_at")
    assert batch["count"] >= 1
    assert assert_money(batch["total"]) >= Decimal("6000.00")
    assert batch["id"] in {b["id"] for b in results(world.officer3.get("payment-batches/"))}
    carried = world.officer1.get(f"payment-requests/{advance['id']}/").json()
    assert carried["batch"] == batch["id"]
    csv_text = world.officer3.get(f"payment-batches/{batch['id']}/export.csv").text
    assert "6000.00" in csv_text
    xml = world.admin.get(f"payment-batches/{batch['id']}/export.xml")
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert "urn:iso:std:iso:20022:tech:xsd:pain.001" in xml.text
    assert "6000.00" in xml.text


def test_payment_batches_refusals(world, referenced):
    world.vendor_api.refused("POST", "payment-batches/", 403)
    world.vendor_api.refused("GET", "payment-batches/", 403)
    # What an officer approved never goes in their own batch.
    order, _s, _e = signed_order(world, referenced)
    advance = request(world, order, "advance").json()
    world.officer1.post(f"payment-requests/{advance['id']}/approve/")
    world.officer2.post("payment-batches/", expect=201)  # clears what is waiting
    other, _s, _e = signed_order(world, referenced)
    advance = request(world, other, "advance").json()
    world.officer3.post(f"payment-requests/{advance['id']}/approve/")
    world.officer3.refused("POST", "payment-batches/", 409, "NOTHING_TO_PAY")
    world.officer1.post("payment-batches/", expect=201)
    missing = "00000000-0000-0000-0000-000000000000"
    world.officer1.refused("GET", f"payment-batches/{missing}/export.csv", 404)
    world.officer1.refused("GET", f"payment-batches/{missing}/export.xml", 404)
    batch = results(world.officer1.get("payment-batches/"))[0]
    world.vendor_api.refused("GET", f"payment-batches/{batch['id']}/export.csv", 403)
    world.signatory.refused("GET", f"payment-batches/{batch['id']}/export.xml", 403)


def test_balance_without_advance_is_the_whole_amount(world, referenced):
    order, _s, _e = installed_order(world, referenced, amount="12345.67")
    eligibility = world.vendor_api.get(f"purchase-orders/{order['id']}/eligibility/").json()
    assert eligibility["kind"] == "balance"
    assert eligibility["eligible"] is True
    balance = request(world, order, "balance").json()
    assert balance["amount"] == "12345.67"
    # No advance once a balance exists.
    world.vendor_api.refused(
        "POST",
        "payment-requests/",
        409,
        "ALREADY_REQUESTED",
        json={"purchase_order": order["id"], "kind": "advance"},
    )
    answer = world.vendor_api.get(
        f"purchase-orders/{order['id']}/eligibility/", params={"kind": "advance"}
    ).json()
    assert answer["kind"] == "advance"
    assert "ALREADY_REQUESTED" in answer["reasons"]


def test_iban_change_holds_approved_requests_until_enrolled_again(world, admin):
    from tests.contract.conftest import make_vendor

    vendor, member = make_vendor(admin, world.server, IBAN_A)
    ref = referenced_version(world, member)
    world.officer1.post(f"vendors/{vendor['id']}/enrol/")
    from tests.contract.conftest import make_establishment, signatory_of

    establishment = make_establishment(admin)
    signatory = signatory_of(world, establishment)
    order = new_order(world, ref, establishment, vendor_api=member)
    member.post(f"purchase-orders/{order['id']}/send/")
    signatory.post(f"purchase-orders/{order['id']}/sign/")
    advance = member.post(
        "payment-requests/", {"purchase_order": order["id"], "kind": "advance"}, expect=201
    ).json()
    # Clear the queue of what other tests left, so that only this request waits.
    world.officer3.post("payment-batches/", expect=None)
    world.officer1.post(f"payment-requests/{advance['id']}/approve/")
    admin.patch(f"vendors/{vendor['id']}/", {"iban": IBAN_B})
    held = world.officer2.get(f"payment-requests/{advance['id']}/").json()
    assert held["on_hold"] is True
    world.officer2.call("POST", "payment-batches/")
    assert world.officer2.get(f"payment-requests/{advance['id']}/").json()["batch"] is None
    world.officer3.post(f"vendors/{vendor['id']}/enrol/")
    batch = world.officer2.post("payment-batches/", expect=201).json()
    assert world.officer2.get(f"payment-requests/{advance['id']}/").json()["batch"] == batch["id"]
    assert IBAN_B in world.officer2.get(f"payment-batches/{batch['id']}/export.xml").text


def test_cancel_funded_order_and_recoveries(world, referenced):
    order, signatory, _e = signed_order(world, referenced, amount="10000.00")
    paid_request(world, order, "advance")
    url = f"purchase-orders/{order['id']}/"
    world.vendor_api.refused("POST", f"{url}cancel/", 409, "ORDER_FUNDED", json={"reason": "x"})
    signatory.refused("POST", f"{url}cancel/", 409, "ORDER_FUNDED", json={"reason": "x"})
    world.officer1.refused("POST", f"{url}cancel/", 400, attr="reason", json={})
    cancelled = world.officer1.post(f"{url}cancel/", {"reason": "Changement d'éditeur."}).json()
    assert cancelled["state"] == "cancelled"
    recoveries = results(world.officer2.get("recoveries/", params={"purchase_order": order["id"]}))
    assert len(recoveries) == 1
    recovery = recoveries[0]
    assert_fields(recovery, "id", "purchase_order", "vendor", "amount", "due_on", "state", "reason")
    assert recovery["state"] == "open"
    assert recovery["amount"] == "3000.00"
    assert recovery["vendor"] == world.vendor["id"]
    mine = results(world.vendor_api.get("recoveries/", params={"state": "open"}))
    assert recovery["id"] in {r["id"] for r in mine}
    rurl = f"recoveries/{recovery['id']}/"
    world.vendor_api.refused("POST", f"{rurl}mark-recovered/", 403, json={"payment_reference": "x"})
    world.officer2.refused("POST", f"{rurl}mark-recovered/", 400, attr="payment_reference", json={})
    # Written off only by another officer than the one who opened it.
    world.officer1.refused("POST", f"{rurl}write-off/", 403, json={"reason": "Éditeur liquidé."})
    world.officer2.refused("POST", f"{rurl}write-off/", 400, attr="reason", json={})
    recovered = world.officer2.post(f"{rurl}mark-recovered/", {"payment_reference": "REC-1"}).json()
    assert recovered["state"] == "recovered"
    world.officer3.refused("POST", f"{rurl}mark-recovered/", 409, json={"payment_reference": "x"})
    world.officer3.refused("POST", f"{rurl}write-off/", 409, json={"reason": "x"})
    # A second funded order cancelled by ANS, its recovery written off.
    order, _signatory, _e = signed_order(world, referenced, amount="10000.00")
    paid_request(world, order, "advance")
    world.admin.post(f"purchase-orders/{order['id']}/cancel/", {"reason": "Fermeture."})
    recovery = results(world.officer2.get("recoveries/", params={"purchase_order": order["id"]}))[0]
    written = world.officer2.post(
        f"recoveries/{recovery['id']}/write-off/", {"reason": "Irrécouvrable."}
    ).json()
    assert written["state"] == "written_off"
    world.signatory.refused("GET", "recoveries/", 403)
    world.officer1.refused("GET", "recoveries/", 400, params={"state": "perdu"})


def test_deployment_report(world, admin):
    scheme = make_scheme(admin, world.wave)
    rows = world.officer1.get("stats/deployment/").json()
    row = next(r for r in rows if r["scheme"] == scheme)
    assert_fields(
        row,
        "scheme",
        "category",
        "sector",
        "ordered",
        "installed",
        "installation_rate",
        "with_balance_request",
        "without_balance_request",
        "not_installed",
    )
    assert row["ordered"] == 0
    assert row["installation_rate"] is None  # nothing ordered
    # Orders of every kind under that scheme: only those signed (or later) are "ordered".
    ref = referenced_version(world, world.vendor_api, scheme)

    def order_in(state):
        from tests.contract.conftest import make_establishment, signatory_of

        establishment = make_establishment(admin)
        signatory = signatory_of(world, establishment)
        order = world.vendor_api.post(
            "purchase-orders/",
            {
                "establishment": establishment["id"],
                "scheme": scheme,
                "solution_version": ref["version"]["id"],
                "amount": "1000.00",
            },
            expect=201,
        ).json()
        url = f"purchase-orders/{order['id']}/"
        if state == "draft":
            return
        world.vendor_api.post(f"{url}send/")
        if state == "sent":
            return
        signatory.post(f"{url}sign/")
        if state == "cancelled":
            world.vendor_api.post(f"{url}cancel/", {"reason": "Annulée."})
            return
        if state == "signed":
            return
        from tests.contract.conftest import paris_today, upload

        report = upload(world.vendor_api, "pv.pdf").json()
        world.vendor_api.post(
            f"{url}declare-installation/",
            {
                "installed_on": paris_today(),
                "version": ref["version"]["id"],
                "report": report["id"],
            },
        )
        signatory.post(f"{url}confirm-installation/")
        if state == "installed+balance":
            world.vendor_api.post(
                "payment-requests/", {"purchase_order": order["id"], "kind": "balance"}, 201
            )

    for state in ("draft", "sent", "cancelled", "signed", "installed", "installed+balance"):
        order_in(state)
    for api in (world.officer1, admin, world.reviewer):
        row = next(r for r in api.get("stats/deployment/").json() if r["scheme"] == scheme)
        assert row["ordered"] == 3
        assert row["installed"] == 2
        assert row["installation_rate"] == round(2 / 3, 4)
        assert type(row["installation_rate"]) is float
        assert row["with_balance_request"] == 1
        assert row["without_balance_request"] == 1
        assert row["not_installed"] == 1


def test_deployment_report_refusals(world):
    world.vendor_api.refused("GET", "stats/deployment/", 403)
    world.signatory.refused("GET", "stats/deployment/", 403)
    world.anonymous.refused("GET", "stats/deployment/", 401)


def test_audit(world, admin):
    entries = results(admin.get("audit/", params={"object_id": world.vendor["id"]}))
    assert entries
    for entry in entries:
        assert_fields(
            entry,
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "from_state",
            "to_state",
            "reason",
        )
        assert entry["object_id"] == world.vendor["id"]
        assert_instant(entry["at"])
    assert "vendor.create" in {e["action"] for e in entries}
    by_actor = results(
        admin.get("audit/", params={"actor": world.officer1.user["id"], "action": "vendor.enrol"})
    )
    assert by_actor
    assert {e["action"] for e in by_actor} == {"vendor.enrol"}
    assert_uuid(by_actor[0]["object_id"])


def test_audit_refusals(world):
    world.reviewer.refused("GET", "audit/", 403)
    world.officer1.refused("GET", "audit/", 403)
    world.admin.refused("GET", "audit/", 400, params={"actor": "pas-un-uuid"})


def test_lapsed_orders_count_as_ordered(world, admin):
    """`ordered` counts every order signed or later, lapsed included. The lapse is the
    scheduler's sweep, run here as the scheduler runs it, with the clock past the installation
    deadline (the only things this suite does outside HTTP: the clock and the scheduler)."""
    import datetime as dt

    import time_machine
    from django.core.management import call_command

    from tests.contract.conftest import date_in, make_establishment, signatory_of

    scheme = make_scheme(
        admin,
        world.wave,
        order_deadline=date_in(2),
        installation_deadline=date_in(2),
        payment_deadline=date_in(2),
    )
    ref = referenced_version(world, world.vendor_api, scheme)
    for _ in range(2):
        establishment = make_establishment(admin)
        order = world.vendor_api.post(
            "purchase-orders/",
            {
                "establishment": establishment["id"],
                "scheme": scheme,
                "solution_version": ref["version"]["id"],
                "amount": "1000.00",
            },
            expect=201,
        ).json()
        world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
        signatory_of(world, establishment).post(f"purchase-orders/{order['id']}/sign/")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=4), tick=False):
        call_command("run_sweeps", "order_lapse", verbosity=0)
    lapsed = world.vendor_api.get(f"purchase-orders/{order['id']}/").json()
    assert lapsed["state"] == "lapsed"
    row = next(r for r in admin.get("stats/deployment/").json() if r["scheme"] == scheme)
    assert row["ordered"] == 2
    assert row["installed"] == 0
    assert row["installation_rate"] == 0
    assert row["not_installed"] == 2


def test_a_batch_carries_only_requests_still_payable(world, admin, referenced):
    """A request approved while its order was eligible waits out of every batch while its
    referencing is suspended, and goes in the next batch once reinstated."""
    ref = referenced_version(world, world.vendor_api)
    order, _signatory, _e = signed_order(world, ref, amount="10000.00")
    advance = request(world, order, "advance").json()
    world.officer1.post(f"payment-requests/{advance['id']}/approve/")
    admin.post(f"referencings/{ref['referencing']['id']}/suspend/", {"reason": "Enquête."})
    world.officer2.call("POST", "payment-batches/")
    assert world.officer2.get(f"payment-requests/{advance['id']}/").json()["batch"] is None
    admin.post(f"referencings/{ref['referencing']['id']}/reinstate/")
    batch = world.officer2.post("payment-batches/", expect=201).json()
    assert world.officer2.get(f"payment-requests/{advance['id']}/").json()["batch"] == batch["id"]


def test_cancel_with_an_approved_request_rejects_it(world, referenced):
    order, signatory, _e = signed_order(world, referenced, amount="10000.00")
    advance = request(world, order, "advance").json()
    world.officer1.post(f"payment-requests/{advance['id']}/approve/")
    url = f"purchase-orders/{order['id']}/cancel/"
    world.vendor_api.refused("POST", url, 409, "ORDER_FUNDED", json={"reason": "x"})
    signatory.refused("POST", url, 409, "ORDER_FUNDED", json={"reason": "x"})
    assert world.admin.post(url, {"reason": "Doublon."}).json()["state"] == "cancelled"
    assert world.officer2.get(f"payment-requests/{advance['id']}/").json()["state"] == "rejected"
    # Nothing was paid: nothing to recover.
    assert results(world.officer2.get("recoveries/", params={"purchase_order": order["id"]})) == []
