"""Formats of the programme's natural codes. Codes are upper case, so they read the same in
URLs, exports and reference numbers (`HOP-DPI-VA2-2025-0042`)."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from core.identifiers import validate_establishment_identifier

WAVE_CODE_RE = r"^[A-Z][A-Z0-9]{1,9}\Z"
SCHEME_CODE_RE = r"^[A-Z0-9]+(?:-[A-Z0-9]+)*\Z"
REQUIREMENT_CODE_RE = r"^[A-Z0-9][A-Z0-9_-]*(?:\.[A-Z0-9_-]+)*\Z"

validate_wave_code = RegexValidator(
    WAVE_CODE_RE,
    _("Code de vague invalide : une lettre majuscule puis 1 à 9 lettres majuscules ou chiffres."),
    code="invalid_code",
)
validate_scheme_code = RegexValidator(
    SCHEME_CODE_RE,
    _(
        "Code de dispositif invalide : lettres majuscules et chiffres séparés par des tirets "
        "(ex. HOP-DPI-VA2)."
    ),
    code="invalid_code",
)
validate_requirement_code = RegexValidator(
    REQUIREMENT_CODE_RE,
    _(
        "Code invalide : lettres majuscules, chiffres, « _ » ou « - », en segments séparés par "
        "des points (ex. LGC.DMP.01)."
    ),
    code="invalid_code",
)


def establishment_identifier(value: object) -> str:
    """A FINESS, RPPS or SIRET, normalised; ASCII digits only (other scripts' digits are not
    national identifiers, whatever `str.isdigit` says)."""
    if not str(value or "").isascii():
        raise ValidationError(
            _("Identifiant invalide : chiffres et lettres latines seulement."),
            code="invalid_identifier",
        )
    return validate_establishment_identifier(value)
