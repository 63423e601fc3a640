"""Establishments: written by ANS admins through the API (identifiers validated, at least one of
FINESS/RPPS, no duplicates), read according to role, and bulk-imported from CSV through the API
and the `import_establishments` command."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.models import Role
from core.models import AuditEntry
from orders import api as orders_api
from orders import importing
from orders.models import Establishment
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory
from tests.factories.sons import finess, rpps, siret
from tests.factories.vendors import VendorFactory
from tests.orders.helpers import assert_error, client

URL = "/api/v1/establishments/"


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ANS_ADMIN)


def _user(role: str | None):
    if role is None:
        return None
    if role == "vendor":
        return UserFactory(role=role, vendor=VendorFactory())
    if role == "establishment":
        return UserFactory(role=role, establishment=EstablishmentFactory(), signatory=True)
    return UserFactory(role=role)


def _bad_key(value: str) -> str:
    return value[:-1] + str((int(value[-1]) + 1) % 10)


# --- the API ------------------------------------------------------------------------------------
def test_admin_creates_an_establishment_audited(admin):
    body = {"finess": finess(101), "name": "CH de Test", "kind": "hospital", "siret": siret(7)}
    response = client(admin).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: data[k] for k in body} == body
    assert data["rpps"] == ""
    establishment = Establishment.objects.get(pk=data["id"])
    entry = AuditEntry.objects.get(action="establishment.create", object_id=str(establishment.pk))
    assert entry.actor_id == admin.pk
    assert entry.changes["finess"] == [None, finess(101)]


def test_a_practice_needs_only_an_rpps(admin):
    response = client(admin).post(
        URL, {"rpps": rpps(5), "name": "Cabinet Dr Martin", "kind": "practice"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Establishment.objects.get(rpps=rpps(5)).finess == ""


@pytest.mark.parametrize("role", ["reviewer", "payment_officer", "vendor", "establishment", None])
def test_only_admins_write(db, role):
    user = _user(role)
    body = {"finess": finess(102), "name": "CH", "kind": "hospital"}
    response = client(user).post(URL, body, format="json")
    assert_error(response, 401 if role is None else 403)
    existing = EstablishmentFactory()
    response = client(user).patch(f"{URL}{existing.pk}/", {"name": "Autre"}, format="json")
    assert_error(response, 401 if role is None else 403)
    assert not Establishment.objects.filter(finess=finess(102)).exists()
    assert Establishment.objects.get(pk=existing.pk).name == existing.name


@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"finess": _bad_key(finess(103))}, "invalid_finess", "finess"),
        ({"finess": "990000017"}, "invalid_finess", "finess"),  # no such département
        ({"finess": "7500"}, "invalid_finess", "finess"),
        ({"finess": "75000001X"}, "invalid_finess", "finess"),
        ({"rpps": _bad_key(rpps(6))}, "invalid_rpps", "rpps"),
        ({"rpps": "123"}, "invalid_rpps", "rpps"),
        ({"siret": _bad_key(siret(8))}, "invalid_siret", "siret"),
        ({"siret": "1234"}, "invalid_siret", "siret"),
        ({"kind": "castle"}, "invalid_choice", "kind"),
        ({"name": ""}, "blank", "name"),
        ({"name": None}, "null", "name"),
        ({"name": "x" * 301}, "max_length", "name"),
        ({"finess": 750000018}, "invalid_finess", "finess"),  # wrong type, then bad key
        ({"finess": ["750000018"]}, "invalid", "finess"),
        ({"colour": "blue"}, "unknown_field", "colour"),
        ({"id": "00000000-0000-4000-8000-000000000000", "created_at": "x"}, "unknown_field", None),
    ],
)
def test_create_refuses_bad_fields_with_their_attr(admin, changes, code, attr):
    body = {"finess": finess(104), "name": "CH", "kind": "hospital", **changes}
    response = client(admin).post(URL, body, format="json")
    assert_error(response, 400, code, attr if attr else "any")
    assert not Establishment.objects.exists()


def test_at_least_one_identifier(admin):
    response = client(admin).post(URL, {"name": "CH", "kind": "hospital"}, format="json")
    assert_error(response, 400, "required", "finess")
    response = client(admin).post(
        URL, {"name": "CH", "kind": "hospital", "finess": "", "rpps": ""}, format="json"
    )
    assert_error(response, 400, "required", "finess")
    response = client(admin).post(
        URL, {"name": "CH", "kind": "hospital", "siret": siret(9)}, format="json"
    )
    assert_error(response, 400, "required", "finess")
    assert not Establishment.objects.exists()


def test_missing_fields(admin):
    response = client(admin).post(URL, {}, format="json")
    body = assert_error(response, 400, "required")
    assert {e["attr"] for e in body["errors"]} >= {"name", "kind"}


@pytest.mark.parametrize("field", ["finess", "rpps"])
def test_duplicate_identifier_is_a_clear_400(admin, field):
    value = finess(105) if field == "finess" else rpps(7)
    EstablishmentFactory(**{field: value})
    body = {field: value, "name": "Doublon", "kind": "hospital"}
    if field == "rpps":
        body["finess"] = finess(106)
    response = client(admin).post(URL, body, format="json")
    assert_error(response, 400, "unique", field)
    assert Establishment.objects.filter(**{field: value}).count() == 1


def test_update_to_another_establishment_s_finess_is_refused(admin):
    first = EstablishmentFactory()
    second = EstablishmentFactory()
    response = client(admin).patch(f"{URL}{second.pk}/", {"finess": first.finess}, format="json")
    assert_error(response, 400, "unique", "finess")
    assert Establishment.objects.get(pk=second.pk).finess == second.finess


def test_update_cannot_remove_the_last_identifier(admin):
    establishment = EstablishmentFactory()
    response = client(admin).patch(f"{URL}{establishment.pk}/", {"finess": ""}, format="json")
    assert_error(response, 400, "required", "finess")
    assert Establishment.objects.get(pk=establishment.pk).finess == establishment.finess


def test_update_is_audited_with_the_changes(admin):
    establishment = EstablishmentFactory(name="Ancien nom")
    response = client(admin).patch(
        f"{URL}{establishment.pk}/", {"name": "Nouveau nom", "siret": siret(11)}, format="json"
    )
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="establishment.update")
    assert entry.changes == {"name": ["Ancien nom", "Nouveau nom"], "siret": ["", siret(11)]}
    # the same values again: nothing changed, nothing audited
    client(admin).patch(f"{URL}{establishment.pk}/", {"name": "Nouveau nom"}, format="json")
    assert AuditEntry.objects.filter(action="establishment.update").count() == 1


def test_put_replaces_the_fields(admin):
    establishment = EstablishmentFactory()
    body = {"finess": establishment.finess, "name": "CHU", "kind": "hospital", "rpps": rpps(12)}
    response = client(admin).put(f"{URL}{establishment.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    assert Establishment.objects.get(pk=establishment.pk).rpps == rpps(12)


def test_identifiers_are_stored_normalised(admin):
    response = client(admin).post(
        URL, {"finess": "2a0000017", "name": "CH d'Ajaccio", "kind": "hospital"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["finess"] == "2A0000017"
    # the same establishment typed in upper case is a duplicate, not a second one
    response = client(admin).post(
        URL, {"finess": "2A0000017", "name": "Doublon", "kind": "hospital"}, format="json"
    )
    assert_error(response, 400, "unique", "finess")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-4000-8000-000000000000", "1"])
def test_unknown_establishment_is_404(admin, bad_id):
    assert_error(client(admin).get(f"{URL}{bad_id}/"), 404)
    assert_error(client(admin).patch(f"{URL}{bad_id}/", {"name": "x"}, format="json"), 404)


def test_an_establishment_member_sees_only_its_own(db):
    mine, theirs = EstablishmentFactory(), EstablishmentFactory()
    member = UserFactory(role=Role.ESTABLISHMENT, establishment=mine)
    api = client(member)
    assert [row["id"] for row in api.get(URL).json()["results"]] == [str(mine.pk)]
    assert api.get(f"{URL}{mine.pk}/").status_code == 200
    assert_error(api.get(f"{URL}{theirs.pk}/"), 404)


@pytest.mark.parametrize("role", ["vendor", "reviewer", "payment_officer", "ans_admin"])
def test_other_roles_read_them_all(db, role):
    EstablishmentFactory.create_batch(3)
    assert client(_user(role)).get(URL).json()["count"] == 3


def test_anonymous_reads_nothing(db):
    EstablishmentFactory()
    assert_error(client().get(URL), 401)


# --- CSV import ---------------------------------------------------------------------------------
HEADER = "finess;rpps;name;kind;siret"


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _sample() -> tuple[bytes, dict[int, str]]:
    """Two good rows, and bad ones, each with its line number (the header is line 1)."""
    taken = EstablishmentFactory(rpps=rpps(99))
    content = _csv(
        f"{finess(201)};;CH de Lens;hospital;{siret(1)}",  # 2 good
        f";{rpps(201)};Cabinet Dr Roux;Cabinet médical;",  # 3 good (kind by its label)
        f"{_bad_key(finess(202))};;CH faux;hospital;",  # 4 bad FINESS key
        f"{finess(203)};;;hospital;",  # 5 no name
        ";;Sans identifiant;hospital;",  # 6 no identifier
        f"{finess(201)};;CH de Lens bis;hospital;",  # 7 duplicate in the file
        f"{finess(204)};{taken.rpps};Vol d'identité;hospital;",  # 8 RPPS of another one
        f"{finess(205)};;CH;hospital;{_bad_key(siret(2))}",  # 9 bad SIRET
        f"{finess(206)};;CH;château;",  # 10 unknown kind
    )
    return content, {
        4: "finess",
        5: "name",
        6: "finess",
        7: "finess",
        8: "rpps",
        9: "siret",
        10: "kind",
    }


def _upload(user, content: bytes, name: str = "etablissements.csv"):
    return client(user).post(
        f"{URL}import/",
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        format="multipart",
    )


def test_import_reports_bad_lines_and_imports_good_ones(admin):
    content, bad = _sample()
    response = _upload(admin, content)
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["updated"]) == (2, 0)
    assert {(e["line"], e["field"]) for e in report["errors"]} == set(bad.items())
    assert [e["line"] for e in report["errors"]] == sorted(e["line"] for e in report["errors"])
    assert all(e["detail"] for e in report["errors"])
    assert Establishment.objects.get(finess=finess(201)).name == "CH de Lens"
    assert Establishment.objects.get(rpps=rpps(201)).kind == "practice"
    assert not Establishment.objects.filter(finess__in=[finess(203), finess(204)]).exists()
    entry = AuditEntry.objects.get(action="establishment.import")
    assert entry.actor_id == admin.pk
    assert entry.changes["created"] == [None, 2]
    assert entry.changes["rejected_lines"] == [None, sorted(bad)]


def test_reimport_updates_instead_of_duplicating(admin):
    _upload(admin, _csv(f"{finess(301)};;CH A;hospital;", f";{rpps(301)};Dr B;practice;"))
    response = _upload(
        admin,
        _csv(
            f"{finess(301)};;CH A renommé;hospital;{siret(3)}",
            f";{rpps(301)};Dr B;health_centre;",
            f"{finess(302)};;CH C;hospital;",
        ),
    )
    assert response.json() == {"created": 1, "updated": 2, "errors": []}
    assert Establishment.objects.count() == 3
    assert Establishment.objects.get(finess=finess(301)).siret == siret(3)
    assert Establishment.objects.get(rpps=rpps(301)).kind == "health_centre"


def test_import_accepts_commas_and_a_bom(admin):
    content = ("\ufeffFINESS,RPPS,Name,Kind,SIRET\n" + f"{finess(401)},,CH,hospital,\n").encode()
    response = _upload(admin, content)
    assert response.json() == {"created": 1, "updated": 0, "errors": []}


def test_import_of_a_file_that_is_not_utf8(admin):
    response = _upload(admin, "finess;name;kind\n750000018;Hôpital;hospital\n".encode("latin-1"))
    assert response.status_code == 200
    assert response.json()["errors"][0]["line"] == 1
    assert not Establishment.objects.exists()


def test_an_unreadable_line_is_reported_and_the_others_imported(admin):
    content = _csv(
        f"{finess(501)};;CH;hospital;",
        f"{finess(502)};;{'x' * 200_000};hospital;",  # over the CSV reader's field limit
        f"{finess(503)};;CH;hospital;",
    )
    response = _upload(admin, content)
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["created"] == 2
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, None)]
    assert set(Establishment.objects.values_list("finess", flat=True)) == {
        finess(501),
        finess(503),
    }


def test_rows_holding_the_same_rpps_are_reported_not_a_500(admin):
    content = _csv(
        f"{finess(601)};{rpps(601)};CH A;hospital;", f"{finess(602)};{rpps(601)};CH B;hospital;"
    )
    response = _upload(admin, content)
    assert response.json()["created"] == 1
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(3, "rpps")]


def test_a_row_without_finess_for_an_rpps_held_by_a_hospital_is_reported(admin):
    EstablishmentFactory(finess=finess(701), rpps=rpps(701))
    response = _upload(admin, _csv(f";{rpps(701)};Dr C;practice;"))
    assert response.json()["created"] == 0
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, "rpps")]
    assert Establishment.objects.get(rpps=rpps(701)).finess == finess(701)


@pytest.mark.parametrize("role", ["reviewer", "payment_officer", "vendor", "establishment", None])
def test_only_admins_import(db, role):
    user = _user(role)
    response = _upload(user, _csv(f"{finess(801)};;CH;hospital;"))
    assert_error(response, 401 if role is None else 403)
    assert not Establishment.objects.filter(finess=finess(801)).exists()


def test_import_input_errors(admin):
    api = client(admin)
    assert_error(api.post(f"{URL}import/", {}, format="multipart"), 400, "required", "file")
    assert_error(_upload(admin, b""), 400, "empty", "file")
    assert_error(
        api.post(f"{URL}import/", {"file": "pas un fichier"}, format="multipart"), 400, None, "file"
    )
    response = api.post(f"{URL}import/", {"file": "x"}, format="json")
    assert_error(response, 415)


def test_import_too_large_is_413(admin, monkeypatch):
    monkeypatch.setattr(orders_api, "IMPORT_MAX_BYTES", 10)
    assert_error(_upload(admin, _csv(f"{finess(901)};;CH;hospital;")), 413, "file_too_large")
    assert not Establishment.objects.exists()


# --- the management command ------------------------------------------------------------------
def test_command_imports_reports_lines_and_prints_progress(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK", 2)
    content, bad = _sample()
    content += "\n".join(f"{finess(1000 + i)};;CH {i};hospital;" for i in range(3)).encode() + b"\n"
    path = tmp_path / "etablissements.csv"
    path.write_bytes(content)
    out = StringIO()
    call_command("import_establishments", str(path), stdout=out)
    output = out.getvalue()
    # six rows pass the checks of their own (lines 2, 3, 8, 11, 12, 13), written in chunks of
    # two; line 8 is refused at writing (its RPPS is taken): progress counts what was imported
    progress = [line for line in output.splitlines() if line.startswith("…")]
    assert progress == [
        "… 2 ligne(s) valide(s) importée(s)",
        "… 3 ligne(s) valide(s) importée(s)",
        "… 5 ligne(s) valide(s) importée(s)",
    ]
    for line, field in bad.items():
        assert f"ligne {line} [{field}]" in output
    assert "5 créé(s), 0 mis à jour, 7 ligne(s) rejetée(s)." in output
    assert Establishment.objects.count() == 1 + 5  # the one holding an RPPS, and the good rows
    entry = AuditEntry.objects.get(action="establishment.import")
    assert entry.actor_repr == "système: import_establishments"

    out = StringIO()
    call_command("import_establishments", str(path), stdout=out)
    assert "0 créé(s), 5 mis à jour" in out.getvalue()
    assert Establishment.objects.count() == 6


def test_command_with_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_establishments", str(tmp_path / "absent.csv"))
