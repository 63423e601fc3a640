"""Bad input on every write endpoint: a 400 in the documented shape naming the field, never a
500, and nothing written."""

import json

import pytest

from core.models import AuditEntry
from tests.factories.vendors import SolutionVersionFactory
from tests.vendors.helpers import assert_error
from vendors.models import Solution, SolutionVersion, Vendor

SIREN, SIRET = "732829320", "73282932000074"
GOOD_VENDOR = {"name": "Hospitalia", "siren": SIREN, "siret": SIRET}

# (payload, attr, code)
BAD_VENDOR_CREATE = [
    ({}, "name", "required"),
    ({}, "siren", "required"),
    ({}, "siret", "required"),
    ({**GOOD_VENDOR, "siren": "732829321"}, "siren", "invalid_siren"),
    ({**GOOD_VENDOR, "siren": "73282932"}, "siren", "invalid_siren"),
    ({**GOOD_VENDOR, "siren": "٧٣٢٨٢٩٣٢٠"}, "siren", "invalid_siren"),
    ({**GOOD_VENDOR, "siret": "73282932000075"}, "siret", "invalid_siret"),
    ({**GOOD_VENDOR, "siret": "55208131766522"}, "siret", "siret_siren_mismatch"),
    ({**GOOD_VENDOR, "iban": "FR7630006000011234567890188"}, "iban", "invalid_iban"),
    ({**GOOD_VENDOR, "iban": "XX00"}, "iban", "invalid_iban"),
    ({**GOOD_VENDOR, "iban": None}, "iban", "null"),
    ({**GOOD_VENDOR, "nie": "N°1"}, "nie", "invalid_nie"),
    ({**GOOD_VENDOR, "nie": "AB"}, "nie", "invalid_nie"),
    ({**GOOD_VENDOR, "name": ""}, "name", "blank"),
    ({**GOOD_VENDOR, "name": "   "}, "name", "blank"),
    ({**GOOD_VENDOR, "name": "x" * 301}, "name", "max_length"),
    ({**GOOD_VENDOR, "name": "nul\x00"}, "name", "null_characters_not_allowed"),
    ({**GOOD_VENDOR, "name": ["Hospitalia"]}, "name", "invalid"),
    ({**GOOD_VENDOR, "siren": True}, "siren", "invalid"),
    ({**GOOD_VENDOR, "siren": {"value": SIREN}}, "siren", "invalid"),
    ({**GOOD_VENDOR, "siren": "7" * 31}, "siren", "max_length"),
    ({**GOOD_VENDOR, "colour": "bleu"}, "colour", "unknown_field"),
]


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    BAD_VENDOR_CREATE,
    ids=[f"{attr}-{code}-{i}" for i, (_, attr, code) in enumerate(BAD_VENDOR_CREATE)],
)
def test_bad_vendor_create_is_a_400_naming_the_field(admin_client, payload, attr, code):
    response = admin_client.post("/api/v1/vendors/", payload)
    assert_error(response, 400, code, attr, "validation_error")
    assert not Vendor.objects.exists()
    assert not AuditEntry.objects.exists()


def test_duplicate_siren_is_a_400_unique(admin_client):
    assert admin_client.post("/api/v1/vendors/", GOOD_VENDOR).status_code == 201
    response = admin_client.post("/api/v1/vendors/", {**GOOD_VENDOR, "name": "Autre"})
    assert_error(response, 400, "unique", "siren", "validation_error")
    assert Vendor.objects.count() == 1


def test_duplicate_nie_is_a_400_unique(admin_client):
    admin_client.post("/api/v1/vendors/", {**GOOD_VENDOR, "nie": "ED0142"})
    response = admin_client.post(
        "/api/v1/vendors/",
        {"name": "Autre", "siren": "552081317", "siret": "55208131766522", "nie": "ed 0142"},
    )
    assert_error(response, 400, "unique", "nie", "validation_error")


def test_identifiers_are_normalised_on_input(admin_client):
    response = admin_client.post(
        "/api/v1/vendors/",
        {
            "name": "Hospitalia",
            "siren": "732 829 320",
            "siret": "732\u00a0829\u00a0320\u00a000074",
            "nie": "ed-0142",
            "iban": "fr76 3000 6000 0112 3456 7890 189",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["siren"], body["siret"], body["nie"], body["iban"]) == (
        SIREN,
        SIRET,
        "ED0142",
        "FR7630006000011234567890189",
    )
    assert body["enrolled_at"] is None


def test_read_only_enrolled_at_cannot_be_set(admin_client):
    response = admin_client.post(
        "/api/v1/vendors/", {**GOOD_VENDOR, "enrolled_at": "2025-01-01T00:00:00+01:00"}
    )
    assert response.status_code == 201
    assert Vendor.objects.get().enrolled_at is None


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ("{pas du json", "application/json", "parse_error"),
        (json.dumps(["a", "liste"]), "application/json", "invalid"),
        (json.dumps("texte"), "application/json", "invalid"),
        (json.dumps(None), "application/json", "null"),
    ],
)
def test_malformed_bodies_are_400(admin_client, body, content_type, code):
    response = admin_client.generic("POST", "/api/v1/vendors/", body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["code"] == code


def test_unsupported_media_type_is_415(admin_client):
    response = admin_client.generic("POST", "/api/v1/vendors/", "<x/>", content_type="text/xml")
    assert_error(response, 415, "unsupported_media_type", None)


# --- vendor update -------------------------------------------------------------------------------
BAD_VENDOR_UPDATE = [
    ({"siren": "732829321"}, "siren", "invalid_siren"),
    ({"siren": SIREN}, "siret", "siret_siren_mismatch"),  # SIRET no longer starts with it
    ({"siret": "73282932000074"}, "siret", "siret_siren_mismatch"),
    ({"iban": "FR00"}, "iban", "invalid_iban"),
    ({"nie": "!!!"}, "nie", "invalid_nie"),
    ({"name": ""}, "name", "blank"),
    ({"name": 12.5, "siren": []}, "siren", "invalid"),
    ({"enrolled": True}, "enrolled", "unknown_field"),
]


@pytest.mark.parametrize(("payload", "attr", "code"), BAD_VENDOR_UPDATE)
def test_bad_vendor_update_is_a_400_naming_the_field(admin_client, world, payload, attr, code):
    before = Vendor.objects.values().get(pk=world.vendor.pk)
    response = admin_client.patch(f"/api/v1/vendors/{world.vendor.pk}/", payload)
    assert_error(response, 400, code, attr, "validation_error")
    assert Vendor.objects.values().get(pk=world.vendor.pk) == before


def test_put_requires_the_mandatory_fields(admin_client, world):
    response = admin_client.put(f"/api/v1/vendors/{world.vendor.pk}/", {"name": "Seul"})
    assert_error(response, 400, "required", "siren", "validation_error")


# --- solutions ------------------------------------------------------------------------------------
BAD_SOLUTION_CREATE = [
    ({}, "name", "required"),
    ({}, "category", "required"),
    ({"name": "X", "category": "XYZ"}, "category", "does_not_exist"),
    ({"name": "X", "category": 42}, "category", "does_not_exist"),
    ({"name": "X", "category": ["DPI"]}, "category", "does_not_exist"),
    ({"name": "X", "category": None}, "category", "null"),
    ({"name": "", "category": "DPI"}, "name", "blank"),
    ({"name": "  ", "category": "DPI"}, "name", "blank"),
    ({"name": {"fr": "X"}, "category": "DPI"}, "name", "invalid"),
    ({"name": "x" * 301, "category": "DPI"}, "name", "max_length"),
    ({"name": "X", "category": "DPI", "editor": "moi"}, "editor", "unknown_field"),
    ({"name": "Hospitalia DPI", "category": "DPI"}, "name", "unique"),
]


@pytest.mark.parametrize(("payload", "attr", "code"), BAD_SOLUTION_CREATE)
def test_bad_solution_create_is_a_400_naming_the_field(world, payload, attr, code):
    count = Solution.objects.count()
    response = world.client("member").post("/api/v1/solutions/", payload)
    assert_error(response, 400, code, attr, "validation_error")
    assert Solution.objects.count() == count


def test_the_vendor_of_a_solution_cannot_be_chosen(world):
    response = world.client("member").post(
        "/api/v1/solutions/",
        {"name": "Hospitalia RI", "category": "RI", "vendor": str(world.other_vendor.pk)},
    )
    assert response.status_code == 201
    assert Solution.objects.get(pk=response.json()["id"]).vendor == world.vendor


BAD_SOLUTION_UPDATE = [
    ({"name": ""}, "name", "blank"),
    ({"category": "NOPE"}, "category", "does_not_exist"),
    ({"name": ["a"]}, "name", "invalid"),
    ({"versions": []}, "versions", "unknown_field"),
]


@pytest.mark.parametrize(("payload", "attr", "code"), BAD_SOLUTION_UPDATE)
def test_bad_solution_update_is_a_400_naming_the_field(world, payload, attr, code):
    response = world.client("member").patch(f"/api/v1/solutions/{world.solution.pk}/", payload)
    assert_error(response, 400, code, attr, "validation_error")
    world.solution.refresh_from_db()
    assert world.solution.name == "Hospitalia DPI"


def test_category_of_a_solution_with_versions_is_a_409(world):
    response = world.client("member").patch(
        f"/api/v1/solutions/{world.solution.pk}/", {"category": "LGC"}
    )
    assert_error(response, 409, "category_locked", "category")
    world.solution.refresh_from_db()
    assert world.solution.category.code == "DPI"


# --- versions ------------------------------------------------------------------------------------
BAD_VERSION_CREATE = [
    ({}, "number", "required"),
    ({"number": ""}, "number", "blank"),
    ({"number": "   "}, "number", "blank"),
    ({"number": None}, "number", "null"),
    ({"number": ["1.0"]}, "number", "invalid"),
    ({"number": "1" * 51}, "number", "max_length"),
    ({"number": "2025.1"}, "number", "unique"),
    ({"number": "2025.1 "}, "number", "unique"),
    ({"number": "3.0", "released_on": "hier"}, "released_on", "invalid"),
    ({"number": "3.0", "released_on": "2025-13-01"}, "released_on", "invalid"),
    ({"number": "3.0", "released_on": 20250101}, "released_on", "invalid"),
    ({"number": "3.0", "build": "42"}, "build", "unknown_field"),
]


@pytest.mark.parametrize(("payload", "attr", "code"), BAD_VERSION_CREATE)
def test_bad_version_create_is_a_400_naming_the_field(world, payload, attr, code):
    count = SolutionVersion.objects.count()
    response = world.client("member").post(
        f"/api/v1/solutions/{world.solution.pk}/versions/", payload
    )
    assert_error(response, 400, code, attr, "validation_error")
    assert SolutionVersion.objects.count() == count


def test_duplicate_version_number_is_400_unique_but_fine_on_another_solution(world):
    client = world.client("member")
    url = f"/api/v1/solutions/{world.solution.pk}/versions/"
    assert client.post(url, {"number": "2026.1", "released_on": "2026-01-15"}).status_code == 201
    assert_error(client.post(url, {"number": "2026.1"}), 400, "unique", "number")
    other = SolutionVersionFactory(solution__vendor=world.vendor).solution
    response = client.post(f"/api/v1/solutions/{other.pk}/versions/", {"number": "2026.1"})
    assert response.status_code == 201
    assert response.json()["solution"] == str(other.pk)


def test_invalid_body_on_a_hidden_solution_is_still_a_404(world):
    """Nothing about another vendor's solution leaks, not even through validation."""
    response = world.client("other_vendor").post(
        f"/api/v1/solutions/{world.solution.pk}/versions/", {"number": ["bad"]}
    )
    assert_error(response, 404, "not_found", None)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/solutions/", {"vendor": "pas-un-uuid"}),
        ("/api/v1/solutions/", {"page": "abc"}),
        ("/api/v1/vendors/", {"page": "999"}),
    ],
)
def test_bad_query_parameters_are_4xx_not_500(admin_client, world, url, params):
    response = admin_client.get(url, params)
    assert response.status_code in (400, 404)
    assert set(response.json()) == {"type", "errors"}
