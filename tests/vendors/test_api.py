"""What the vendors API answers: fields, IBAN visibility, members, filters, audit, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEntry
from sons.models import Category
from tests.factories.vendors import (
    VALID_IBAN,
    SolutionFactory,
    SolutionVersionFactory,
    VendorFactory,
    vendor_member,
)
from vendors.models import Vendor

# --- vendors -------------------------------------------------------------------------------------


def test_vendor_fields(world):
    body = world.client("ans_admin").get(f"/api/v1/vendors/{world.vendor.pk}/").json()
    assert body == {
        "id": str(world.vendor.pk),
        "siren": world.vendor.siren,
        "siret": world.vendor.siret,
        "name": "Hospitalia Logiciels",
        "nie": world.vendor.nie,
        "iban": VALID_IBAN,
        "enrolled_at": None,
    }


@pytest.mark.parametrize(
    ("who", "iban"),
    [
        ("ans_admin", VALID_IBAN),
        ("payment_officer", VALID_IBAN),
        ("member", VALID_IBAN),
        ("reviewer", "****0189"),
        ("establishment", "****0189"),
    ],
)
def test_iban_in_clear_only_for_ans_admins_payment_officers_and_own_members(world, who, iban):
    client = world.client(who)
    detail = client.get(f"/api/v1/vendors/{world.vendor.pk}/").json()
    assert detail["iban"] == iban
    listed = {v["id"]: v for v in client.get("/api/v1/vendors/").json()["results"]}
    assert listed[str(world.vendor.pk)]["iban"] == iban


def test_iban_of_another_vendor_is_masked_for_a_vendor_member_in_every_list(db):
    """A vendor member never receives another vendor's IBAN (they do not even see the vendor)."""
    mine, theirs = VendorFactory(), VendorFactory(iban="DE89370400440532013000")
    api = APIClient()
    api.force_authenticate(vendor_member(mine))
    body = api.get("/api/v1/vendors/").json()
    assert "DE89370400440532013000" not in str(body)
    assert [v["id"] for v in body["results"]] == [str(mine.pk)]
    assert str(theirs.pk) not in str(body)


def test_an_empty_iban_stays_empty_when_masked(world):
    Vendor.objects.filter(pk=world.vendor.pk).update(iban="")
    body = world.client("reviewer").get(f"/api/v1/vendors/{world.vendor.pk}/").json()
    assert body["iban"] == ""


def test_vendor_create_through_the_api_is_audited_with_the_iban_masked(admin_client):
    response = admin_client.post(
        "/api/v1/vendors/",
        {
            "name": "Hospitalia",
            "siren": "732829320",
            "siret": "73282932000074",
            "nie": "ED0142",
            "iban": VALID_IBAN,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["iban"] == VALID_IBAN
    entry = AuditEntry.objects.get(action="vendor.create")
    assert entry.object_id == response.json()["id"]
    assert entry.actor_id == admin_client.user.pk
    assert entry.changes["iban"] == [None, "****0189"]


def test_vendor_patch_returns_the_updated_vendor_and_audits(admin_client, world):
    world.vendor.enrolled_at = timezone.now()
    world.vendor.save()
    response = admin_client.patch(
        f"/api/v1/vendors/{world.vendor.pk}/", {"iban": "DE89 3704 0044 0532 0130 00"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["iban"] == "DE89370400440532013000"
    assert response.json()["enrolled_at"] is None
    entry = AuditEntry.objects.get(action="vendor.update")
    assert entry.changes["iban"] == ["****0189", "****3000"]


def test_vendor_put_replaces_the_editable_fields(admin_client, world):
    response = admin_client.put(
        f"/api/v1/vendors/{world.vendor.pk}/",
        {"name": "Hospitalia SAS", "siren": "732829320", "siret": "73282932000074"},
    )
    assert response.status_code == 200, response.content
    world.vendor.refresh_from_db()
    assert (world.vendor.name, world.vendor.siren, world.vendor.siret) == (
        "Hospitalia SAS",
        "732829320",
        "73282932000074",
    )


def test_vendors_filter_by_siren(admin_client, world):
    body = admin_client.get("/api/v1/vendors/", {"siren": world.other_vendor.siren}).json()
    assert [v["id"] for v in body["results"]] == [str(world.other_vendor.pk)]


# --- members -------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["ans_admin", "member"])
def test_members_lists_the_users_of_that_vendor_only(world, who):
    colleague = vendor_member(world.vendor, username="zoe", signatory=True)
    body = world.client(who).get(f"/api/v1/vendors/{world.vendor.pk}/members/").json()
    assert body["count"] == 2
    assert {m["id"] for m in body["results"]} == {str(world.member.pk), str(colleague.pk)}
    marc = next(m for m in body["results"] if m["id"] == str(world.member.pk))
    assert marc == {
        "id": str(world.member.pk),
        "username": world.member.username,
        "email": world.member.email,
        "first_name": "Marc",
        "last_name": "Lefèvre",
        "signatory": False,
        "is_active": True,
    }
    assert str(world.other_member.pk) not in str(body)


# --- solutions and versions ----------------------------------------------------------------------
def test_solution_fields(world):
    body = world.client("reviewer").get(f"/api/v1/solutions/{world.solution.pk}/").json()
    assert body == {
        "id": str(world.solution.pk),
        "name": "Hospitalia DPI",
        "category": "DPI",
        "vendor": str(world.vendor.pk),
        "vendor_name": "Hospitalia Logiciels",
        "created_at": body["created_at"],
    }


def test_solution_create_update_and_audit(world):
    client = world.client("member")
    response = client.post("/api/v1/solutions/", {"name": "Hospitalia RI", "category": "RI"})
    assert response.status_code == 201, response.content
    solution_id = response.json()["id"]
    assert response.json()["vendor_name"] == "Hospitalia Logiciels"
    response = client.patch(f"/api/v1/solutions/{solution_id}/", {"category": "PFI"})
    assert response.status_code == 200
    assert response.json()["category"] == "PFI"
    actions = list(
        AuditEntry.objects.filter(object_id=solution_id)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["solution.create", "solution.update"]


def test_solutions_filter_by_vendor_and_category(admin_client, world):
    SolutionFactory(
        vendor=world.vendor, name="Hospitalia Cabinet", category=Category.objects.get(code="LGC")
    )
    by_vendor = admin_client.get("/api/v1/solutions/", {"vendor": str(world.vendor.pk)}).json()
    assert by_vendor["count"] == 2
    by_category = admin_client.get("/api/v1/solutions/", {"category": "LGC"}).json()
    assert [s["name"] for s in by_category["results"]] == ["Hospitalia Cabinet"]


def test_versions_list_and_create(world):
    client = world.client("member")
    url = f"/api/v1/solutions/{world.solution.pk}/versions/"
    response = client.post(url, {"number": "2026.1", "released_on": "2026-02-02"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["number"], created["released_on"], created["solution"]) == (
        "2026.1",
        "2026-02-02",
        str(world.solution.pk),
    )
    listed = client.get(url).json()
    assert [v["number"] for v in listed["results"]] == ["2026.1", "2025.1"]  # newest first
    detail = client.get(f"{url}{created['id']}/").json()
    assert detail == created
    entry = AuditEntry.objects.get(action="solution_version.create")
    assert entry.object_id == created["id"]
    assert entry.actor_id == world.member.pk


def test_a_version_is_only_found_under_its_own_solution(world):
    other = SolutionVersionFactory(solution__vendor=world.vendor)
    response = world.client("member").get(
        f"/api/v1/solutions/{world.solution.pk}/versions/{other.pk}/"
    )
    assert response.status_code == 404


# --- query counts --------------------------------------------------------------------------------
def _count_queries(client, url: str, page_size: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("ans_admin", "/api/v1/vendors/"),
        ("reviewer", "/api/v1/vendors/"),
        ("establishment", "/api/v1/vendors/"),
        ("member", "/api/v1/vendors/"),
        ("ans_admin", "/api/v1/vendors/{vendor}/members/"),
        ("member", "/api/v1/vendors/{vendor}/members/"),
        ("ans_admin", "/api/v1/solutions/"),
        ("member", "/api/v1/solutions/"),
        ("payment_officer", "/api/v1/solutions/"),
        ("ans_admin", "/api/v1/solutions/{solution}/versions/"),
        ("member", "/api/v1/solutions/{solution}/versions/"),
    ],
)
def test_list_query_count_is_the_same_at_page_sizes_1_and_100(world, who, url):
    for _ in range(4):
        VendorFactory()
        SolutionFactory(vendor=world.vendor)
        SolutionVersionFactory(solution=world.solution)
        vendor_member(world.vendor)
    url = url.format(vendor=world.vendor.pk, solution=world.solution.pk)
    client = world.client(who)
    small, small_rows = _count_queries(client, url, 1)
    large, large_rows = _count_queries(client, url, 100)
    assert small_rows == 1
    member_sees_one_vendor = who == "member" and url == "/api/v1/vendors/"
    assert large_rows == 1 if member_sees_one_vendor else large_rows > 1
    assert small == large
