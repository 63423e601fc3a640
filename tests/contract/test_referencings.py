"""Referencings (created by approval) and their suspension, reinstatement and revocation; the
public catalogue."""

from tests.contract.conftest import (
    assert_fields,
    assert_instant,
    new_order,
    referenced_version,
    results,
)


def test_referencings(world, referenced):
    ref = referenced["referencing"]
    for api in (world.vendor_api, world.reviewer, world.officer1, world.admin):
        read = api.get(f"referencings/{ref['id']}/").json()
        assert_fields(
            read,
            "reference",
            "scheme",
            "solution_version",
            "vendor",
            "state",
            "valid_from",
            "valid_until",
        )
        assert read["reference"] == ref["reference"]
    rows = results(
        world.officer1.get(
            "referencings/",
            params={"scheme": world.scheme, "vendor": world.vendor["id"], "state": "active"},
        )
    )
    assert ref["id"] in {r["id"] for r in rows}
    assert all(r["vendor"] == world.vendor["id"] for r in rows)
    assert ref["id"] not in {r["id"] for r in results(world.other_vendor_api.get("referencings/"))}


def test_referencings_refusals(world, referenced):
    ref = referenced["referencing"]
    world.other_vendor_api.refused("GET", f"referencings/{ref['id']}/", 404, "not_found")
    world.anonymous.refused("GET", "referencings/", 401)
    world.admin.refused("GET", "referencings/", 400, params={"state": "gelé"})


def test_suspend_reinstate_revoke(world):
    ref = referenced_version(world, world.vendor_api)["referencing"]
    url = f"referencings/{ref['id']}/"
    suspended = world.admin.post(f"{url}suspend/", {"reason": "Faille de sécurité."}).json()
    assert suspended["state"] == "suspended"
    # Out of the public catalogue while suspended; orders can no longer be signed.
    catalogue = results(world.anonymous.get("catalogue/", params={"scheme": world.scheme}))
    assert ref["reference"] not in {e["reference"] for e in catalogue}
    reinstated = world.admin.post(f"{url}reinstate/").json()
    assert reinstated["state"] == "active"
    catalogue = results(world.anonymous.get("catalogue/", params={"q": ref["reference"]}))
    assert [e["reference"] for e in catalogue] == [ref["reference"]]
    revoked = world.admin.post(f"{url}revoke/", {"reason": "Fraude."}).json()
    assert revoked["state"] == "revoked"


def test_suspend_reinstate_revoke_refusals(world):
    ref = referenced_version(world, world.vendor_api)
    url = f"referencings/{ref['referencing']['id']}/"
    world.vendor_api.refused("POST", f"{url}suspend/", 403, json={"reason": "x"})
    world.reviewer.refused("POST", f"{url}revoke/", 403, json={"reason": "x"})
    world.admin.refused("POST", f"{url}suspend/", 400, attr="reason", json={})
    world.admin.refused("POST", f"{url}revoke/", 400, attr="reason", json={})
    world.admin.refused("POST", f"{url}reinstate/", 409)  # active already
    world.admin.post(f"{url}suspend/", {"reason": "Enquête."})
    world.admin.refused("POST", f"{url}suspend/", 409, json={"reason": "x"})
    # An order of a suspended referencing cannot be signed: the reason code says why.
    from tests.contract.conftest import make_establishment, signatory_of

    establishment = make_establishment(world.admin)
    signatory = signatory_of(world, establishment)
    order = new_order(world, ref, establishment)
    world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
    signatory.refused("POST", f"purchase-orders/{order['id']}/sign/", 409, "REFERENCING_SUSPENDED")
    world.admin.post(f"{url}revoke/", {"reason": "Fin."})
    world.admin.refused("POST", f"{url}reinstate/", 409)
    world.admin.refused("POST", f"{url}revoke/", 409, json={"reason": "x"})
    world.admin.refused(
        "POST",
        "referencings/00000000-0000-0000-0000-000000000000/revoke/",
        404,
        json={"reason": "x"},
    )


def test_catalogue(world, referenced):
    rows = results(world.anonymous.get("catalogue/", params={"scheme": world.scheme}))
    entry = next(e for e in rows if e["id"] == referenced["referencing"]["id"])
    assert_fields(
        entry, "reference", "scheme", "category", "wave", "vendor_name", "solution", "version"
    )
    assert entry["state"] == "active"
    assert entry["vendor_name"] == world.vendor["name"]
    assert entry["solution"] == referenced["solution"]["name"]
    assert_instant(entry["valid_from"])
    for params in ({"category": "DPI"}, {"wave": world.wave}, {"q": world.vendor["name"]}):
        found = results(world.anonymous.get("catalogue/", params=params))
        assert entry["id"] in {e["id"] for e in found}
    assert (
        results(world.anonymous.get("catalogue/", params={"category": "LGO", "wave": world.wave}))
        == []
    )


def test_catalogue_refusals(world):
    world.anonymous.refused("GET", "catalogue/", 404, params={"page": 9999})
