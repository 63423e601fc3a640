"""Bad input on every write endpoint: a 400 (or 404/409/413/415) in api.md's shape, never a 500,
and nothing written."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEntry
from sons.models import EligibleEstablishment, Requirement, Scheme, Wave
from tests.factories.sons import EligibleEstablishmentFactory, finess, rpps, siret
from tests.sons.conftest import API, assert_error

S = f"{API}/schemes/HOP-DPI-X1"

SCHEME = {
    "code": "MDV-LGC-VA8",
    "wave": "VA2",
    "category": "LGC",
    "submission_opens": "2026-01-05",
    "submission_closes": "2027-01-29",
    "order_deadline": "2027-03-31",
    "installation_deadline": "2027-09-30",
    "payment_deadline": "2027-12-17T12:00:00+01:00",
    "price_cap": "2500.00",
}
REQUIREMENT = {
    "code": "SC.NEW.01",
    "title": "Nouvelle exigence",
    "statement": "Le logiciel DOIT…",
    "scenarios": [
        {
            "code": "SC.NEW.01.01",
            "description": "Parcours",
            "proofs": [{"code": "SC.NEW.01.01.01", "nature": "01", "text": "Vidéo"}],
        }
    ],
}


def _with(base: dict, **changes) -> dict:
    body = json.loads(json.dumps(base))
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


# --- waves ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code", "attr"),
    [
        ({}, "required", "code"),
        ({"code": "VA3"}, "required", "name"),
        ({"code": 3, "name": "x"}, "invalid_code", "code"),
        ({"code": ["VA3"], "name": "x"}, "invalid", "code"),
        ({"code": "va3", "name": "x"}, "invalid_code", "code"),
        ({"code": "VA2", "name": "x"}, "unique", "code"),
        ({"code": "VA3", "name": None}, "null", "name"),
        ({"code": "VA3", "name": "x", "colour": "bleu"}, "unknown_field", "colour"),
        ({"code": "VA3", "name": "x", "id": "x"}, None, None),  # read-only fields are ignored
    ],
)
def test_wave_create_bad_input(admin_client, scheme, body, code, attr):
    response = admin_client.post(f"{API}/waves/", body, format="json")
    if code is None:
        assert response.status_code == 201
        return
    assert_error(response, 400, code, attr)
    assert not Wave.objects.filter(name="x").exists()


def test_wave_body_that_is_not_an_object(admin_client, db):
    assert_error(admin_client.post(f"{API}/waves/", [1, 2], format="json"), 400, "invalid")
    response = admin_client.post(f"{API}/waves/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_wave_code_change_refused_once_used(admin_client, scheme):
    response = admin_client.patch(f"{API}/waves/VA2/", {"code": "VA7"}, format="json")
    assert_error(response, 409, "WAVE_CODE_FROZEN")


# --- schemes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"code": ...}, "required", "code"),
        ({"price_cap": ...}, "required", "price_cap"),
        ({"order_deadline": ...}, "required", "order_deadline"),
        ({"wave": "VA42"}, "does_not_exist", "wave"),
        ({"category": "XYZ"}, "does_not_exist", "category"),
        ({"category": {"code": "LGC"}}, "invalid", "category"),
        ({"category": "LGC\u0000"}, "null_characters_not_allowed", "category"),
        ({"wave": ""}, "null", "wave"),
        ({"sector": "HOP"}, "SECTOR_MISMATCH", "sector"),
        ({"code": "mdv lgc"}, "invalid_code", "code"),
        ({"code": "HOP-DPI-X1"}, "unique", "code"),
        ({"price_cap": "abc"}, "invalid", "price_cap"),
        ({"price_cap": "-1"}, "min_value", "price_cap"),
        ({"price_cap": "1.234"}, "max_decimal_places", "price_cap"),
        ({"price_cap": "1e40"}, "max_digits", "price_cap"),
        ({"price_cap": "NaN"}, "invalid", "price_cap"),
        ({"advance_rate": "1.5"}, "max_value", "advance_rate"),
        ({"advance_rate": 0.305}, "max_decimal_places", "advance_rate"),
        ({"changes_due_days": "quinze"}, "invalid", "changes_due_days"),
        ({"changes_due_days": 0}, "min_value", "changes_due_days"),
        ({"pre_referencing_days": 10**12}, "max_value", "pre_referencing_days"),
        ({"tacit_acceptance_days": -3}, "min_value", "tacit_acceptance_days"),
        ({"evidence_max_bytes": 10**30}, "max_value", "evidence_max_bytes"),
        ({"acceptance": "VSR"}, "invalid_choice", "acceptance"),
        ({"uses_eligible_base": "peut-être"}, "invalid", "uses_eligible_base"),
        ({"order_deadline": "2027-02-30"}, "invalid", "order_deadline"),
        ({"order_deadline": "31/03/2027"}, "invalid", "order_deadline"),
        ({"order_deadline": "2027-03-31T12:00:00"}, "offset_required", "order_deadline"),
        ({"submission_opens": "2026-01-05T00:00:00"}, "offset_required", "submission_opens"),
        ({"order_deadline": 20270331}, "invalid", "order_deadline"),
        ({"order_deadline": None}, "null", "order_deadline"),
        ({"order_deadline": "0001-01-01T00:30:00+01:00"}, "overflow", "order_deadline"),
        ({"order_deadline": "2025-12-31"}, "CALENDAR_ORDER", "order_deadline"),
        ({"submission_closes": "2026-01-04"}, "CALENDAR_ORDER", "submission_closes"),
        ({"payment_deadline": "2027-09-29"}, "CALENDAR_ORDER", "payment_deadline"),
        ({"current_requirement_set_version": 3, "colour": 1}, "unknown_field", "colour"),
        ({"name": "x" * 301}, "max_length", "name"),
        ({"name": "nul\x00"}, "null_characters_not_allowed", "name"),
    ],
)
def test_scheme_create_bad_input(admin_client, scheme, changes, code, attr):
    response = admin_client.post(f"{API}/schemes/", _with(SCHEME, **changes), format="json")
    assert_error(response, 400, code, attr)
    assert not Scheme.objects.filter(code="MDV-LGC-VA8").exists()


def test_scheme_update_bad_input_and_frozen_identity(admin_client, scheme):
    url = f"{S}/"
    assert_error(admin_client.patch(url, {"price_cap": []}, format="json"), 400, "invalid")
    assert_error(
        admin_client.patch(url, {"installation_deadline": "2020-01-01"}, format="json"),
        400,
        "CALENDAR_ORDER",
        "installation_deadline",
    )
    assert_error(
        admin_client.patch(url, {"category": "PFI"}, format="json"),
        409,
        "SCHEME_IDENTITY_FROZEN",
        "category",
    )
    assert_error(admin_client.put(url, {"price_cap": "1.00"}, format="json"), 400, "required")
    scheme.refresh_from_db()
    assert scheme.category.code == "DPI"


# --- requirements --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"title": ...}, "required", "title"),
        ({"statement": ""}, "blank", "statement"),
        ({"code": "lgc dmp 01"}, "invalid_code", "code"),
        ({"code": "X" * 41}, "max_length", "code"),
        ({"code": "SC.INS.01"}, "unique", "code"),
        ({"nature": "maybe"}, "invalid_choice", "nature"),
        ({"profile": ""}, "blank", "profile"),
        ({"position": -1}, "min_value", "position"),
        ({"evidence_required": "oui-non"}, "invalid", "evidence_required"),
        ({"scenarios": "abc"}, "not_a_list", "scenarios"),
        ({"scenarios": [1]}, "invalid", "scenarios.0"),
        ({"scenarios": [{"code": "A.01"}]}, "required", "scenarios.0.description"),
        (
            {"scenarios": [{"code": "A.01", "description": "d", "extra": 1}]},
            "unknown_field",
            "scenarios.0.extra",
        ),
        (
            {"scenarios": [{"code": "A.01", "description": "d", "proofs": {"code": "P"}}]},
            "not_a_list",
            "scenarios.0.proofs",
        ),
        (
            {
                "scenarios": [
                    {"code": "A.01", "description": "d", "proofs": [{"code": "P.1", "text": "t"}]}
                ]
            },
            "required",
            "scenarios.0.proofs.0.nature",
        ),
        (
            {
                "scenarios": [
                    {"code": "A.01", "description": "d"},
                    {"code": "A.01", "description": "e"},
                ]
            },
            "DUPLICATE_CODE",
            "scenarios.1.code",
        ),
        (
            {
                "scenarios": [
                    {
                        "code": "A.01",
                        "description": "d",
                        "proofs": [
                            {"code": "P.1", "nature": "n", "text": "t"},
                            {"code": "P.1", "nature": "n", "text": "u"},
                        ],
                    }
                ]
            },
            "DUPLICATE_CODE",
            "scenarios.0.proofs.1.code",
        ),
        ({"requirement_set": 3}, "unknown_field", "requirement_set"),
    ],
)
def test_requirement_create_bad_input(admin_client, scheme, changes, code, attr):
    before = (AuditEntry.objects.count(), scheme.requirement_sets.count())
    response = admin_client.post(f"{S}/requirements/", _with(REQUIREMENT, **changes), format="json")
    assert_error(response, 400, code, attr)
    assert (AuditEntry.objects.count(), scheme.requirement_sets.count()) == before


def test_requirement_writes_to_a_published_version_are_409(admin_client, scheme):
    for method, url in [
        ("post", f"{S}/requirements/?version=1"),
        ("patch", f"{S}/requirements/SC.INS.01/?version=1"),
        ("delete", f"{S}/requirements/SC.INS.01/?version=1"),
    ]:
        body = REQUIREMENT if method == "post" else {"title": "x"}
        response = getattr(admin_client, method)(url, body, format="json")
        assert_error(response, 409, "VERSION_FROZEN", "version")
    assert scheme.requirement_sets.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        f"{S}/requirements/?version=abc",
        f"{S}/requirements/?version=0",
        f"{S}/requirements/?version=-1",
        f"{S}/requirements/?version=99999999999999",
    ],
)
def test_bad_version_parameter_is_400(admin_client, scheme, url):
    assert_error(admin_client.get(url), 400, "invalid", "version")


def test_nul_bytes_in_query_parameters_are_400_before_any_query(admin_client, scheme):
    assert_error(
        admin_client.get(f"{S}/requirements/?version=%00"),
        400,
        "null_characters_not_allowed",
        "version",
    )


@pytest.mark.parametrize(
    "url",
    [
        f"{S}/requirements/?version=7",
        f"{S}/requirements/NOPE.01/",
        f"{API}/schemes/NOPE/requirements/",
        f"{API}/schemes/{'A' * 200}/",
        f"{S}/requirement-sets/7/",
        f"{S}/requirement-sets/draft/",
        f"{S}/eligible-establishments/{finess(99)}/",
    ],
)
def test_unknown_objects_are_404(admin_client, scheme, url):
    assert_error(admin_client.get(url), 404, "not_found")


@pytest.mark.parametrize("url", [f"{S}/requirements/%00/", f"{API}/schemes/%00/"])
def test_a_nul_in_the_path_is_400(admin_client, scheme, url):
    assert_error(admin_client.get(url), 400, "null_characters_not_allowed", None)


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/schemes/?wave=%00",
        f"{API}/schemes/?category=%00",
        f"{S}/requirements/?profile=%00",
        f"{S}/requirements/?section=%00",
        f"{S}/eligible-establishments/?establishment=%00",
    ],
)
def test_bad_filters_are_400(admin_client, scheme, url):
    assert_error(admin_client.get(url), 400)


def test_write_to_an_unknown_scheme_is_404_before_input_is_read(admin_client, db):
    response = admin_client.post(f"{API}/schemes/NOPE/requirements/", {}, format="json")
    assert_error(response, 404, "not_found")


# --- requirement sets ----------------------------------------------------------------------------
def test_publish_bad_input(admin_client, scheme):
    url = f"{S}/requirement-sets/publish/"
    assert_error(admin_client.post(url, {"colour": 1}, format="json"), 400, "unknown_field")
    assert_error(admin_client.post(url, {"notes": ["a"]}, format="json"), 400, "invalid", "notes")
    assert_error(admin_client.post(url, {}, format="json"), 409, "NO_DRAFT")
    assert_error(admin_client.post(f"{S}/requirement-sets/discard/"), 409, "NO_DRAFT")


# --- eligible base -------------------------------------------------------------------------------
def _bad_key(ident: str) -> str:
    return ident[:-1] + str((int(ident[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("body", "code", "attr"),
    [
        ({}, "required", "establishment"),
        ({"establishment": _bad_key(finess(1))}, "invalid_finess", "establishment"),
        ({"establishment": "99" + finess(1)[2:]}, "invalid_finess", "establishment"),
        ({"establishment": _bad_key(rpps(1))}, "invalid_rpps", "establishment"),
        ({"establishment": _bad_key(siret(1))}, "invalid_siret", "establishment"),
        ({"establishment": "12345"}, "invalid_finess", "establishment"),
        ({"establishment": "\u0667\u0665" + "\u0660" * 7}, "invalid_identifier", "establishment"),
        ({"establishment": 750000001}, None, "establishment"),
        ({"establishment": finess(1), "max_amount": "-5"}, "min_value", "max_amount"),
        ({"establishment": finess(1), "max_amount": "beaucoup"}, "invalid", "max_amount"),
        ({"establishment": finess(1), "max_amount": [1]}, "invalid", "max_amount"),
        ({"establishment": finess(1), "name": "x" * 301}, "max_length", "name"),
        ({"establishment": finess(1), "finess": "x"}, "unknown_field", "finess"),
        ({"establishment": "EXISTING"}, "unique", "establishment"),
    ],
)
def test_eligible_create_bad_input(admin_client, scheme, body, code, attr):
    existing = EligibleEstablishmentFactory(scheme=scheme)
    if body.get("establishment") == "EXISTING":
        body = {"establishment": existing.establishment}
    response = admin_client.post(f"{S}/eligible-establishments/", body, format="json")
    assert_error(response, 400, code, attr)
    assert EligibleEstablishment.objects.count() == 1


def test_eligible_update_bad_input(admin_client, scheme):
    first, second = EligibleEstablishmentFactory.create_batch(2, scheme=scheme)
    url = f"{S}/eligible-establishments/{first.establishment}/"
    assert_error(admin_client.patch(url, {"max_amount": "x"}, format="json"), 400, "invalid")
    assert_error(
        admin_client.patch(url, {"establishment": second.establishment}, format="json"),
        400,
        "unique",
        "establishment",
    )
    assert_error(admin_client.put(url, {"name": "x"}, format="json"), 400, "required")


def _upload(client, content, name="base.csv", content_type="text/csv"):
    return client.post(
        f"{S}/eligible-establishments/upload/",
        {"file": SimpleUploadedFile(name, content, content_type)},
        format="multipart",
    )


def test_upload_refusals(admin_client, scheme, monkeypatch):
    url = f"{S}/eligible-establishments/upload/"
    assert_error(admin_client.post(url, {}, format="multipart"), 400, "required", "file")
    assert_error(admin_client.post(url, {"file": "texte"}, format="multipart"), 400, "invalid")
    assert_error(admin_client.post(url, {"file": "x"}, format="json"), 415)
    assert_error(_upload(admin_client, b""), 400, "empty", "file")
    assert_error(_upload(admin_client, b"\n\n  \n"), 400, "invalid_csv", "file")
    assert_error(_upload(admin_client, b"%PDF-1.7\x00\x01"), 415, "unsupported_file_type")
    latin1 = "establishment;max_amount;name\n750000001;1;Hôpital\n".encode("latin-1")
    assert_error(_upload(admin_client, latin1), 400, "invalid_encoding", "file")
    assert_error(_upload(admin_client, b"finess;montant\n1;2\n"), 400, "invalid_csv", "file")
    assert_error(
        _upload(admin_client, b"establishment;max_amount;max_amount\n"), 400, "invalid_csv"
    )
    assert_error(
        _upload(admin_client, b'establishment;max_amount\n"750000001;1\n'), 400, "invalid_csv"
    )
    monkeypatch.setattr("sons.api.ELIGIBLE_CSV_MAX_BYTES", 10)
    assert_error(_upload(admin_client, b"establishment;max_amount\n"), 413, "file_too_large")
    assert not EligibleEstablishment.objects.exists()
    assert AuditEntry.objects.count() == 0


# --- robustness: junk in every field of every write, never a 500 ---------------------------------
JUNK = [None, [], {}, [[]], "", " ", "x" * 5000, -1, 10**40, 1.5, True, "\x00", "2025-13-40"]
WRITE_BODIES = [
    ("post", f"{API}/waves/", {"code": "VA3", "name": "Vague 3"}),
    ("patch", f"{API}/waves/VA2/", {"code": "VA2", "name": "Vague 2"}),
    ("post", f"{API}/schemes/", SCHEME),
    ("patch", f"{S}/", SCHEME),
    ("post", f"{S}/requirements/", REQUIREMENT),
    ("put", f"{S}/requirements/SC.INS.01/", REQUIREMENT),
    ("post", f"{S}/eligible-establishments/", {"establishment": finess(8), "max_amount": "1"}),
    ("post", f"{S}/requirement-sets/publish/", {"notes": "n"}),
]


@pytest.mark.parametrize(
    ("method", "url", "body"), WRITE_BODIES, ids=[u for _, u, _ in WRITE_BODIES]
)
def test_junk_in_any_field_is_never_a_500(admin_client, scheme, method, url, body):
    for field in body:
        for junk in JUNK:
            response = getattr(admin_client, method)(url, {**body, field: junk}, format="json")
            assert response.status_code < 500, (field, junk)
            if response.status_code >= 400:
                assert_error(response, response.status_code)
    assert Requirement.objects.filter(code="SC.NEW.01", title="x" * 5000).count() == 0
