"""Establishments, purchase orders and their transitions, eligibility, pre-referencing orders."""

import pytest

from tests.contract.conftest import (
    assert_fields,
    assert_instant,
    assert_money,
    make_establishment,
    new_finess,
    new_order,
    paris_today,
    results,
    signatory_of,
    signed_order,
    unique,
    upload,
)
from tests.contract.test_dossiers import draft, filled


def test_establishments(world, admin):
    establishment = make_establishment(admin)
    assert_fields(establishment, "id", "finess", "name", "kind", "siret")
    assert establishment["kind"] == "hospital"
    listed = {e["id"] for e in results(admin.get("establishments/"))}
    assert establishment["id"] in listed
    own = results(world.signatory.get("establishments/"))
    assert [e["id"] for e in own] == [world.establishment["id"]]


def test_establishments_refusals(world, admin):
    world.vendor_api.refused(
        "POST",
        "establishments/",
        403,
        json={"finess": new_finess(), "name": "x", "kind": "hospital"},
    )
    admin.refused(
        "POST",
        "establishments/",
        400,
        attr="finess",
        json={"finess": "350000001", "name": "x", "kind": "hospital"},
    )
    admin.refused(
        "POST", "establishments/", 400, attr="kind", json={"finess": new_finess(), "kind": "zoo"}
    )
    world.anonymous.refused("GET", "establishments/", 401)


def test_purchase_orders_list_and_detail(world, referenced):
    order = new_order(world, referenced, world.establishment)
    assert_money(order["amount"])
    assert order["state"] == "draft"
    assert order["reservations"] == []
    assert order["id"] in {o["id"] for o in results(world.vendor_api.get("purchase-orders/"))}
    # The establishment sees it once sent.
    world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
    seen = world.member.get(f"purchase-orders/{order['id']}/").json()
    assert seen["state"] == "sent"
    assert seen["establishment"] == world.establishment["id"]
    assert seen["scheme"] == world.scheme
    assert seen["solution_version"] == referenced["version"]["id"]
    assert order["id"] in {o["id"] for o in results(world.member.get("purchase-orders/"))}
    # The member, without signature rights, may decline.
    declined = world.member.post(
        f"purchase-orders/{order['id']}/decline/", {"reason": "Pas ce produit."}
    ).json()
    assert declined["state"] == "declined"


def test_purchase_orders_refusals(world, referenced):
    order = new_order(world, referenced)
    url = f"purchase-orders/{order['id']}/"
    world.other_vendor_api.refused("GET", url, 404, "not_found")
    world.other_signatory.refused("GET", url, 404, "not_found")
    body = {
        "establishment": world.establishment["id"],
        "scheme": world.scheme,
        "solution_version": referenced["version"]["id"],
        "amount": "1000.00",
    }
    world.signatory.refused("POST", "purchase-orders/", 403, json=body)
    world.anonymous.refused("GET", "purchase-orders/", 401)
    world.vendor_api.refused(
        "POST", "purchase-orders/", 400, attr="amount", json={**body, "amount": "-1"}
    )
    world.vendor_api.refused(
        "POST", "purchase-orders/", 400, attr="amount", json={**body, "amount": "abc"}
    )
    world.other_vendor_api.refused("POST", "purchase-orders/", 400, json=body)


def test_send_sign_decline_cancel_refusals(world, referenced):
    establishment = make_establishment(world.admin)
    signatory = signatory_of(world, establishment)
    order = new_order(world, referenced, establishment, amount="999999.00")
    url = f"purchase-orders/{order['id']}/"
    # A draft is the vendor's alone: not even visible to the establishment.
    signatory.refused("POST", f"{url}send/", 404)
    world.other_vendor_api.refused("POST", f"{url}send/", 404)
    signatory.refused("POST", f"{url}sign/", 404)
    world.vendor_api.post(f"{url}send/")
    world.vendor_api.refused("POST", f"{url}send/", 409)
    world.vendor_api.refused("POST", f"{url}sign/", 403)
    world.other_signatory.refused("POST", f"{url}sign/", 404)
    # Above the scheme's cap: refused with the reason code, on the amount.
    signatory.refused("POST", f"{url}sign/", 409, "AMOUNT_ABOVE_CAP", "amount")
    signatory.refused("POST", f"{url}decline/", 400, attr="reason", json={})
    world.vendor_api.refused("POST", f"{url}decline/", 403, json={"reason": "x"})
    world.vendor_api.refused("POST", f"{url}cancel/", 400, attr="reason", json={})
    world.other_vendor_api.refused("POST", f"{url}cancel/", 404, json={"reason": "x"})
    cancelled = world.vendor_api.post(f"{url}cancel/", {"reason": "Erreur de montant."}).json()
    assert cancelled["state"] == "cancelled"
    signatory.refused("POST", f"{url}decline/", 409, json={"reason": "x"})
    world.vendor_api.refused("POST", f"{url}cancel/", 409, json={"reason": "x"})
    # One funded order per establishment and scheme.
    order, signatory, establishment = signed_order(world, referenced)
    second = new_order(world, referenced, establishment)
    world.vendor_api.post(f"purchase-orders/{second['id']}/send/")
    signatory.refused("POST", f"purchase-orders/{second['id']}/sign/", 409, "DUPLICATE_ORDER")


def test_installation_path_and_refusals(world, referenced):
    order, signatory, _establishment = signed_order(world, referenced)
    url = f"purchase-orders/{order['id']}/"
    version = referenced["version"]["id"]
    report = upload(world.vendor_api, "pv.pdf").json()
    body = {"installed_on": paris_today(), "version": version, "report": report["id"]}
    signatory.refused("POST", f"{url}declare-installation/", 403, json=body)
    world.vendor_api.refused(
        "POST", f"{url}declare-installation/", 400, attr="report", json={**body, "report": None}
    )
    world.vendor_api.refused(
        "POST",
        f"{url}declare-installation/",
        400,
        attr="installed_on",
        json={**body, "installed_on": "hier"},
    )
    signatory.refused("POST", f"{url}confirm-installation/", 409)
    signatory.refused("POST", f"{url}reserve/", 409, json={"reservations": ["x"]})
    world.vendor_api.refused("POST", f"{url}lift-reservations/", 409)
    declared = world.vendor_api.post(f"{url}declare-installation/", body).json()
    assert declared["state"] == "installation_declared"
    assert declared["installed_version"] == version
    assert declared["acceptance_report"] == report["id"]
    world.vendor_api.refused("POST", f"{url}declare-installation/", 409, json=body)
    world.vendor_api.refused("POST", f"{url}confirm-installation/", 403)
    world.vendor_api.refused("POST", f"{url}reserve/", 403, json={"reservations": ["x"]})
    signatory.refused("POST", f"{url}reserve/", 400, attr="reservations", json={"reservations": []})
    reserved = signatory.post(f"{url}reserve/", {"reservations": ["Écran figé.", "Pas d'INS."]})
    reserved = reserved.json()
    assert reserved["state"] == "reserved"
    assert len(reserved["reservations"]) == 2
    for reservation in reserved["reservations"]:
        assert_fields(reservation, "id", "text", "created_at", "lifted_at")
    signatory.refused("POST", f"{url}lift-reservations/", 403)
    world.other_vendor_api.refused("POST", f"{url}lift-reservations/", 404)
    # A signatory may accept despite the reservations.
    installed = signatory.post(f"{url}confirm-installation/").json()
    assert installed["state"] == "installed"
    assert_instant(installed["accepted_at"])
    signatory.refused("POST", f"{url}confirm-installation/", 409)


def test_a_member_without_signature_rights_cannot_sign(world, referenced):
    order = new_order(world, referenced, world.establishment)
    world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
    world.member.refused("POST", f"purchase-orders/{order['id']}/sign/", 403)


@pytest.mark.parametrize(
    ("dossier_state", "signs"), [("draft", False), ("submitted", True), ("in_review", True)]
)
def test_pre_referencing_order_needs_a_dossier_in_progress(world, dossier_state, signs):
    """A dossier is in progress when submitted, in review or with changes requested, never a
    draft (Clarifications, December 2026)."""
    dossier = draft(world)
    url = filled(world, dossier)
    if dossier_state != "draft":
        world.vendor_api.post(f"{url}submit/")
    if dossier_state == "in_review":
        world.admin.post(f"{url}assign/", {"reviewer": world.reviewer.user["id"]})
    establishment = make_establishment(world.admin)
    signatory = signatory_of(world, establishment)
    order = world.vendor_api.post(
        "purchase-orders/",
        {
            "establishment": establishment["id"],
            "scheme": world.scheme,
            "solution_version": dossier["solution_version"],
            "amount": "1000.00",
        },
        expect=201,
    ).json()
    world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
    if signs:
        signed = signatory.post(f"purchase-orders/{order['id']}/sign/").json()
        assert signed["state"] == "signed"
        assert signed["referencing"] is None
    else:
        signatory.refused(
            "POST", f"purchase-orders/{order['id']}/sign/", 409, "SOLUTION_NOT_REFERENCED"
        )


def test_eligibility_kind(world, referenced):
    order = new_order(world, referenced)
    url = f"purchase-orders/{order['id']}/eligibility/"
    answer = world.vendor_api.get(url).json()
    assert_fields(answer, "eligible", "reasons", "kind")
    assert answer["kind"] == "advance"
    assert answer["eligible"] is False
    assert "ORDER_NOT_SIGNED" in answer["reasons"]
    balance = world.vendor_api.get(url, params={"kind": "balance"}).json()
    assert balance["kind"] == "balance"
    assert "INSTALLATION_NOT_ACCEPTED" in balance["reasons"]
    order, signatory, _e = signed_order(world, referenced)
    url = f"purchase-orders/{order['id']}/eligibility/"
    for api in (world.vendor_api, signatory, world.admin, world.reviewer, world.officer1):
        answer = api.get(url).json()
        assert answer["kind"] == "advance"
        assert answer["eligible"] is True
        assert answer["reasons"] == []
    assert world.vendor_api.get(url, params={"kind": "advance"}).json()["eligible"] is True


def test_eligibility_refusals(world, referenced):
    order = new_order(world, referenced)
    url = f"purchase-orders/{order['id']}/eligibility/"
    body = world.vendor_api.refused(
        "GET", url, 400, "invalid_choice", "kind", params={"kind": "tout"}
    )
    assert "inconnu" in body["errors"][0]["detail"]
    body = world.vendor_api.refused(
        "GET",
        url,
        400,
        "invalid_choice",
        "kind",
        params={"kind": "tout"},
        headers={"Accept-Language": "en"},
    )
    assert body["errors"][0]["detail"] == "Unknown kind of request (advance or balance)."
    world.other_vendor_api.refused("GET", url, 404)
    world.anonymous.refused("GET", url, 401)
    world.vendor_api.refused("GET", f"purchase-orders/{unique('x')}/eligibility/", 404)


def test_pre_referencing_orders_follow_their_dossier(world, admin):
    """Approved: the order gets the referencing. Rejected: the order is void, and a void order
    is not "ordered" in the deployment report."""
    from tests.contract.conftest import MANDATORY, make_scheme

    scheme = make_scheme(admin, world.wave)
    orders = []
    for _ in range(2):
        dossier = draft(world, scheme=scheme)
        url = filled(world, dossier)
        world.vendor_api.post(f"{url}submit/")
        world.admin.post(f"{url}assign/", {"reviewer": world.reviewer.user["id"]})
        establishment = make_establishment(admin)
        order = world.vendor_api.post(
            "purchase-orders/",
            {
                "establishment": establishment["id"],
                "scheme": scheme,
                "solution_version": dossier["solution_version"],
                "amount": "1000.00",
            },
            expect=201,
        ).json()
        world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
        signatory_of(world, establishment).post(f"purchase-orders/{order['id']}/sign/")
        orders.append((url, order))
    (approved_url, approved_order), (rejected_url, rejected_order) = orders
    for code in MANDATORY:
        world.reviewer.put(f"{approved_url}verdicts/{code}/", {"verdict": "compliant"})
    reference = world.admin2.post(f"{approved_url}approve/").json()["reference"]
    referencing = results(admin.get("referencings/", params={"reference": reference}))[0]
    order = world.vendor_api.get(f"purchase-orders/{approved_order['id']}/").json()
    assert order["referencing"] == referencing["id"]
    assert order["state"] == "signed"
    world.admin2.post(f"{rejected_url}reject/", {"reason": "Non conforme."})
    void = world.vendor_api.get(f"purchase-orders/{rejected_order['id']}/").json()
    assert void["state"] == "void"
    row = next(r for r in admin.get("stats/deployment/").json() if r["scheme"] == scheme)
    assert row["ordered"] == 1
    assert row["installation_rate"] == 0
