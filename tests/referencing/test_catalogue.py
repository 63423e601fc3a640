"""The public catalogue: active referencings only, filters, open-data exports and their data
dictionary, a constant number of queries, and no 500 whatever the query string."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referencing_app import selectors, services
from referencing_app.models import Dossier, DossierState, Referencing, ReferencingState
from referencing_app.serializers import CatalogueEntrySerializer
from referencing_app.sweeps import sweep_expire_referencings
from sons.models import Category, RequirementSet
from tests.factories.referencing import dossier_in, make_world
from tests.factories.sons import SchemeFactory, WaveFactory
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory, VendorFactory

URL = "/api/v1/catalogue/"
CSV_URL = URL + "export.csv/"  # the router's trailing slash; without it, a 301 to here
JSON_URL = URL + "export.json/"
DICTIONARY_URL = URL + "dictionary/"

_numbers = itertools.count(1)


# --- builders ---------------------------------------------------------------------------------------
def scheme(category: str = "DPI", wave: str = "VA2"):
    """A scheme `SECTOR-CATEGORY-WAVE` (unique per call)."""
    cat = Category.objects.select_related("sector").get(code=category)
    return SchemeFactory(
        category=cat,
        wave=WaveFactory(code=wave, name=f"Vague {wave[-1]}"),
        code=f"{cat.sector.code}-{cat.code}-{wave}-{next(_numbers)}",
    )


def referencing(
    scheme,
    *,
    vendor=None,
    solution: str | None = None,
    state: str = ReferencingState.ACTIVE,
    reference: str | None = None,
) -> Referencing:
    """An approved dossier and its referencing, written directly (fast, but valid objects)."""
    vendor = vendor or VendorFactory()
    version = SolutionVersionFactory(
        solution=SolutionFactory(
            vendor=vendor, category=scheme.category, name=solution or f"Logiciel {next(_numbers)}"
        )
    )
    now = timezone.now()
    requirement_set, _ = RequirementSet.objects.get_or_create(
        scheme=scheme, version=1, defaults={"published_at": now}
    )
    dossier = Dossier.objects.create(
        scheme=scheme,
        solution_version=version,
        vendor=vendor,
        requirement_set=requirement_set,
        state=DossierState.APPROVED,
        charter_accepted_at=now,
        complete=True,
        revision=1,
        submitted_at=now,
        complete_deposit_at=now,
        decided_at=now,
        ended_at=now,
    )
    return Referencing.objects.create(
        reference=reference or f"{scheme.code}-2025-{next(_numbers):04d}",
        dossier=dossier,
        scheme=scheme,
        solution_version=version,
        vendor=vendor,
        state=state,
        valid_from=now,
        valid_until=scheme.payment_deadline,
    )


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {entry["id"] for entry in response.json()["results"]}


def _csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def _dictionary_fields(api) -> list[str]:
    return [f["field"] for f in api.get(DICTIONARY_URL).json()["fields"]]


@pytest.fixture
def dpi(db):
    return scheme("DPI", "VA2")


# --- public, active only ------------------------------------------------------------------------------
def test_catalogue_is_public(api, dpi):
    entry = referencing(dpi)

    assert _ids(api.get(URL)) == {str(entry.pk)}
    for path in (CSV_URL, JSON_URL, DICTIONARY_URL):
        assert api.get(path).status_code == 200, path


@pytest.mark.parametrize("path", [CSV_URL, JSON_URL])
def test_export_paths_without_trailing_slash_redirect(api, db, path):
    response = api.get(path.rstrip("/"), {"q": "x"})
    assert response.status_code == 301
    assert response["Location"] == path + "?q=x"


def test_catalogue_ignores_credentials_even_bad_ones(api, dpi):
    entry = referencing(dpi)
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert _ids(api.get(URL)) == {str(entry.pk)}
    assert api.get(CSV_URL).status_code == 200


def test_catalogue_is_read_only(api, admin_client, dpi):
    referencing(dpi)
    for client in (api, admin_client):
        assert client.post(URL, {}, format="json").status_code == 405
        assert client.delete(URL).status_code == 405


def test_only_active_referencings_appear(api, db):
    """Through the real services: approve, then suspend, revoke, expire, reinstate."""
    world = make_world()
    solution = world.version.solution

    def approved():
        version = SolutionVersionFactory(solution=solution)
        dossier = dossier_in(dataclasses.replace(world, version=version), "approved")
        return Referencing.objects.get(dossier=dossier)

    active, suspended, revoked, revoked_while_suspended, expired = (approved() for _ in range(5))
    in_review = dossier_in(
        dataclasses.replace(world, version=SolutionVersionFactory(solution=solution)), "in_review"
    )
    rejected = dossier_in(
        dataclasses.replace(world, version=SolutionVersionFactory(solution=solution)), "rejected"
    )
    assert len(_ids(api.get(URL))) == 5

    services.referencing_suspend(actor=world.admin, referencing=suspended, reason="Enquête")
    services.referencing_revoke(actor=world.admin, referencing=revoked, reason="Fraude")
    services.referencing_suspend(
        actor=world.admin, referencing=revoked_while_suspended, reason="Enquête"
    )
    services.referencing_revoke(
        actor=world.admin, referencing=revoked_while_suspended, reason="Fraude"
    )
    now = timezone.now()
    services.referencing_set_validity(
        actor=world.admin, referencing=expired, valid_until=now + dt.timedelta(days=1)
    )
    assert sweep_expire_referencings(now + dt.timedelta(days=2)) == 1

    states = dict(Referencing.objects.values_list("pk", "state"))
    assert states[suspended.pk] == ReferencingState.SUSPENDED
    assert states[revoked.pk] == states[revoked_while_suspended.pk] == ReferencingState.REVOKED
    assert states[expired.pk] == ReferencingState.EXPIRED
    assert _ids(api.get(URL)) == {str(active.pk)}
    body = api.get(URL).json()
    assert body["results"][0]["state"] == "active"
    assert {in_review.pk, rejected.pk}.isdisjoint(
        Referencing.objects.values_list("dossier_id", flat=True)
    )

    services.referencing_reinstate(actor=world.admin, referencing=suspended)
    assert _ids(api.get(URL)) == {str(active.pk), str(suspended.pk)}
    for path in (CSV_URL, JSON_URL):
        exported = _csv_rows(api.get(path))[1:] if path == CSV_URL else api.get(path).json()
        assert len(exported) == 2, path


@pytest.mark.parametrize(
    "state", [ReferencingState.SUSPENDED, ReferencingState.REVOKED, ReferencingState.EXPIRED]
)
def test_inactive_states_are_absent_from_list_and_exports(api, dpi, state):
    shown = referencing(dpi)
    referencing(dpi, state=state)

    assert _ids(api.get(URL)) == {str(shown.pk)}
    assert [row[0] for row in _csv_rows(api.get(CSV_URL))[1:]] == [str(shown.pk)]
    assert [e["id"] for e in api.get(JSON_URL).json()] == [str(shown.pk)]


def test_entry_carries_vendor_and_solution_names(api, db):
    lgc = scheme("LGC", "VA1")
    vendor = VendorFactory(name="Cegedim Santé")
    entry = referencing(lgc, vendor=vendor, solution="Crossway", reference="MDV-LGC-VA1-2022-0007")

    (data,) = api.get(URL).json()["results"]
    assert data == {
        "id": str(entry.pk),
        "reference": "MDV-LGC-VA1-2022-0007",
        "scheme": lgc.code,
        "category": "LGC",
        "sector": "MDV",
        "wave": "VA1",
        "vendor": str(vendor.pk),
        "vendor_name": "Cegedim Santé",
        "vendor_siren": vendor.siren,
        "solution": "Crossway",
        "solution_version": str(entry.solution_version_id),
        "version": entry.solution_version.number,
        "state": "active",
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
    }
    assert dt.datetime.fromisoformat(data["valid_from"]) == entry.valid_from
    assert dt.datetime.fromisoformat(data["valid_until"]) == entry.valid_until
    assert data["valid_until"].endswith(("+01:00", "+02:00"))  # shown in Paris time


def test_catalogue_is_ordered_by_reference_and_paginated(api, dpi):
    for n in (3, 1, 2):
        referencing(dpi, reference=f"HOP-DPI-VA2-2025-{n:04d}")

    first = api.get(URL, {"page_size": 2}).json()
    assert [e["reference"] for e in first["results"]] == [
        "HOP-DPI-VA2-2025-0001",
        "HOP-DPI-VA2-2025-0002",
    ]
    assert first["next"]
    second = api.get(first["next"]).json()
    assert [e["reference"] for e in second["results"]] == ["HOP-DPI-VA2-2025-0003"]
    assert second["next"] is None


def test_pages_count_and_last_page(api, dpi):
    for n in range(1, 6):
        referencing(dpi, reference=f"HOP-DPI-VA2-2025-{n:04d}", solution=f"Crossway {n}")
    referencing(dpi, reference="HOP-DPI-VA2-2025-0009", state=ReferencingState.REVOKED)

    second = api.get(URL, {"page_size": 2, "page": 2}).json()
    assert second["count"] == 5
    assert [e["reference"][-4:] for e in second["results"]] == ["0003", "0004"]
    assert second["previous"]
    assert second["next"]
    last = api.get(URL, {"page_size": 2, "page": "last"}).json()
    assert [e["reference"][-4:] for e in last["results"]] == ["0005"]
    assert last["count"] == 5
    assert last["next"] is None
    searched = api.get(URL, {"page_size": 2, "page": 2, "q": "crossway"}).json()
    assert searched["count"] == 5
    assert len(searched["results"]) == 2
    assert api.get(URL, {"page_size": 2, "page": 4}).status_code == 404
    empty = api.get(URL, {"q": "absent"}).json()
    assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)


# --- filters -------------------------------------------------------------------------------------------
@pytest.fixture
def catalogue_world(db):
    """Five active referencings across categories, waves and vendors, plus a suspended one."""
    hop_va2, hop_va1, lgc_va2 = scheme("DPI", "VA2"), scheme("DPI", "VA1"), scheme("LGC", "VA2")
    maincare = VendorFactory(name="Maincare Solutions")
    cegedim = VendorFactory(name="CEGEDIM Santé")
    return {
        "schemes": (hop_va2, hop_va1, lgc_va2),
        "maincare": maincare,
        "cegedim": cegedim,
        "m1": referencing(hop_va2, vendor=maincare, solution="M-Crossway Hôpital"),
        "m2": referencing(hop_va1, vendor=maincare, solution="M-Crossway Hôpital 2"),
        "c1": referencing(lgc_va2, vendor=cegedim, solution="HelloDoc"),
        "c2": referencing(hop_va2, vendor=cegedim, solution="Dx Care", reference="SPECIAL-0042"),
        "o1": referencing(lgc_va2, solution="Weda"),
        "hidden": referencing(
            hop_va2, vendor=maincare, solution="Hellodoc", state=ReferencingState.SUSPENDED
        ),
    }


def _expect(api, params, world, *names):
    assert _ids(api.get(URL, params)) == {str(world[n].pk) for n in names}, params
    assert {e["id"] for e in api.get(JSON_URL, params).json()} == {
        str(world[n].pk) for n in names
    }, params
    assert {row[0] for row in _csv_rows(api.get(CSV_URL, params))[1:]} == {
        str(world[n].pk) for n in names
    }, params


def test_filter_by_scheme(api, catalogue_world):
    hop_va2, hop_va1, _ = catalogue_world["schemes"]
    _expect(api, {"scheme": hop_va2.code}, catalogue_world, "m1", "c2")
    _expect(api, {"scheme": hop_va1.code}, catalogue_world, "m2")
    _expect(api, {"scheme": "XXX-DPI-VA9"}, catalogue_world)


def test_filter_by_category(api, catalogue_world):
    _expect(api, {"category": "DPI"}, catalogue_world, "m1", "m2", "c2")
    _expect(api, {"category": "LGC"}, catalogue_world, "c1", "o1")
    _expect(api, {"category": "SGL"}, catalogue_world)


def test_filter_by_wave(api, catalogue_world):
    _expect(api, {"wave": "VA1"}, catalogue_world, "m2")
    _expect(api, {"wave": "VA2"}, catalogue_world, "m1", "c1", "c2", "o1")


def test_filter_by_vendor_id_siren_or_name(api, catalogue_world):
    maincare = catalogue_world["maincare"]
    _expect(api, {"vendor": str(maincare.pk)}, catalogue_world, "m1", "m2")
    _expect(api, {"vendor": maincare.siren}, catalogue_world, "m1", "m2")
    _expect(api, {"vendor": "maincare"}, catalogue_world, "m1", "m2")
    _expect(api, {"vendor": "00000000-0000-0000-0000-000000000000"}, catalogue_world)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("crossway", ("m1", "m2")),  # solution name, other case
        ("CROSSWAY", ("m1", "m2")),
        ("hellodoc", ("c1",)),  # the suspended "Hellodoc" stays hidden
        ("cegedim", ("c1", "c2")),  # vendor name, other case
        ("Cegedim", ("c1", "c2")),
        ("special-00", ("c2",)),  # reference
        ("nothing-like-this", ()),
    ],
)
def test_free_text_search_is_case_insensitive(api, catalogue_world, q, expected):
    _expect(api, {"q": q}, catalogue_world, *expected)


def test_free_text_search_ignores_case_of_accented_letters(api, catalogue_world):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's LIKE folds ASCII letters only")
    _expect(api, {"q": "CROSSWAY HÔPITAL"}, catalogue_world, "m1", "m2")
    _expect(api, {"q": "cegedim santé"}, catalogue_world, "c1", "c2")


def test_filters_combine(api, catalogue_world):
    _expect(api, {"category": "DPI", "wave": "VA2", "q": "cegedim"}, catalogue_world, "c2")
    _expect(api, {"vendor": "maincare", "wave": "VA1"}, catalogue_world, "m2")


@pytest.mark.parametrize("q", ["%", "_", "\\", "'", '"', "%%%", "M-Crossway%"])
def test_like_wildcards_are_literal(api, catalogue_world, q):
    _expect(api, {"q": q}, catalogue_world)


# --- exports --------------------------------------------------------------------------------------------
def test_csv_export(api, catalogue_world):
    response = api.get(CSV_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = _csv_rows(response)
    assert rows[0] == _dictionary_fields(api)
    body = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(body) == {str(catalogue_world[n].pk) for n in ("m1", "m2", "c1", "c2", "o1")}
    c2 = body[str(catalogue_world["c2"].pk)]
    assert c2["reference"] == "SPECIAL-0042"
    assert c2["vendor_name"] == "CEGEDIM Santé"
    assert c2["solution"] == "Dx Care"
    assert c2["state"] == "active"
    json_entries = {e["id"]: e for e in api.get(JSON_URL).json()}
    for entry_id, row in body.items():
        assert row == {k: "" if v is None else str(v) for k, v in json_entries[entry_id].items()}


def test_csv_export_quotes_separators_and_line_breaks(api, dpi):
    entry = referencing(
        dpi, vendor=VendorFactory(name='Éditeur "A; B"\nSA'), solution="Logiciel; version\r\n2"
    )

    rows = _csv_rows(api.get(CSV_URL))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["id"] == str(entry.pk)
    assert row["vendor_name"] == 'Éditeur "A; B"\nSA'
    assert row["solution"] == "Logiciel; version\r\n2"


def test_csv_export_has_header_even_when_empty(api, db):
    rows = _csv_rows(api.get(CSV_URL))
    assert rows == [_dictionary_fields(api)]


def test_json_export(api, catalogue_world):
    response = api.get(JSON_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    entries = json.loads(response.content)
    assert isinstance(entries, list)
    assert {e["id"] for e in entries} == {
        str(catalogue_world[n].pk) for n in ("m1", "m2", "c1", "c2", "o1")
    }
    listed = {e["id"]: e for e in api.get(URL, {"page_size": 100}).json()["results"]}
    assert {e["id"]: e for e in entries} == listed


def test_json_export_is_not_paginated(api, dpi):
    for _ in range(4):
        referencing(dpi)
    assert len(api.get(JSON_URL, {"page_size": 1}).json()) == 4


def test_dictionary_lists_every_exported_field(api, catalogue_world):
    response = api.get(DICTIONARY_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["dataset"]
    fields = [f["field"] for f in body["fields"]]
    assert len(fields) == len(set(fields))
    for field in body["fields"]:
        assert set(field) == {"field", "type", "description"}
        assert field["type"]
        assert field["description"]
    assert fields == list(CatalogueEntrySerializer().fields)
    assert fields == list(api.get(URL).json()["results"][0])
    assert fields == list(api.get(JSON_URL).json()[0])
    assert fields == _csv_rows(api.get(CSV_URL))[0]


# --- query counts -------------------------------------------------------------------------------------
def _queries(api, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL, params)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_page_size(api, catalogue_world):
    one = _queries(api, {"page_size": 1})
    hundred = _queries(api, {"page_size": 100})

    assert len(api.get(URL, {"page_size": 100}).json()["results"]) == 5
    assert one == hundred
    assert hundred <= 3  # page ids with the total, schemes, rows
    assert _queries(api, {"page_size": 100, "q": "crossway", "category": "DPI"}) == hundred


def test_scheme_codes_are_kept_per_process_and_forgotten_when_a_scheme_changes(
    api, catalogue_world, settings
):
    settings.CATALOGUE_SCHEME_CODES_TTL = 3600
    _queries(api, {})  # fills the cache
    assert _queries(api, {}) == 2  # page ids with the total, rows: the codes come from the cache

    dpi = Referencing.objects.filter(state=ReferencingState.ACTIVE).first().scheme
    dpi.code = "HOP-DPI-RENOMME"
    dpi.save()  # the signal forgets the cached codes
    codes = {row["scheme"] for row in api.get(URL, {"page_size": 100}).json()["results"]}
    assert "HOP-DPI-RENOMME" in codes

    known = dict(selectors._scheme_codes_cache)  # as another process would still hold them
    new = scheme("LGC", "VA1")
    referencing(new)
    selectors._scheme_codes_cache.update(known)
    response = api.get(URL, {"scheme": new.code})  # an id the cache does not know: read at once
    assert [row["scheme"] for row in response.json()["results"]] == [new.code]


@pytest.mark.parametrize("path", [CSV_URL, JSON_URL])
def test_export_query_count_does_not_grow_with_rows(api, dpi, path):
    def count():
        with CaptureQueriesContext(connection) as queries:
            response = api.get(path)
            if response.streaming:
                b"".join(response.streaming_content)
        return len(queries)

    referencing(dpi)
    few = count()
    for _ in range(4):
        referencing(dpi)
    assert count() == few <= 2  # schemes, rows


# --- bad query strings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 10_000},
        {"scheme": "' OR 1=1 --"},
        {"q": "'; DROP TABLE referencing_app_referencing; --"},
        {"q": "🙂 é ß \u202e"},
        {"q": " "},
        {"scheme": "HOP-DPI-VA2" * 50},
        {"category": "x" * 500, "wave": "y" * 500},
        {"vendor": "x" * 5000},
        {"vendor": "123456789"},
        {"page_size": "0"},
        {"page_size": "-5"},
        {"page_size": "100000"},
        {"unknown": "1", "format": "json"},
    ],
)
def test_bad_query_params_never_500(api, catalogue_world, params):
    for path in (URL, JSON_URL, CSV_URL):
        response = api.get(path, params)
        assert response.status_code == 200, (path, params, response.status_code)


@pytest.mark.parametrize("page_size", ["abc", "1e9"])
def test_a_page_size_that_is_not_an_integer_is_refused(api, catalogue_world, page_size):
    # a typo must not silently change the page read (the exports are not paginated)
    response = api.get(URL, {"page_size": page_size})
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert [e["attr"] for e in response.json()["errors"]] == ["page_size"]
    for path in (JSON_URL, CSV_URL):
        assert api.get(path, {"page_size": page_size}).status_code == 200


@pytest.mark.parametrize("params", [{"q": "a\x00b"}, {"vendor": "\x00"}, {"scheme": "\x00'--"}])
def test_nul_bytes_in_query_params_are_never_500(api, catalogue_world, params):
    # PostgreSQL text cannot hold NUL: refused with a 400 in the error shape, or ignored.
    for path in (URL, JSON_URL, CSV_URL):
        response = api.get(path, params)
        assert response.status_code in (200, 400), (path, params, response.status_code)
        if response.status_code == 400:
            assert set(response.json()) == {"type", "errors"}


@pytest.mark.parametrize("page", ["abc", "0", "-1", "9999", "1.5", "last2"])
def test_invalid_page_is_404_in_the_error_shape(api, catalogue_world, page):
    response = api.get(URL, {"page": page})

    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["errors"][0]["code"] == "not_found"


def test_page_size_is_capped(api, dpi):
    for _ in range(3):
        referencing(dpi)
    body = api.get(URL, {"page_size": "100000"}).json()
    assert len(body["results"]) == 3


def test_unknown_filters_give_an_empty_list_not_an_error(api, catalogue_world):
    for params in ({"scheme": "NOPE"}, {"category": "NOPE"}, {"wave": "VA9"}, {"q": "zzzz"}):
        body = api.get(URL, params).json()
        assert body["results"] == [], params


def test_open_data_csv_cells_cannot_run_as_formulas():
    from core.api import csv_safe

    assert csv_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_safe("+33 1 23") == "'+33 1 23"
    assert csv_safe("@SUM(A1)") == "'@SUM(A1)"
    assert csv_safe("-2+3") == "'-2+3"
    assert csv_safe("Logiciel Dossier Patient") == "Logiciel Dossier Patient"
    assert csv_safe(None) == ""
    assert csv_safe(12) == "12"
