"""CSV bulk import of the eligible base: good lines upserted, bad lines reported by number."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from core.models import AuditEntry
from sons.eligible_csv import parse_amount
from sons.models import EligibleEstablishment
from tests.factories.sons import EligibleEstablishmentFactory, finess, rpps, siret
from tests.sons.conftest import API

URL = f"{API}/schemes/HOP-DPI-X1/eligible-establishments/upload/"


def _upload(client, text: str | bytes, name="base.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(
        URL, {"file": SimpleUploadedFile(name, content, "text/csv")}, format="multipart"
    )


def _bad_key(ident: str) -> str:
    return ident[:-1] + str((int(ident[-1]) + 1) % 10)


def test_upload_imports_good_lines_and_reports_bad_ones_by_line(admin_client, scheme):
    existing = EligibleEstablishmentFactory(
        scheme=scheme, establishment=finess(1), max_amount=Decimal("625.00"), name="Ancien"
    )
    text = (
        "\ufeffEstablishment;Max_Amount;Name\r\n"  # BOM, header in any case, CRLF
        f"{existing.establishment};875,00;Pharmacie du Centre\r\n"  # 2: update
        f"{finess(2)};12 500,00;\r\n"  # 3: create, French amount
        "\r\n"  # 4: blank, skipped
        f"{_bad_key(finess(3))};100;Clé fausse\r\n"  # 5: bad key
        f"{rpps(4)};;Cabinet\r\n"  # 6: create, no own cap
        f"{siret(5)};-3;Labo\r\n"  # 7: negative
        f"{finess(2)};1;Doublon\r\n"  # 8: duplicate of line 3
        f"{finess(6)};abc\r\n"  # 9: missing a field
        '"' + finess(7) + '";"1,5";"Centre ""Les Tilleuls"""\r\n'  # 10: quoted, create
        ";100;Sans identifiant\r\n"  # 11: no identifier
    )
    response = _upload(admin_client, text)
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (
        3,
        1,
        0,
        5,
    )
    by_line = {e["line"]: e for e in report["errors"]}
    assert sorted(by_line) == [5, 7, 8, 9, 11]
    assert (by_line[5]["code"], by_line[5]["attr"]) == ("invalid_finess", "establishment")
    assert (by_line[7]["code"], by_line[7]["attr"]) == ("min_value", "max_amount")
    assert by_line[8]["code"] == "duplicate_line"
    assert "ligne 3" in by_line[8]["detail"]
    assert by_line[9]["code"] == "invalid_columns"
    assert by_line[11]["code"] == "required"
    base = {e.establishment: e for e in EligibleEstablishment.objects.filter(scheme=scheme)}
    assert base[existing.establishment].max_amount == Decimal("875.00")
    assert base[existing.establishment].name == "Pharmacie du Centre"
    assert base[finess(2)].max_amount == Decimal("12500.00")
    assert base[rpps(4)].max_amount is None
    assert base[finess(7)].name == 'Centre "Les Tilleuls"'
    assert base[finess(7)].max_amount == Decimal("1.50")
    entry = AuditEntry.objects.get(action="eligibleestablishment.import")
    assert entry.actor_id == admin_client.user.pk
    assert entry.changes["created"] == 3
    assert entry.changes["rejected_lines"] == [5, 7, 8, 9, 11]


def test_upload_with_commas_and_without_name_column(admin_client, scheme):
    kept = EligibleEstablishmentFactory(scheme=scheme, name="Nom conservé")
    text = f"max_amount,establishment\n20000.00,{kept.establishment}\n"
    text += f"875.5,{finess(20)}\n"
    report = _upload(admin_client, text).json()
    assert (report["created"], report["unchanged"], report["rejected"]) == (1, 1, 0)
    kept.refresh_from_db()
    assert kept.name == "Nom conservé"


def test_reimporting_the_same_file_changes_nothing(admin_client, scheme):
    text = f"establishment;max_amount;name\n{finess(30)};875;A\n{finess(31)};625;B\n"
    assert _upload(admin_client, text).json()["created"] == 2
    again = _upload(admin_client, text).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_a_line_spread_over_two_physical_lines_keeps_numbering(admin_client, scheme):
    text = (
        "establishment;max_amount;name\n"
        f'{finess(40)};1;"Centre\nsur deux lignes"\n'  # lines 2-3
        f"{_bad_key(finess(41))};1;x\n"  # line 4
    )
    report = _upload(admin_client, text).json()
    assert report["created"] == 1
    assert [e["line"] for e in report["errors"]] == [4]


def test_a_file_with_only_bad_lines_imports_nothing_but_answers_the_report(admin_client, scheme):
    report = _upload(admin_client, "establishment;max_amount\n123;1\n456;2\n").json()
    assert (report["created"], report["rejected"]) == (0, 2)
    assert [e["line"] for e in report["errors"]] == [2, 3]
    assert not EligibleEstablishment.objects.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("875", Decimal("875.00")),
        ("875.5", Decimal("875.50")),
        ("12 500,00", Decimal("12500.00")),
        ("12\u00a0500,00 €", Decimal("12500.00")),
        ("", None),
    ],
)
def test_amounts_as_written_in_spreadsheets(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["1.234", "1,2,3", "1.000,00", "1e5", "abc", "-1", "9" * 13])
def test_unreadable_amounts_are_refused(raw):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        parse_amount(raw)


# --- the management command ----------------------------------------------------------------------
def test_import_command_reports_and_audits(scheme, tmp_path, capsys):
    path = tmp_path / "base.csv"
    path.write_text(
        f"establishment;max_amount;name\n{finess(50)};875;A\n123;1;B\n", encoding="utf-8-sig"
    )
    call_command("import_eligible_base", "HOP-DPI-X1", str(path))
    out, err = capsys.readouterr()
    assert "1 créé(s)" in out
    assert "1 ligne(s) refusée(s)" in out
    assert "ligne 3" in err
    assert EligibleEstablishment.objects.get().establishment == finess(50)
    entry = AuditEntry.objects.get(action="eligibleestablishment.import")
    assert entry.actor_repr == "système: import_eligible_base"
    assert entry.reason == "base.csv"


def test_import_command_refuses_unknown_scheme_and_unreadable_file(scheme, tmp_path):
    with pytest.raises(CommandError, match="inconnu"):
        call_command("import_eligible_base", "NOPE", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Lecture impossible"):
        call_command("import_eligible_base", "HOP-DPI-X1", str(tmp_path / "absent.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("finess;montant\n", encoding="utf-8")
    with pytest.raises(CommandError, match="En-tête"):
        call_command("import_eligible_base", "HOP-DPI-X1", str(bad))
    assert not AuditEntry.objects.exists()
