"""Reading an eligible-base CSV file: pure parsing, no database.

Format: a header line naming the columns `establishment`, `max_amount` and optionally `name`
(any order, any case); `;` or `,` as delimiter (the header decides); UTF-8 with or without BOM.
`establishment` is a FINESS, RPPS or SIRET; `max_amount` a euro amount (`12500.00`, `12 500,00`
with a `;` delimiter, or empty for "the scheme's cap"). Lines are numbered as in a text editor
(the header is line 1). A file that cannot be read at all is refused; bad lines of a readable file
are reported one by one and the good lines kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.errors import ErrorItem, InvalidInput, UnsupportedFileType
from sons.errors import SonsErrorCode
from sons.validators import establishment_identifier

REQUIRED_COLUMNS = ("establishment", "max_amount")
OPTIONAL_COLUMNS = ("name",)
NAME_MAX_LENGTH = 300
AMOUNT_MAX_DIGITS = 12
AMOUNT_DECIMAL_PLACES = 2
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


@dataclass(frozen=True)
class CsvRow:
    line: int
    establishment: str
    max_amount: Decimal | None
    name: str | None  # None: the file has no `name` column


@dataclass(frozen=True)
class CsvLineError:
    line: int
    code: str
    detail: str
    attr: str | None = None
    value: str = ""

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "code": self.code,
            "detail": self.detail,
            "attr": self.attr,
            "value": self.value,
        }


@dataclass
class ParsedCsv:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[CsvLineError] = field(default_factory=list)
    has_name: bool = False

    @property
    def lines(self) -> int:
        return len(self.rows) + len({e.line for e in self.errors})


def _refuse(detail: str, code: str = SonsErrorCode.INVALID_CSV) -> InvalidInput:
    return InvalidInput(code, detail, "file")


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise UnsupportedFileType(
            SonsErrorCode.UNSUPPORTED_FILE_TYPE,
            _("Ce fichier n'est pas un fichier texte CSV."),
            "file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(
            _(
                "Le fichier doit être encodé en UTF-8 (avec ou sans BOM) : octet invalide à la "
                "position %(pos)s. Enregistrez-le au format « CSV UTF-8 »."
            )
            % {"pos": exc.start},
            code="invalid_encoding",
        ) from exc


def parse_amount(raw: str) -> Decimal | None:
    """A euro amount as written in a spreadsheet, or None when empty. Raises ValidationError."""
    value = _SPACES.sub("", raw or "").replace("€", "")
    if not value:
        return None
    if "," in value:
        if "." in value or value.count(",") > 1:
            raise ValidationError(_("Montant illisible."), code="invalid")
        value = value.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
        raise ValidationError(_("Montant illisible : un nombre est attendu."), code="invalid")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already refuses it
        raise ValidationError(_("Montant illisible."), code="invalid") from exc
    if amount < 0:
        raise ValidationError(_("Le montant ne peut pas être négatif."), code="min_value")
    if -amount.as_tuple().exponent > AMOUNT_DECIMAL_PLACES:  # type: ignore[operator]
        raise ValidationError(_("Le montant a au plus deux décimales."), code="max_decimal_places")
    amount = amount.quantize(Decimal("0.01"))
    if len(amount.as_tuple().digits) > AMOUNT_MAX_DIGITS:
        raise ValidationError(_("Le montant est trop grand."), code="max_digits")
    return amount


def _delimiter(text: str) -> str:
    """`;` or `,`, whichever the header (the first non-empty line) uses."""
    for line in text.splitlines():
        if line.strip():
            return ";" if line.count(";") >= line.count(",") and ";" in line else ","
    raise _refuse(_("Le fichier est vide."))


def parse_eligible_csv(data: bytes) -> ParsedCsv:
    text = _decode(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    parsed = ParsedCsv()
    columns: list[str] | None = None
    seen: dict[str, int] = {}
    previous_end = 0
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _columns(cells)
                parsed.has_name = "name" in columns
                continue
            row = _row(line, cells, columns, parsed, seen)
            if row is not None:
                parsed.rows.append(row)
    except csv.Error as exc:
        raise _refuse(
            _("Fichier CSV illisible vers la ligne %(line)s : %(why)s.")
            % {"line": reader.line_num, "why": exc}
        ) from exc
    if columns is None:
        raise _refuse(_("Le fichier est vide."))
    return parsed


def _columns(cells: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in cells]
    while columns and columns[-1] == "":
        columns.pop()
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    problems = []
    unknown = [c for c in columns if c not in known]
    if unknown:
        problems.append(_("colonne(s) inconnue(s) : %(c)s") % {"c": ", ".join(unknown)})
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(_("colonne(s) manquante(s) : %(c)s") % {"c": ", ".join(missing)})
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    if doubled:
        problems.append(_("colonne(s) en double : %(c)s") % {"c": ", ".join(doubled)})
    if problems:
        raise InvalidInput(
            errors=[
                ErrorItem(
                    SonsErrorCode.INVALID_CSV,
                    _(
                        "En-tête de la ligne 1 invalide (%(p)s). Colonnes attendues : "
                        "establishment, max_amount et, facultative, name."
                    )
                    % {"p": " ; ".join(problems)},
                    "file",
                )
            ]
        )
    return columns


def _row(
    line: int, cells: list[str], columns: list[str], parsed: ParsedCsv, seen: dict[str, int]
) -> CsvRow | None:
    if len(cells) > len(columns) and not any(c.strip() for c in cells[len(columns) :]):
        cells = cells[: len(columns)]
    if len(cells) != len(columns):
        parsed.errors.append(
            CsvLineError(
                line,
                "invalid_columns",
                _("La ligne compte %(n)s champ(s) au lieu de %(m)s.")
                % {"n": len(cells), "m": len(columns)},
            )
        )
        return None
    values = {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
    errors: list[CsvLineError] = []
    raw_ident = values["establishment"]
    identifier = ""
    if not raw_ident:
        errors.append(CsvLineError(line, "required", _("Identifiant manquant."), "establishment"))
    else:
        try:
            identifier = establishment_identifier(raw_ident)
        except ValidationError as exc:
            errors.append(
                CsvLineError(
                    line, exc.code or "invalid", str(exc.message), "establishment", raw_ident[:50]
                )
            )
    amount = None
    try:
        amount = parse_amount(values["max_amount"])
    except ValidationError as exc:
        errors.append(
            CsvLineError(
                line,
                exc.code or "invalid",
                str(exc.message),
                "max_amount",
                values["max_amount"][:50],
            )
        )
    name = values.get("name")
    if name is not None and len(name) > NAME_MAX_LENGTH:
        errors.append(
            CsvLineError(
                line,
                "max_length",
                _("Le nom compte au plus %(n)s caractères.") % {"n": NAME_MAX_LENGTH},
                "name",
            )
        )
    if identifier and not errors and identifier in seen:
        errors.append(
            CsvLineError(
                line,
                SonsErrorCode.DUPLICATE_LINE,
                _("Établissement déjà présent à la ligne %(l)s du fichier.")
                % {"l": seen[identifier]},
                "establishment",
                identifier,
            )
        )
    if errors:
        parsed.errors.extend(errors)
        return None
    seen[identifier] = line
    return CsvRow(line=line, establishment=identifier, max_amount=amount, name=name)
