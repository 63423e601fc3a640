"""French identifiers of the programme (domain.md §7), validated in one place.

Each `validate_*` normalises (spaces removed, upper case) and returns the value, or raises
django's ValidationError with a clear French message and a stable code.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE_SIRET = "35600000000048"


def _compact(value: object) -> str:
    return re.sub(r"[\s.\-]", "", str(value or "")).upper()


def luhn_valid(digits: str) -> bool:
    """Luhn checksum over a string of digits (the key is the last digit)."""
    if not (digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_key(body: str) -> str:
    """The Luhn digit to append to `body` (used by factories and demo data)."""
    for key in "0123456789":
        if luhn_valid(body + key):
            return key
    raise ValueError(body)  # pragma: no cover - one digit always fits


def validate_siren(value: object) -> str:
    siren = _compact(value)
    if not re.fullmatch(r"[0-9]{9}", siren) or not siren.strip("0"):
        raise ValidationError(_("Un SIREN compte 9 chiffres."), code="invalid_siren")
    if not luhn_valid(siren):
        raise ValidationError(_("La clé de contrôle du SIREN est fausse."), code="invalid_siren")
    return siren


def validate_siret(value: object) -> str:
    siret = _compact(value)
    if not re.fullmatch(r"[0-9]{14}", siret) or not siret.strip("0"):
        raise ValidationError(_("Un SIRET compte 14 chiffres."), code="invalid_siret")
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE_SIRET:
        # La Poste has more establishments than the Luhn key allows: sum of digits multiple of 5.
        valid = sum(int(c) for c in siret) % 5 == 0
    else:
        valid = luhn_valid(siret)
    if not valid:
        raise ValidationError(_("La clé de contrôle du SIRET est fausse."), code="invalid_siret")
    return siret


def validate_siret_of_siren(siret: str, siren: str) -> None:
    if siret[:9] != siren:
        raise ValidationError(
            _("Le SIRET doit commencer par le SIREN de l'entreprise."), code="siret_siren_mismatch"
        )


_DEPARTEMENT = re.compile(r"(0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97|98)")


def validate_finess(value: object) -> str:
    finess = _compact(value)
    if not re.fullmatch(r"[0-9]{2}[0-9]{7}|2[AB][0-9]{7}", finess):
        raise ValidationError(
            _("Un numéro FINESS compte 9 caractères (département puis 7 chiffres)."),
            code="invalid_finess",
        )
    if not _DEPARTEMENT.fullmatch(finess[:2]):
        raise ValidationError(
            _("Le numéro FINESS ne commence pas par un département connu."), code="invalid_finess"
        )
    if finess.isdigit() and not luhn_valid(finess):
        raise ValidationError(_("La clé de contrôle du FINESS est fausse."), code="invalid_finess")
    return finess


def validate_rpps(value: object) -> str:
    rpps = _compact(value)
    if not re.fullmatch(r"[0-9]{11}", rpps) or not rpps.strip("0"):
        raise ValidationError(_("Un numéro RPPS compte 11 chiffres."), code="invalid_rpps")
    if not luhn_valid(rpps):
        raise ValidationError(_("La clé de contrôle du RPPS est fausse."), code="invalid_rpps")
    return rpps


def validate_iban(value: object) -> str:
    """ISO 13616 mod-97 and country format, through python-stdnum."""
    try:
        return stdnum_iban.validate(str(value or ""))
    except StdnumError as exc:
        why = {
            InvalidChecksum: _("clé de contrôle fausse"),
            InvalidLength: _("longueur incorrecte"),
            InvalidFormat: _("format incorrect"),
            InvalidComponent: _("pays ou format national inconnu"),
        }.get(type(exc), _("format incorrect"))
        raise ValidationError(
            _("IBAN invalide : %(why)s.") % {"why": why}, code="invalid_iban"
        ) from exc


def validate_nie(value: object) -> str:
    """CNDA vendor number (NIE): an alphanumeric code; format only."""
    nie = _compact(value)
    if not re.fullmatch(r"[A-Z0-9]{3,20}", nie):
        raise ValidationError(
            _("Le numéro d'éditeur CNDA (NIE) compte de 3 à 20 lettres ou chiffres."),
            code="invalid_nie",
        )
    return nie


def validate_establishment_identifier(value: object) -> str:
    """An establishment's national identifier: FINESS (9), RPPS (11) or SIRET (14)."""
    ident = _compact(value)
    if len(ident) == 11:
        return validate_rpps(ident)
    if len(ident) == 14:
        return validate_siret(ident)
    return validate_finess(ident)
