"""core.identifiers: every validator with good and bad values (domain.md §7).

Good values are real, publicly known identifiers or bodies completed with `luhn_key`; each bad
value says why it is bad.
"""

import pytest
from django.core.exceptions import ValidationError

from core.identifiers import (
    LA_POSTE_HEAD_OFFICE_SIRET,
    luhn_key,
    luhn_valid,
    validate_establishment_identifier,
    validate_finess,
    validate_iban,
    validate_nie,
    validate_rpps,
    validate_siren,
    validate_siret,
    validate_siret_of_siren,
)


def _with_key(body: str) -> str:
    return body + luhn_key(body)


def _flip_key(value: str) -> str:
    """The same identifier with a wrong last digit (exactly one digit is right)."""
    return value[:-1] + str((int(value[-1]) + 1) % 10)


def _digit_sum(value: str) -> int:
    return sum(int(c) for c in value)


def _code(exc_info) -> str:
    return exc_info.value.code


# --- Luhn -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
        ("0", True),
        ("18", True),
        ("19", False),
        ("", False),
        ("12a4", False),
    ],
)
def test_luhn_valid(digits, valid):
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize("body", ["73282932", "1000123456", "3560000000001", "12"])
def test_luhn_key_completes_a_valid_number_and_only_one_key_fits(body):
    key = luhn_key(body)
    assert luhn_valid(body + key)
    assert [k for k in "0123456789" if luhn_valid(body + k)] == [key]


# --- SIREN ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("552081317", "552081317"),  # EDF
        ("542051180", "542051180"),  # TotalEnergies
        ("732829320", "732829320"),
        ("356000000", "356000000"),  # La Poste: its SIREN itself is Luhn-valid
        ("732 829 320", "732829320"),  # spaces removed
        ("732\u00a0829\u00a0320", "732829320"),  # non-breaking spaces (French formatting)
        (" 732.829.320 ", "732829320"),
        (_with_key("84213576"), _with_key("84213576")),
        (732829320, "732829320"),  # not a string: still read as its digits
    ],
)
def test_siren_valid(value, normalised):
    assert validate_siren(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "732829321",  # wrong key
        _flip_key("552081317"),
        "73282932",  # 8 digits
        "7328293200",  # 10 digits
        "73282932A",  # a letter
        "",
        None,
        "ABCDEFGHI",
        "732829320\n1",
    ],
)
def test_siren_invalid(value):
    with pytest.raises(ValidationError) as exc_info:
        validate_siren(value)
    assert _code(exc_info) == "invalid_siren"


# --- SIRET ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("73282932000074", "73282932000074"),
        ("552 081 317 66522", "55208131766522"),
        (_with_key("7328293200001"), _with_key("7328293200001")),
        # La Poste's head office: Luhn-valid, the one exception to the sum-of-digits rule
        (LA_POSTE_HEAD_OFFICE_SIRET, "35600000000048"),
        ("356 000 000 00048", "35600000000048"),
        # La Poste's establishments: the sum of the digits is a multiple of 5, Luhn or not
        ("35600000000001", "35600000000001"),
        ("35600000012341", "35600000012341"),
    ],
)
def test_siret_valid(value, normalised):
    assert validate_siret(value) == normalised


def test_la_poste_examples_are_what_they_claim():
    assert _digit_sum("35600000000001") % 5 == 0
    assert not luhn_valid("35600000000001")  # accepted by the La Poste rule only
    assert _digit_sum("35600000012341") % 5 == 0
    assert _digit_sum(LA_POSTE_HEAD_OFFICE_SIRET) % 5 != 0  # accepted by Luhn only
    assert luhn_valid(LA_POSTE_HEAD_OFFICE_SIRET)
    assert luhn_valid("35600000000014")
    assert _digit_sum("35600000000014") % 5 != 0


@pytest.mark.parametrize(
    "value",
    [
        "73282932000075",  # wrong Luhn key
        _flip_key("55208131766522"),
        "35600000000014",  # La Poste: Luhn-valid but digit sum 19, not a multiple of 5
        "35600000000002",  # La Poste: digit sum 16
        "35600000000049",  # near the head office, neither rule
        "7328293200007",  # 13 digits
        "732829320000745",  # 15 digits
        "7328293200007A",
        "",
        None,
    ],
)
def test_siret_invalid(value):
    with pytest.raises(ValidationError) as exc_info:
        validate_siret(value)
    assert _code(exc_info) == "invalid_siret"


def test_siret_of_siren():
    validate_siret_of_siren("73282932000074", "732829320")
    with pytest.raises(ValidationError) as exc_info:
        validate_siret_of_siren("55208131766522", "732829320")
    assert _code(exc_info) == "siret_siren_mismatch"


# --- FINESS ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("750712184", "750712184"),  # AP-HP, Paris
        (_with_key("13078000"), _with_key("13078000")),  # Bouches-du-Rhône
        (_with_key("01000001"), _with_key("01000001")),  # Ain, first département
        (_with_key("95000002"), _with_key("95000002")),  # Val-d'Oise, last metropolitan
        (_with_key("97100003"), _with_key("97100003")),  # overseas (97x)
        (_with_key("98000004"), _with_key("98000004")),
        ("75 071 218 4", "750712184"),
        # Corsica: letters, so the key cannot be computed; format only, any last digit
        ("2A0000011", "2A0000011"),
        ("2A0000012", "2A0000012"),
        ("2B0012345", "2B0012345"),
        ("2a 000 001 1", "2A0000011"),  # upper-cased
    ],
)
def test_finess_valid(value, normalised):
    assert validate_finess(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        _flip_key("750712184"),  # wrong key
        "75071218",  # 8 characters
        "7507121840",  # 10
        "2C0000011",  # Corsica is 2A or 2B only
        "2AB000001",  # letters beyond the département
        "7A0712184",
        "",
        None,
    ],
)
def test_finess_invalid_format_or_key(value):
    with pytest.raises(ValidationError) as exc_info:
        validate_finess(value)
    assert _code(exc_info) == "invalid_finess"


@pytest.mark.parametrize("departement", ["00", "20", "96", "99"])
def test_finess_with_an_unknown_departement_is_refused_even_with_a_good_key(departement):
    value = _with_key(departement + "000001")
    assert luhn_valid(value)
    with pytest.raises(ValidationError) as exc_info:
        validate_finess(value)
    assert _code(exc_info) == "invalid_finess"
    assert "département" in exc_info.value.messages[0]


# --- RPPS -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (_with_key("1000123456"), _with_key("1000123456")),
        ("10001234565", "10001234565"),
        ("100 012 345 65", "10001234565"),
        (_with_key("8100000000"), _with_key("8100000000")),
    ],
)
def test_rpps_valid(value, normalised):
    assert validate_rpps(value) == normalised


@pytest.mark.parametrize(
    "value",
    ["10001234566", _flip_key("10001234565"), "1000123456", "100012345650", "1000123456A", ""],
)
def test_rpps_invalid(value):
    with pytest.raises(ValidationError) as exc_info:
        validate_rpps(value)
    assert _code(exc_info) == "invalid_rpps"


# --- IBAN -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("FR7630006000011234567890189", "FR7630006000011234567890189"),
        ("FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
        ("fr7630006000011234567890189", "FR7630006000011234567890189"),
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
    ],
)
def test_iban_valid(value, normalised):
    assert validate_iban(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "FR7630006000011234567890188",  # mod-97 broken
        "FR7730006000011234567890189",  # wrong check digits
        "FR763000600001123456789018",  # too short for France
        "XX7630006000011234567890189",  # no such country
        "DE8937040044053201300",  # too short for Germany
        "FR76",
        "",
        None,
    ],
)
def test_iban_invalid(value):
    with pytest.raises(ValidationError) as exc_info:
        validate_iban(value)
    assert _code(exc_info) == "invalid_iban"
    assert exc_info.value.messages[0].startswith("IBAN invalide")


# --- NIE ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("NIE00042", "NIE00042"),
        ("ed0142", "ED0142"),
        ("ED-2021 0142", "ED20210142"),
        ("ABC", "ABC"),
        ("A" * 20, "A" * 20),
    ],
)
def test_nie_valid(value, normalised):
    assert validate_nie(value) == normalised


@pytest.mark.parametrize("value", ["AB", "A" * 21, "NIE_01", "ÉDIT01", "NIE/01", "", None])
def test_nie_invalid(value):
    with pytest.raises(ValidationError) as exc_info:
        validate_nie(value)
    assert _code(exc_info) == "invalid_nie"


# --- establishment identifier: FINESS (9), RPPS (11) or SIRET (14) -----------------------------------
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("750712184", "750712184"),
        ("2B0012345", "2B0012345"),
        ("10001234565", "10001234565"),
        ("73282932000074", "73282932000074"),
        ("356 000 000 00048", "35600000000048"),
    ],
)
def test_establishment_identifier_valid(value, normalised):
    assert validate_establishment_identifier(value) == normalised


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (_flip_key("750712184"), "invalid_finess"),
        ("10001234566", "invalid_rpps"),
        ("73282932000075", "invalid_siret"),
        ("7507121840", "invalid_finess"),  # 10 characters: none of the three
        ("73282932", "invalid_finess"),
        ("", "invalid_finess"),
    ],
)
def test_establishment_identifier_invalid(value, code):
    with pytest.raises(ValidationError) as exc_info:
        validate_establishment_identifier(value)
    assert _code(exc_info) == code


# --- non-ASCII digits are no identifier digits ------------------------------------------------------
@pytest.mark.parametrize(
    "validate",
    [validate_siren, validate_siret, validate_rpps],
    ids=["siren", "siret", "rpps"],
)
def test_non_ascii_digits_are_refused(validate):
    ascii_value = {
        validate_siren: "732829320",
        validate_siret: "73282932000074",
        validate_rpps: "10001234565",
    }[validate]
    arabic_indic = ascii_value.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    with pytest.raises(ValidationError):
        validate(arabic_indic)


@pytest.mark.parametrize(
    ("validate", "zeros"),
    [(validate_siren, "0" * 9), (validate_siret, "0" * 14), (validate_rpps, "0" * 11)],
)
def test_all_zero_numbers_are_refused(validate, zeros):
    with pytest.raises(ValidationError):
        validate(zeros)
