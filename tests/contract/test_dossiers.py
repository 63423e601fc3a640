"""Referencing dossiers: statements, verdicts and every transition, with their refusals."""

import uuid

from tests.contract.conftest import (
    APPLICABLE,
    MANDATORY,
    assert_fields,
    assert_instant,
    results,
    unique,
    upload,
)


def draft(world, vendor_api=None, scheme=None) -> dict:
    """A new solution version of the vendor and a draft dossier for it, charter accepted."""
    vendor_api = vendor_api or world.vendor_api
    solution = vendor_api.post(
        "solutions/", {"name": unique("Logiciel "), "category": "DPI"}, expect=201
    ).json()
    version = vendor_api.post(
        f"solutions/{solution['id']}/versions/", {"number": "1.0"}, expect=201
    ).json()
    return vendor_api.post(
        "dossiers/",
        {
            "scheme": scheme or world.scheme,
            "solution_version": version["id"],
            "charter_accepted": True,
        },
        expect=201,
    ).json()


def filled(world, dossier, vendor_api=None) -> str:
    vendor_api = vendor_api or world.vendor_api
    proof = upload(vendor_api).json()
    url = f"dossiers/{dossier['id']}/"
    for code in MANDATORY:
        vendor_api.put(
            f"{url}statements/{code}/",
            {"claim": "conform", "justification": "Oui.", "evidence": [proof["id"]]},
        )
    return url


def in_review(world, reviewer=None) -> str:
    dossier = draft(world)
    url = filled(world, dossier)
    world.vendor_api.post(f"{url}submit/")
    world.admin.post(f"{url}assign/", {"reviewer": (reviewer or world.reviewer).user["id"]})
    return url


def test_dossiers_list_and_detail(world):
    dossier = draft(world)
    assert dossier["requirement_set_version"] >= 1
    assert dossier["charter_accepted"] is True
    assert dossier["claimed_profiles"] == []
    mine = {d["id"] for d in results(world.vendor_api.get("dossiers/"))}
    assert dossier["id"] in mine
    assert dossier["id"] not in {d["id"] for d in results(world.other_vendor_api.get("dossiers/"))}
    read = world.admin.get(f"dossiers/{dossier['id']}/").json()
    assert_fields(read, "id", "scheme", "solution_version", "state", "vendor", "complete")
    assert read["state"] == "draft"
    assert read["complete"] is False


def test_dossiers_refusals(world):
    dossier = draft(world)
    world.other_vendor_api.refused("GET", f"dossiers/{dossier['id']}/", 404, "not_found")
    world.signatory.refused("GET", "dossiers/", 403)
    world.vendor_api.refused("POST", "dossiers/", 400, attr="scheme", json={"scheme": "NOPE"})
    # Another vendor's version cannot be filed (and is not said to exist).
    world.other_vendor_api.refused(
        "POST",
        "dossiers/",
        400,
        "does_not_exist",
        "solution_version",
        json={"scheme": world.scheme, "solution_version": dossier["solution_version"]},
    )
    # One live dossier per version and scheme.
    world.vendor_api.refused(
        "POST",
        "dossiers/",
        409,
        json={"scheme": world.scheme, "solution_version": dossier["solution_version"]},
    )


def test_statements(world):
    dossier = draft(world)
    url = f"dossiers/{dossier['id']}/statements/"
    assert world.vendor_api.get(url).json() == []
    statement = world.vendor_api.put(
        f"{url}{APPLICABLE[0]}/",
        {"claim": "not_applicable", "justification": "Pas de DMP dans ce produit."},
    ).json()
    assert_fields(statement, "requirement_code", "claim", "justification", "evidence")
    assert statement["claim"] == "not_applicable"
    assert statement["evidence"] == []
    assert world.reviewer.get(f"{url}{APPLICABLE[0]}/").json()["claim"] == "not_applicable"
    assert [s["requirement_code"] for s in world.admin.get(url).json()] == [APPLICABLE[0]]


def test_statements_refusals(world):
    dossier = draft(world)
    url = f"dossiers/{dossier['id']}/statements/"
    vendor = world.vendor_api
    world.other_vendor_api.refused("GET", url, 404)
    vendor.refused("GET", f"{url}{APPLICABLE[1]}/", 404)  # not written yet
    vendor.refused("PUT", f"{url}PAS.UNE.EXIGENCE/", 404, json={"claim": "conform"})
    vendor.refused("PUT", f"{url}{APPLICABLE[0]}/", 400, attr="claim", json={"claim": "maybe"})
    vendor.refused(
        "PUT",
        f"{url}{APPLICABLE[0]}/",
        400,
        "justification_required",
        "justification",
        json={"claim": "not_applicable"},
    )
    vendor.refused(
        "PUT",
        f"{url}{APPLICABLE[0]}/",
        400,
        "does_not_exist",
        "evidence",
        json={"claim": "conform", "evidence": [str(uuid.uuid4())]},
    )
    world.reviewer.refused("PUT", f"{url}{APPLICABLE[0]}/", 403, json={"claim": "conform"})
    # A refused PUT wrote nothing.
    assert vendor.get(url).json() == []
    # Submitted: no longer editable.
    filled(world, dossier)
    vendor.post(f"dossiers/{dossier['id']}/submit/")
    vendor.refused(
        "PUT",
        f"{url}{APPLICABLE[0]}/",
        409,
        "DOSSIER_NOT_EDITABLE",
        json={"claim": "conform", "justification": "Autre chose."},
    )


def test_submit_and_withdraw(world):
    dossier = draft(world)
    url = filled(world, dossier)
    submitted = world.vendor_api.post(f"{url}submit/").json()
    assert submitted["state"] == "submitted"
    assert_instant(submitted["submitted_at"])
    withdrawn = world.vendor_api.post(f"{url}withdraw/", {"reason": "Version remplacée."}).json()
    assert withdrawn["state"] == "withdrawn"


def test_submit_and_withdraw_refusals(world):
    dossier = draft(world)
    url = f"dossiers/{dossier['id']}/"
    body = world.vendor_api.refused("POST", f"{url}submit/", 409, "STATEMENT_MISSING")
    assert {e["code"] for e in body["errors"]} == {"STATEMENT_MISSING"}
    world.admin.refused("POST", f"{url}submit/", 403)
    world.other_vendor_api.refused("POST", f"{url}submit/", 404)
    world.other_vendor_api.refused("POST", f"{url}withdraw/", 404)
    world.vendor_api.post(f"{url}withdraw/")
    world.vendor_api.refused("POST", f"{url}withdraw/", 409)
    world.vendor_api.refused("POST", f"{url}submit/", 409)
    world.vendor_api.refused(
        "POST", f"{url}withdraw/", 400, attr="reason", json={"reason": 5 * [1]}
    )


def test_assign_verdicts_request_changes(world):
    url = in_review(world)
    verdict = world.reviewer.put(
        f"{url}verdicts/{APPLICABLE[0]}/", {"verdict": "non_compliant", "comment": "Preuve floue."}
    ).json()
    assert_fields(verdict, "requirement_code", "verdict", "comment")
    assert verdict["verdict"] == "non_compliant"
    changed = world.reviewer.post(
        f"{url}request-changes/", {"reason": "Preuve à refaire.", "requirements": [APPLICABLE[0]]}
    ).json()
    assert changed["state"] == "changes_requested"
    assert_instant(changed["changes_due_at"])
    # The vendor now sees the verdicts.
    seen = world.vendor_api.get(f"{url}verdicts/").json()
    assert {v["verdict"] for v in seen} == {"non_compliant"}


def test_assign_verdicts_request_changes_refusals(world):
    dossier = draft(world)
    url = filled(world, dossier)
    world.admin.refused("POST", f"{url}assign/", 409, json={"reviewer": world.reviewer.user["id"]})
    world.vendor_api.post(f"{url}submit/")
    world.vendor_api.refused(
        "POST", f"{url}assign/", 403, json={"reviewer": world.reviewer.user["id"]}
    )
    world.admin.refused(
        "POST",
        f"{url}assign/",
        400,
        "invalid_reviewer",
        "reviewer",
        json={"reviewer": world.vendor_api.user["id"]},
    )
    world.admin.refused("POST", f"{url}assign/", 400, attr="reviewer", json={})
    # Verdicts before the assignment: the dossier is not in review.
    world.reviewer.refused(
        "PUT", f"{url}verdicts/{APPLICABLE[0]}/", 409, json={"verdict": "compliant"}
    )
    world.admin.post(f"{url}assign/", {"reviewer": world.reviewer.user["id"]})
    world.vendor_api.refused(
        "PUT", f"{url}verdicts/{APPLICABLE[0]}/", 403, json={"verdict": "compliant"}
    )
    world.reviewer.refused(
        "PUT", f"{url}verdicts/{APPLICABLE[0]}/", 400, attr="verdict", json={"verdict": "bof"}
    )
    world.reviewer.refused(
        "PUT",
        f"{url}verdicts/{APPLICABLE[0]}/",
        400,
        "comment_required",
        "comment",
        json={"verdict": "non_compliant"},
    )
    world.reviewer.refused(
        "PUT", f"{url}verdicts/PAS.UNE.EXIGENCE/", 404, json={"verdict": "compliant"}
    )
    # Only the assigned reviewer (or an ANS admin) gives verdicts.
    world.reviewer2.refused(
        "PUT", f"{url}verdicts/{APPLICABLE[0]}/", 403, json={"verdict": "compliant"}
    )
    # Another reviewer, or without a non-compliant requirement.
    world.reviewer2.refused(
        "POST", f"{url}request-changes/", 403, json={"reason": "x", "requirements": [APPLICABLE[0]]}
    )
    world.reviewer.refused(
        "POST", f"{url}request-changes/", 400, attr="requirements", json={"reason": "x"}
    )
    world.reviewer.put(f"{url}verdicts/{APPLICABLE[0]}/", {"verdict": "compliant"})
    world.reviewer.refused(
        "POST",
        f"{url}request-changes/",
        409,
        "VERDICT_REQUIRED",
        APPLICABLE[0],
        json={"reason": "x", "requirements": [APPLICABLE[0]]},
    )


def test_approve_and_reject(world):
    url = in_review(world)
    for code in MANDATORY:
        world.reviewer.put(f"{url}verdicts/{code}/", {"verdict": "compliant"})
    approved = world.admin.post(f"{url}approve/").json()
    assert approved["state"] == "approved"
    assert approved["reference"].startswith(world.scheme)
    url = in_review(world)
    rejected = world.admin.post(f"{url}reject/", {"reason": "Hors périmètre."}).json()
    assert rejected["state"] == "rejected"
    assert_instant(rejected["decided_at"])


def test_approve_and_reject_refusals(world):
    # The admin who instructed the dossier does not decide it (four-eyes).
    url = in_review(world, reviewer=world.admin)
    for code in MANDATORY:
        world.admin.put(f"{url}verdicts/{code}/", {"verdict": "compliant"})
    world.admin.refused("POST", f"{url}approve/", 403, "FOUR_EYES")
    world.admin.refused("POST", f"{url}reject/", 403, "FOUR_EYES", json={"reason": "x"})
    world.reviewer.refused("POST", f"{url}approve/", 403)
    world.admin2.refused("POST", f"{url}reject/", 400, attr="reason", json={})
    # Not every mandatory requirement judged compliant: refused with the unjudged ones.
    url = in_review(world)
    world.admin.refused("POST", f"{url}approve/", 409)
    world.admin.post(f"{url}reject/", {"reason": "Non."})
    world.admin2.refused("POST", f"{url}approve/", 409)
    world.admin2.refused("POST", f"{url}reject/", 409, json={"reason": "Encore non."})


def test_a_claimed_profile_makes_its_requirements_applicable(world):
    dossier = draft(world)
    url = filled(world, dossier)
    claimed = world.vendor_api.patch(url, {"claimed_profiles": ["ville"]}).json()
    assert claimed["claimed_profiles"] == ["ville"]
    body = world.vendor_api.refused("POST", f"{url}submit/", 409, "STATEMENT_MISSING")
    assert "CT.VIL.04" in str(body)
    world.vendor_api.put(
        f"{url}statements/CT.VIL.04/", {"claim": "conform", "justification": "Mode ville."}
    )
    assert world.vendor_api.post(f"{url}submit/").json()["state"] == "submitted"
