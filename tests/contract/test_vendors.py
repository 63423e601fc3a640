"""Vendors (and their enrolment with the paying agency), solutions, versions, evidence."""

from tests.contract.conftest import (
    IBAN_A,
    IBAN_B,
    assert_fields,
    assert_instant,
    luhn_complete,
    make_vendor,
    new_siren,
    referenced_version,
    results,
    unique,
    upload,
)


def test_vendors(world, admin):
    vendor = admin.get(f"vendors/{world.vendor['id']}/").json()
    assert_fields(vendor, "id", "siren", "siret", "name", "nie", "iban", "enrolled_at")
    assert vendor["iban"] == IBAN_A
    own = results(world.vendor_api.get("vendors/"))
    assert [v["id"] for v in own] == [world.vendor["id"]]
    # Others see the IBAN masked.
    seen = world.reviewer.get(f"vendors/{world.vendor['id']}/").json()
    assert seen["iban"] != IBAN_A
    assert seen["iban"].endswith(IBAN_A[-4:])


def test_vendors_refusals(world, admin):
    siren = new_siren()
    body = {"siren": siren, "siret": luhn_complete(siren + "0001"), "name": "X", "iban": IBAN_A}
    world.vendor_api.refused("POST", "vendors/", 403, json=body)
    admin.refused("POST", "vendors/", 400, attr="siren", json={**body, "siren": "123456789"})
    admin.refused("POST", "vendors/", 400, attr="iban", json={**body, "iban": "FR00 1234"})
    world.vendor_api.refused("GET", f"vendors/{world.other_vendor['id']}/", 404, "not_found")
    world.vendor_api.refused("PATCH", f"vendors/{world.vendor['id']}/", 403, json={"iban": IBAN_B})
    admin.refused("PATCH", f"vendors/{world.vendor['id']}/", 400, attr="iban", json={"iban": "x"})


def test_enrolment_and_iban_change(world, admin):
    vendor, member = make_vendor(admin, world.server)
    url = f"vendors/{vendor['id']}/"
    # No active referencing yet: refused with the reason code.
    world.officer1.refused("POST", f"{url}enrol/", 409, "SOLUTION_NOT_REFERENCED")
    world.vendor_api.refused("POST", f"{url}enrol/", 403)
    world.officer1.refused("POST", "vendors/00000000-0000-0000-0000-000000000000/enrol/", 404)
    referenced_version(world, member)
    enrolled = world.officer1.post(f"{url}enrol/").json()
    assert_fields(enrolled, "id", "siren", "iban", "enrolled_at")
    assert_instant(enrolled["enrolled_at"])
    world.officer2.refused("POST", f"{url}enrol/", 409, "ALREADY_ENROLLED")
    # Changing the IBAN clears the enrolment; the paying agency enrols again.
    changed = admin.patch(url, {"iban": IBAN_B}).json()
    assert changed["iban"] == IBAN_B
    assert changed["enrolled_at"] is None
    assert world.officer2.get(url).json()["enrolled_at"] is None
    again = world.officer2.post(f"{url}enrol/").json()
    assert_instant(again["enrolled_at"])
    # The same IBAN written another way is no change: the enrolment holds.
    spaced = " ".join(IBAN_B[i : i + 4] for i in range(0, len(IBAN_B), 4)).lower()
    kept = admin.patch(url, {"iban": spaced, "name": unique("Éditeur renommé ")}).json()
    assert kept["iban"] == IBAN_B
    assert kept["enrolled_at"] == again["enrolled_at"]


def test_solutions_and_versions(world):
    vendor = world.vendor_api
    solution = vendor.post(
        "solutions/", {"name": unique("Logiciel "), "category": "DPI"}, expect=201
    ).json()
    assert_fields(solution, "id", "name", "category", "vendor")
    assert solution["vendor"] == world.vendor["id"]
    assert solution["id"] in {s["id"] for s in results(vendor.get("solutions/"))}
    assert solution["id"] not in {
        s["id"] for s in results(world.other_vendor_api.get("solutions/"))
    }
    version = vendor.post(
        f"solutions/{solution['id']}/versions/", {"number": "3.0"}, expect=201
    ).json()
    assert_fields(version, "id", "number")
    versions = results(vendor.get(f"solutions/{solution['id']}/versions/"))
    assert [v["number"] for v in versions] == ["3.0"]


def test_solutions_and_versions_refusals(world):
    vendor = world.vendor_api
    world.admin.refused("POST", "solutions/", 403, json={"name": "x", "category": "DPI"})
    world.anonymous.refused("GET", "solutions/", 401)
    vendor.refused("POST", "solutions/", 400, attr="category", json={"name": "x", "category": "XX"})
    vendor.refused(
        "POST", "solutions/", 400, "unknown_field", "colour", json={"name": "x", "colour": "red"}
    )
    solution = vendor.post(
        "solutions/", {"name": unique("Logiciel "), "category": "DPI"}, expect=201
    ).json()
    url = f"solutions/{solution['id']}/versions/"
    world.other_vendor_api.refused("GET", url, 404)
    world.other_vendor_api.refused("POST", url, 404, json={"number": "1.0"})
    vendor.refused("POST", url, 400, attr="number", json={})
    vendor.post(url, {"number": "1.0"}, expect=201)
    vendor.refused("POST", url, 400, json={"number": "1.0"})


def test_evidence(world):
    proof = upload(world.vendor_api, "rapport.json", b'{"ok": true}').json()
    assert_fields(proof, "id", "sha256", "size", "content_type", "filename")
    assert proof["content_type"] == "application/json"
    assert proof["size"] == len(b'{"ok": true}')
    assert proof["id"] in {e["id"] for e in results(world.vendor_api.get("evidence/"))}
    assert proof["id"] not in {e["id"] for e in results(world.other_vendor_api.get("evidence/"))}


def test_evidence_refusals(world, admin):
    world.reviewer.refused("POST", "evidence/", 403, files={"file": ("a.pdf", b"%PDF-1.4")})
    world.signatory.refused("GET", "evidence/", 403)
    world.vendor_api.refused(
        "POST", "evidence/", 400, "empty_file", "file", files={"file": ("vide.pdf", b"")}
    )
    world.vendor_api.refused(
        "POST", "evidence/", 415, "unsupported_file_type", files={"file": ("a.exe", b"MZ\x90\x00")}
    )
    # Over the scheme's own limit (1 KiB here) when uploaded for a dossier of that scheme.
    from tests.contract.conftest import make_scheme

    small = make_scheme(admin, world.wave, evidence_max_bytes=1024)
    solution = world.vendor_api.post(
        "solutions/", {"name": unique("Logiciel "), "category": "DPI"}, expect=201
    ).json()
    version = world.vendor_api.post(
        f"solutions/{solution['id']}/versions/", {"number": "1.0"}, expect=201
    ).json()
    dossier = world.vendor_api.post(
        "dossiers/", {"scheme": small, "solution_version": version["id"]}, expect=201
    ).json()
    world.vendor_api.refused(
        "POST",
        "evidence/",
        413,
        "file_too_large",
        files={"file": ("gros.pdf", b"%PDF-1.4\n" + b"0" * 4096)},
        data={"dossier": dossier["id"]},
    )
