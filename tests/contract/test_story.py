"""The whole story, as each role's software walks it through the API (happy path, with the
detours the contract names: changes requested and resubmission, reservations and their lifting)."""

from decimal import Decimal

from tests.contract.conftest import (
    APPLICABLE,
    assert_fields,
    assert_instant,
    assert_money,
    assert_uuid,
    create_user,
    make_establishment,
    make_vendor,
    paris_today,
    results,
    unique,
    upload,
)

DOSSIER_FIELDS = (
    "id",
    "scheme",
    "solution_version",
    "claimed_profiles",
    "charter_accepted",
    "state",
    "vendor",
    "complete",
    "submitted_at",
    "complete_deposit_at",
    "decided_at",
    "reference",
)
ORDER_FIELDS = (
    "id",
    "establishment",
    "scheme",
    "solution_version",
    "amount",
    "state",
    "referencing",
    "signed_at",
    "accepted_at",
    "reservations",
)
REQUEST_FIELDS = ("id", "purchase_order", "kind", "amount", "state", "reasons")


def test_the_whole_story(world):
    admin, reviewer = world.admin, world.reviewer
    # ANS registers the vendor and its signatory.
    vendor_record, vendor = make_vendor(admin, world.server)
    assert_fields(vendor_record, "id", "siren", "siret", "name", "nie", "iban", "enrolled_at")
    assert vendor_record["enrolled_at"] is None

    # The vendor's software: solution, version, evidence, dossier.
    solution = vendor.post(
        "solutions/", {"name": unique("DPI Contrat "), "category": "DPI"}, expect=201
    ).json()
    assert_fields(solution, "id", "name", "category", "vendor")
    assert solution["vendor"] == vendor_record["id"]
    assert solution["category"] == "DPI"
    version = vendor.post(
        f"solutions/{solution['id']}/versions/", {"number": "2.4.1"}, expect=201
    ).json()
    assert_fields(version, "id", "number")
    assert version["number"] == "2.4.1"
    proof = upload(vendor, "preuve DMP.pdf").json()
    assert_fields(proof, "id", "sha256", "size", "content_type", "filename")
    assert proof["content_type"] == "application/pdf"
    assert proof["filename"].endswith(".pdf")
    assert isinstance(proof["size"], int)
    assert len(proof["sha256"]) == 64

    dossier = vendor.post(
        "dossiers/",
        {
            "scheme": world.scheme,
            "solution_version": version["id"],
            "claimed_profiles": [],
            "charter_accepted": True,
        },
        expect=201,
    ).json()
    assert_fields(dossier, *DOSSIER_FIELDS)
    assert dossier["state"] == "draft"
    assert dossier["vendor"] == vendor_record["id"]
    assert dossier["scheme"] == world.scheme
    assert dossier["reference"] is None
    assert dossier["submitted_at"] is None
    url = f"dossiers/{dossier['id']}/"

    # Every statement, PUT then read back.
    for code in APPLICABLE:
        statement = vendor.put(
            f"{url}statements/{code}/",
            {"claim": "conform", "justification": f"Voir la preuve ({code}).", "evidence": []},
        ).json()
        assert statement["claim"] == "conform"
        assert statement["evidence"] == []
    statement = vendor.put(
        f"{url}statements/{APPLICABLE[0]}/",
        {"claim": "conform", "justification": "Preuve jointe.", "evidence": [proof["id"]]},
    ).json()
    assert_fields(statement, "claim", "justification", "evidence")
    assert statement["evidence"] == [proof["id"]]
    read = vendor.get(f"{url}statements/{APPLICABLE[0]}/").json()
    assert read["evidence"] == [proof["id"]]
    assert read["justification"] == "Preuve jointe."
    listed = vendor.get(f"{url}statements/").json()
    assert sorted(s["claim"] for s in listed) == ["conform"] * len(APPLICABLE)

    submitted = vendor.post(f"{url}submit/").json()
    assert submitted["state"] == "submitted"
    assert submitted["complete"] is True
    assert_instant(submitted["submitted_at"])
    assert_instant(submitted["complete_deposit_at"])

    # ANS: assign, verdicts, changes requested.
    assigned = admin.post(f"{url}assign/", {"reviewer": reviewer.user["id"]}).json()
    assert assigned["state"] == "in_review"
    for code in APPLICABLE:
        verdict = reviewer.put(
            f"{url}verdicts/{code}/", {"verdict": "compliant", "comment": "Conforme."}
        ).json()
        assert_fields(verdict, "verdict", "comment")
        assert verdict["verdict"] == "compliant"
    reviewer.put(
        f"{url}verdicts/{APPLICABLE[1]}/",
        {"verdict": "non_compliant", "comment": "Le scénario INS n'est pas démontré."},
    )
    changes = reviewer.post(
        f"{url}request-changes/",
        {"reason": "Compléter l'INS.", "requirements": [APPLICABLE[1]]},
    ).json()
    assert changes["state"] == "changes_requested"

    # The vendor answers and resubmits.
    vendor.put(
        f"{url}statements/{APPLICABLE[1]}/",
        {"claim": "conform", "justification": "Scénario INS joint.", "evidence": [proof["id"]]},
    )
    assert vendor.post(f"{url}submit/").json()["state"] == "submitted"
    admin.post(f"{url}assign/", {"reviewer": reviewer.user["id"]})
    reviewer.put(f"{url}verdicts/{APPLICABLE[1]}/", {"verdict": "compliant", "comment": "OK."})

    # Another ANS admin decides: the referencing, then the public catalogue.
    approved = world.admin2.post(f"{url}approve/").json()
    assert approved["state"] == "approved"
    assert approved["reference"]
    assert_instant(approved["decided_at"])
    referencing = results(admin.get("referencings/", params={"reference": approved["reference"]}))
    assert len(referencing) == 1
    referencing = referencing[0]
    assert_fields(
        referencing,
        "id",
        "reference",
        "scheme",
        "solution_version",
        "vendor",
        "state",
        "valid_from",
        "valid_until",
    )
    assert referencing["state"] == "active"
    assert referencing["scheme"] == world.scheme
    assert referencing["solution_version"] == version["id"]
    assert_instant(referencing["valid_from"])
    catalogue = results(world.anonymous.get("catalogue/", params={"scheme": world.scheme}))
    entry = next(e for e in catalogue if e["reference"] == approved["reference"])
    assert entry["vendor_name"] == vendor_record["name"]
    assert entry["solution"] == solution["name"]

    # The establishment's signatory, created through the API.
    establishment = make_establishment(admin)
    signatory = create_user(
        admin, world.server, "establishment", establishment=establishment["id"], signatory=True
    )
    assert signatory.user["establishment"] == establishment["id"]

    # The order: create, send, sign.
    order = vendor.post(
        "purchase-orders/",
        {
            "establishment": establishment["id"],
            "scheme": world.scheme,
            "solution_version": version["id"],
            "amount": "80000.00",
        },
        expect=201,
    ).json()
    assert_fields(order, *ORDER_FIELDS)
    assert order["state"] == "draft"
    assert order["amount"] == "80000.00"
    assert order["signed_at"] is None
    purl = f"purchase-orders/{order['id']}/"
    assert vendor.post(f"{purl}send/").json()["state"] == "sent"
    signed = signatory.post(f"{purl}sign/").json()
    assert signed["state"] == "signed"
    assert signed["referencing"] == referencing["id"]
    assert_instant(signed["signed_at"])

    # The advance: enrolment, eligibility, request (idempotent), approval, batch, payment.
    enrolled = world.officer3.post(f"vendors/{vendor_record['id']}/enrol/").json()
    assert enrolled["id"] == vendor_record["id"]
    assert_instant(enrolled["enrolled_at"])
    eligibility = vendor.get(f"{purl}eligibility/").json()
    assert eligibility == {**eligibility, "eligible": True, "reasons": [], "kind": "advance"}
    key = unique("cle-avance-")
    advance = vendor.post(
        "payment-requests/",
        {"purchase_order": order["id"], "kind": "advance"},
        expect=201,
        headers={"Idempotency-Key": key},
    ).json()
    assert_fields(advance, *REQUEST_FIELDS)
    assert advance["state"] == "submitted"
    assert advance["reasons"] == []
    assert assert_money(advance["amount"]) == Decimal("24000.00")
    again = vendor.post(
        "payment-requests/",
        {"purchase_order": order["id"], "kind": "advance"},
        expect=200,
        headers={"Idempotency-Key": key},
    ).json()
    assert again["id"] == advance["id"]
    approved_advance = world.officer1.post(f"payment-requests/{advance['id']}/approve/").json()
    assert approved_advance["state"] == "approved"
    batch = world.officer2.post("payment-batches/", expect=201).json()
    assert_fields(batch, "id")
    csv_export = world.officer2.get(f"payment-batches/{batch['id']}/export.csv")
    assert csv_export.headers["Content-Type"].startswith("text/csv")
    assert order["id"] in csv_export.text or vendor_record["name"] in csv_export.text
    xml_export = world.officer2.get(f"payment-batches/{batch['id']}/export.xml")
    assert "pain.001" in xml_export.text
    assert vendor_record["iban"] in xml_export.text
    paid = world.officer3.post(
        f"payment-requests/{advance['id']}/mark-paid/", {"payment_reference": "VIR-0001"}
    ).json()
    assert paid["state"] == "paid"

    # Installation: declared with the acceptance report, reserved, lifted, confirmed.
    report = upload(vendor, "PV de VA.pdf").json()
    declared = vendor.post(
        f"{purl}declare-installation/",
        {"installed_on": paris_today(), "version": version["id"], "report": report["id"]},
    ).json()
    assert declared["state"] == "installation_declared"
    reserved = signatory.post(f"{purl}reserve/", {"reservations": ["Flux DMP en échec."]}).json()
    assert reserved["state"] == "reserved"
    assert [r["text"] for r in reserved["reservations"]] == ["Flux DMP en échec."]
    lifted = vendor.post(f"{purl}lift-reservations/").json()
    assert lifted["state"] == "installation_declared"
    installed = signatory.post(f"{purl}confirm-installation/").json()
    assert installed["state"] == "installed"
    assert_instant(installed["accepted_at"])

    # The balance: the rest of the amount.
    eligibility = vendor.get(f"{purl}eligibility/").json()
    assert eligibility["kind"] == "balance"
    assert eligibility["eligible"] is True
    balance = vendor.post(
        "payment-requests/",
        {"purchase_order": order["id"], "kind": "balance"},
        expect=201,
        headers={"Idempotency-Key": unique("cle-solde-")},
    ).json()
    assert assert_money(balance["amount"]) == Decimal("56000.00")
    world.officer1.post(f"payment-requests/{balance['id']}/approve/")
    world.officer2.post("payment-batches/", expect=201)
    paid = world.officer3.post(
        f"payment-requests/{balance['id']}/mark-paid/", {"payment_reference": "VIR-0002"}
    ).json()
    assert paid["state"] == "paid"

    # The reports: deployment statistics and the audit trail.
    rows = world.officer1.get("stats/deployment/").json()
    row = next(r for r in rows if r["scheme"] == world.scheme)
    assert row["ordered"] >= 1
    assert row["installed"] >= 1
    assert row["with_balance_request"] >= 1
    assert isinstance(row["installation_rate"], float)
    assert 0 <= row["installation_rate"] <= 1
    trail = results(admin.get("audit/", params={"object_id": order["id"]}))
    actions = {entry["action"] for entry in trail}
    assert trail
    assert all(entry["object_id"] == order["id"] for entry in trail)
    assert {e["to_state"] for e in trail} >= {"sent", "signed", "installed"}, actions
    for entry in trail:
        assert_fields(
            entry, "at", "actor", "action", "object_type", "object_id", "from_state", "to_state"
        )
        assert_instant(entry["at"])
    assert_uuid(trail[0]["id"])
