"""Role × endpoint matrix of the vendors API (api.md): every endpoint, every caller.

`member` belongs to the vendor that owns the objects; `other_vendor` belongs to another vendor
and must get the same 404 as for a missing object on anything of the first vendor.
"""

import pytest

from tests.vendors.helpers import WHO, VendorWorld, assert_error
from vendors.models import Solution, SolutionVersion, Vendor

NEW_SIREN, NEW_SIRET = "732829320", "73282932000074"


def _call(world: VendorWorld, who: str, endpoint: str):
    client = world.client(who)
    v, s, sv = world.vendor.pk, world.solution.pk, world.version.pk
    calls = {
        "vendor-list": lambda: client.get("/api/v1/vendors/"),
        "vendor-retrieve": lambda: client.get(f"/api/v1/vendors/{v}/"),
        "vendor-create": lambda: client.post(
            "/api/v1/vendors/", {"name": "Nouveau", "siren": NEW_SIREN, "siret": NEW_SIRET}
        ),
        "vendor-update": lambda: client.patch(f"/api/v1/vendors/{v}/", {"name": "Renommé"}),
        "vendor-put": lambda: client.put(
            f"/api/v1/vendors/{v}/",
            {"name": "Renommé", "siren": world.vendor.siren, "siret": world.vendor.siret},
        ),
        "vendor-delete": lambda: client.delete(f"/api/v1/vendors/{v}/"),
        "vendor-members": lambda: client.get(f"/api/v1/vendors/{v}/members/"),
        "solution-list": lambda: client.get("/api/v1/solutions/"),
        "solution-retrieve": lambda: client.get(f"/api/v1/solutions/{s}/"),
        "solution-create": lambda: client.post(
            "/api/v1/solutions/", {"name": "Nouveau logiciel", "category": "LGC"}
        ),
        "solution-update": lambda: client.patch(f"/api/v1/solutions/{s}/", {"name": "Renommé"}),
        "solution-delete": lambda: client.delete(f"/api/v1/solutions/{s}/"),
        "version-list": lambda: client.get(f"/api/v1/solutions/{s}/versions/"),
        "version-retrieve": lambda: client.get(f"/api/v1/solutions/{s}/versions/{sv}/"),
        "version-create": lambda: client.post(
            f"/api/v1/solutions/{s}/versions/", {"number": "2026.1"}
        ),
        "version-delete": lambda: client.delete(f"/api/v1/solutions/{s}/versions/{sv}/"),
    }
    return calls[endpoint]()


# Columns in the order of WHO:
#   ans_admin, reviewer, payment_officer, member, other_vendor, establishment, anonymous
MATRIX = {
    "vendor-list": (200, 200, 200, 200, 200, 200, 401),
    "vendor-retrieve": (200, 200, 200, 200, 404, 200, 401),
    "vendor-create": (201, 403, 403, 403, 403, 403, 401),
    "vendor-update": (200, 403, 403, 403, 403, 403, 401),
    "vendor-put": (200, 403, 403, 403, 403, 403, 401),
    "vendor-delete": (405, 403, 403, 403, 403, 403, 401),
    "vendor-members": (200, 403, 403, 200, 404, 403, 401),
    "solution-list": (200, 200, 200, 200, 200, 403, 401),
    "solution-retrieve": (200, 200, 200, 200, 404, 403, 401),
    "solution-create": (403, 403, 403, 201, 201, 403, 401),
    "solution-update": (403, 403, 403, 200, 404, 403, 401),
    "solution-delete": (403, 403, 403, 405, 405, 403, 401),
    "version-list": (200, 200, 200, 200, 404, 403, 401),
    "version-retrieve": (200, 200, 200, 200, 404, 403, 401),
    "version-create": (403, 403, 403, 201, 404, 403, 401),
    "version-delete": (403, 403, 403, 405, 404, 403, 401),
}
CASES = [
    pytest.param(endpoint, who, expected, id=f"{endpoint}-{who}")
    for endpoint, row in MATRIX.items()
    for who, expected in zip(WHO, row, strict=True)
]
ERROR_CODES = {
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
}


@pytest.mark.parametrize(("endpoint", "who", "expected"), CASES)
def test_role_endpoint_matrix(world, endpoint, who, expected):
    response = _call(world, who, endpoint)
    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected], None, "client_error")
    else:
        assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    ("endpoint", "who"),
    [(e, w) for e, row in MATRIX.items() for w, code in zip(WHO, row, strict=True) if code >= 403],
)
def test_refused_writes_change_nothing(world, endpoint, who):
    counts = (Vendor.objects.count(), Solution.objects.count(), SolutionVersion.objects.count())
    _call(world, who, endpoint)
    assert (
        Vendor.objects.count(),
        Solution.objects.count(),
        SolutionVersion.objects.count(),
    ) == counts
    world.vendor.refresh_from_db()
    world.solution.refresh_from_db()
    assert world.vendor.name == "Hospitalia Logiciels"
    assert world.solution.name == "Hospitalia DPI"


def test_another_vendors_object_is_answered_like_a_missing_one(world):
    client = world.client("other_vendor")
    missing = "00000000-0000-0000-0000-000000000000"
    for template in (
        "/api/v1/vendors/{}/",
        "/api/v1/vendors/{}/members/",
        "/api/v1/solutions/{}/",
        "/api/v1/solutions/{}/versions/",
    ):
        pk = world.solution.pk if "solutions" in template else world.vendor.pk
        hidden = client.get(template.format(pk))
        absent = client.get(template.format(missing))
        assert (hidden.status_code, hidden.json()) == (absent.status_code, absent.json())
        assert hidden.status_code == 404


def test_a_vendor_member_lists_only_their_own_vendor_and_solutions(world):
    client = world.client("other_vendor")
    vendors = client.get("/api/v1/vendors/").json()
    assert [v["id"] for v in vendors["results"]] == [str(world.other_vendor.pk)]
    solutions = client.get("/api/v1/solutions/").json()
    assert {s["vendor"] for s in solutions["results"]} == {str(world.other_vendor.pk)}
    assert solutions["count"] == 1


@pytest.mark.parametrize("who", ["ans_admin", "reviewer", "payment_officer"])
def test_ans_and_payment_officers_see_every_vendor_and_solution(world, who):
    client = world.client(who)
    assert client.get("/api/v1/vendors/").json()["count"] == 2
    assert client.get("/api/v1/solutions/").json()["count"] == 2


def test_establishments_see_every_vendor_but_no_solution(world):
    client = world.client("establishment")
    assert client.get("/api/v1/vendors/").json()["count"] == 2
    assert client.get("/api/v1/solutions/").status_code == 403


def test_a_superuser_without_role_has_ans_admin_rights(world):
    from tests.factories.accounts import UserFactory

    client = world.client("anonymous")
    client.force_authenticate(UserFactory(role="", is_superuser=True, is_staff=True))
    assert client.get(f"/api/v1/vendors/{world.vendor.pk}/members/").status_code == 200
    response = client.post(
        "/api/v1/vendors/", {"name": "Nouveau", "siren": NEW_SIREN, "siret": NEW_SIRET}
    )
    assert response.status_code == 201, response.content


def test_solution_created_by_a_member_belongs_to_their_vendor(world):
    response = world.client("other_vendor").post(
        "/api/v1/solutions/", {"name": "Praxéo Agenda", "category": "LGC"}
    )
    assert response.status_code == 201
    assert response.json()["vendor"] == str(world.other_vendor.pk)
    assert Solution.objects.get(pk=response.json()["id"]).vendor == world.other_vendor


@pytest.mark.parametrize("url", ["/api/v1/vendors/pas-un-uuid/", "/api/v1/solutions/12/versions/"])
def test_malformed_ids_are_a_404(world, url):
    assert_error(world.client("ans_admin").get(url), 404, "not_found", None)
