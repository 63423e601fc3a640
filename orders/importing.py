"""Bulk import of establishments from CSV: bad rows reported with their line numbers, good rows
imported (created or updated by FINESS/RPPS), in chunks, with progress."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import ObjectRef, audit_record
from core.errors import InvalidInput
from core.identifiers import validate_finess, validate_rpps, validate_siret
from orders.models import Establishment, EstablishmentKind

CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
COLUMNS = ["finess", "rpps", "name", "kind", "siret"]
CHUNK = 1000
KIND_ALIASES = {label.lower(): value for value, label in EstablishmentKind.choices}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + len({e["line"] for e in self.errors})


def _clean_row(row: dict) -> tuple[dict | None, list[tuple[str, str]]]:
    problems = []
    data = {}
    for name, validator in (
        ("finess", validate_finess),
        ("rpps", validate_rpps),
        ("siret", validate_siret),
    ):
        raw = (row.get(name) or "").strip()
        if not raw:
            data[name] = ""
            continue
        try:
            data[name] = validator(raw)
        except ValidationError as exc:
            problems.append((name, exc.messages[0]))
    if (
        not data.get("finess")
        and not data.get("rpps")
        and not any(p[0] in ("finess", "rpps") for p in problems)
    ):
        problems.append(("finess", "Indiquez un FINESS ou un RPPS."))
    data["name"] = (row.get("name") or "").strip()[:300]
    if not data["name"]:
        problems.append(("name", "Le nom est obligatoire."))
    kind = (row.get("kind") or "").strip()
    kind = kind if kind in EstablishmentKind.values else KIND_ALIASES.get(kind.lower(), "")
    if not kind:
        problems.append(
            ("kind", f"Type inconnu ; attendu : {', '.join(EstablishmentKind.values)}.")
        )
    data["kind"] = kind
    return (None if problems else data), problems


def _refuse_control_characters(text: str) -> None:
    """The whole file is refused (400, naming the line) if it holds a control character other
    than TAB and line ends: NUL cannot be stored, and such a file is not a CSV text anyway."""
    found = CONTROL_CHARACTER.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise InvalidInput(
            "control_characters_not_allowed",
            _("Ligne %(line)s : caractère de contrôle (U+%(code)04X) interdit dans un fichier CSV.")
            % {"line": line, "code": ord(found.group())},
            "file",
        )


def _read(content: bytes) -> Iterable[tuple[int, dict | None, str]]:
    """(line, row, "") for each record, or (line, None, why) for a record the CSV reader refused
    (a field over the size limit, a broken quote): reading goes on with the next line."""
    text = content.decode("utf-8-sig")
    _refuse_control_characters(text)
    sample = text[:2048]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        yield reader.reader.line_num or 1, None, str(exc)
        return
    reader.fieldnames = [(f or "").strip().lower() for f in fieldnames]
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.reader.line_num, None, str(exc)
            continue
        yield reader.line_num, row, ""


def import_establishments(
    content: bytes, *, actor, progress: Callable[[int], None] | None = None
) -> ImportReport:
    report = ImportReport()
    try:
        rows = list(_read(content))
    except UnicodeDecodeError:
        report.errors.append(
            {"line": 1, "field": None, "detail": "Le fichier doit être encodé en UTF-8."}
        )
        return report
    seen_finess: set[str] = set()
    seen_rpps: set[str] = set()
    good: list[tuple[int, dict]] = []
    for line, row, unreadable in rows:
        if row is None:
            report.errors.append(
                {"line": line, "field": None, "detail": f"Ligne illisible : {unreadable}."}
            )
            continue
        data, problems = _clean_row(row)
        for attr, detail in problems:
            report.errors.append({"line": line, "field": attr, "detail": detail})
        if data is None:
            continue
        if (data["finess"] and data["finess"] in seen_finess) or (
            data["rpps"] and data["rpps"] in seen_rpps
        ):
            field_name = "finess" if data["finess"] in seen_finess else "rpps"
            report.errors.append(
                {"line": line, "field": field_name, "detail": "Doublon dans le fichier."}
            )
            continue
        seen_finess.update({data["finess"]} - {""})
        seen_rpps.update({data["rpps"]} - {""})
        good.append((line, data))
    done = 0
    for start in range(0, len(good), CHUNK):
        chunk = good[start : start + CHUNK]
        with transaction.atomic():
            finess = {d["finess"] for _, d in chunk if d["finess"]}
            rpps = {d["rpps"] for _, d in chunk if d["rpps"]}
            by_finess = {e.finess: e for e in Establishment.objects.filter(finess__in=finess)}
            by_rpps = {e.rpps: e for e in Establishment.objects.filter(rpps__in=rpps)}
            to_create, to_update = [], []
            for line, data in chunk:
                current = (
                    by_finess.get(data["finess"]) if data["finess"] else by_rpps.get(data["rpps"])
                )
                owner = by_rpps.get(data["rpps"]) if data["rpps"] else None
                if (owner is not None and owner != current) or (
                    current is not None and not data["finess"] and current.finess
                ):
                    # an identifier already held by another establishment: report the line
                    # rather than let the unique index abort the whole chunk
                    report.errors.append(
                        {
                            "line": line,
                            "field": "rpps",
                            "detail": "Ce RPPS est déjà celui d'un autre établissement.",
                        }
                    )
                    continue
                if current is None:
                    to_create.append(Establishment(**data))
                else:
                    for name, value in data.items():
                        setattr(current, name, value)
                    to_update.append(current)
            Establishment.objects.bulk_create(to_create, batch_size=CHUNK)
            Establishment.objects.bulk_update(
                to_update, ["name", "kind", "siret", "rpps", "finess"], batch_size=CHUNK
            )
            report.created += len(to_create)
            report.updated += len(to_update)
        done += len(to_create) + len(to_update)
        if progress:
            progress(done)
    report.errors.sort(key=lambda e: e["line"])
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="establishment.import",
            obj=ObjectRef("orders.establishment", "import", "Import CSV"),
            changes={
                "created": [None, report.created],
                "updated": [None, report.updated],
                "rejected_lines": [None, sorted({e["line"] for e in report.errors})],
            },
        )
    return report
