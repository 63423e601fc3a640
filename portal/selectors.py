"""Reads the portal's pages need beyond the apps' own selectors: the rows of the dossier editor,
the tasks of a home page, installations over time. Visibility still comes from the apps'
selectors (the querysets passed in)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.timeutils import PARIS
from orders.models import OrderState, PurchaseOrder
from referencing_app import rules
from referencing_app import selectors as ref_selectors
from referencing_app.models import Dossier, DossierState, Referencing
from sons.models import GENERAL_PROFILE, Nature, Requirement


@dataclass
class RequirementRow:
    requirement: Requirement
    applies: bool
    statement: object | None = None
    verdict: object | None = None
    missing: str = ""  # STATEMENT_MISSING | EVIDENCE_MISSING | ""
    change: dict | None = None

    @property
    def code(self) -> str:
        return self.requirement.code

    @property
    def mandatory(self) -> bool:
        return self.requirement.nature == Nature.MANDATORY


@dataclass
class DossierProgress:
    rows: list[RequirementRow]
    missing: list[rules.Missing]
    profiles: list[str]
    done: int = 0
    total: int = 0
    blocking: list[RequirementRow] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def dossier_progress(dossier: Dossier, *, verdicts: bool = False) -> DossierProgress:
    """Every requirement of the dossier's set with the vendor's statement (and the verdicts),
    what is missing before submission, and how many applicable mandatory ones are ready."""
    requirements = ref_selectors.requirements_of(dossier)
    statements = ref_selectors.statements_by_requirement(dossier)
    missing = rules.missing_for_submission(requirements, statements, dossier.claimed_profiles)
    missing_by_code = {m.requirement_code: m.code for m in missing}
    verdict_map = ref_selectors.verdicts_by_requirement(dossier) if verdicts else {}
    rows, done, total = [], 0, 0
    for requirement in requirements:
        applies = rules.applies(requirement, dossier.claimed_profiles)
        row = RequirementRow(
            requirement=requirement,
            applies=applies,
            statement=statements.get(requirement.pk),
            verdict=verdict_map.get(requirement.pk),
            missing=missing_by_code.get(requirement.code, ""),
        )
        rows.append(row)
        if applies and requirement.nature == Nature.MANDATORY:
            total += 1
            done += 0 if row.missing else 1
    profiles = sorted({r.profile for r in requirements if r.profile != GENERAL_PROFILE})
    return DossierProgress(rows=rows, missing=missing, profiles=profiles, done=done, total=total)


def latest_changes(dossier: Dossier) -> tuple[int | None, dict]:
    """What changed in the last deposit compared with the one before it."""
    revisions = list(ref_selectors.revision_list(dossier).order_by("-number")[:2])
    if not revisions:
        return None, {}
    current = revisions[0]
    previous = revisions[1].content if len(revisions) > 1 else None
    if previous is None:
        return current.number, {}
    return current.number, ref_selectors.revision_changes(previous, current.content)


def solution_history(referencing: Referencing) -> QuerySet[Referencing]:
    """Every referencing of the same solution, whatever the version, scheme or state."""
    return (
        ref_selectors.referencing_queryset()
        .filter(solution_version__solution_id=referencing.solution_version.solution_id)
        .order_by("-valid_from", "reference")
    )


# --- home pages ------------------------------------------------------------------------------------
def vendor_dossier_tasks(dossiers: QuerySet[Dossier]) -> QuerySet[Dossier]:
    return dossiers.filter(state__in=[DossierState.DRAFT, DossierState.CHANGES_REQUESTED]).order_by(
        "changes_due_at", "created_at"
    )


def order_counts(orders: QuerySet[PurchaseOrder]) -> dict:
    rows = orders.order_by().values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


def upcoming_deadlines(schemes, now: dt.datetime | None = None, limit: int = 8) -> list[dict]:
    """The next deadlines of the given schemes, soonest first."""
    now = now or timezone.now()
    labels = [
        ("submission_closes", "Clôture des dépôts de dossiers"),
        ("order_deadline", "Date limite de signature des commandes"),
        ("installation_deadline", "Date limite d'installation"),
        ("payment_deadline", "Date limite des demandes de paiement"),
    ]
    items = []
    for scheme in schemes:
        for attr, label in labels:
            instant = getattr(scheme, attr)
            if instant and instant >= now:
                items.append({"scheme": scheme, "label": label, "at": instant})
    items.sort(key=lambda i: i["at"])
    return items[:limit]


# --- deployment ------------------------------------------------------------------------------------
def installations_by_month() -> list[dict]:
    """Accepted installations per month (Paris), with the running total."""
    rows = (
        PurchaseOrder.objects.filter(state=OrderState.INSTALLED, accepted_at__isnull=False)
        .annotate(month=TruncMonth("accepted_at", tzinfo=PARIS))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    result, total = [], 0
    for row in rows:
        total += row["n"]
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.astimezone(PARIS).date()
        result.append({"month": month, "count": row["n"], "cumulative": total})
    return result


def open_orders_filter() -> Q:
    return Q(state__in=[OrderState.SENT, OrderState.INSTALLATION_DECLARED, OrderState.RESERVED])
