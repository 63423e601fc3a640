"""Bulk import of establishments from CSV: bad rows reported with their line numbers, good rows
imported (created or updated by FINESS/RPPS), in chunks, with progress."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import ObjectRef, audit_record
from core.identifiers import validate_finess, validate_rpps, validate_siret
from orders.models import Establishment, EstablishmentKind

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


def _read(content: bytes) -> Iterable[tuple[int, dict]]:
    text = content.decode("utf-8-sig")
    sample = text[:2048]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    reader.fieldnames = [(f or "").strip().lower() for f in (reader.fieldnames or [])]
    for row in reader:
        yield reader.line_num, row


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
    seen: set[str] = set()
    good: list[tuple[int, dict]] = []
    for line, row in rows:
        data, problems = _clean_row(row)
        for attr, detail in problems:
            report.errors.append({"line": line, "field": attr, "detail": detail})
        if data is None:
            continue
        key = data["finess"] or data["rpps"]
        if key in seen:
            report.errors.append(
                {"line": line, "field": "finess", "detail": "Doublon dans le fichier."}
            )
            continue
        seen.add(key)
        good.append((line, data))
    for start in range(0, len(good), CHUNK):
        chunk = [data for _, data in good[start : start + CHUNK]]
        with transaction.atomic():
            finess = {d["finess"] for d in chunk if d["finess"]}
            rpps = {d["rpps"] for d in chunk if d["rpps"] and not d["finess"]}
            existing = {e.finess: e for e in Establishment.objects.filter(finess__in=finess)}
            existing.update(
                {e.rpps: e for e in Establishment.objects.filter(rpps__in=rpps, finess="")}
            )
            to_create, to_update = [], []
            for data in chunk:
                current = existing.get(data["finess"] or data["rpps"])
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
        if progress:
            progress(min(start + CHUNK, len(good)))
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
