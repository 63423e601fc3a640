"""Pure rules of a dossier: which requirements apply, what is missing, what blocks approval.

No database writes; used by services (guards), selectors (what the UI shows) and tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import ErrorItem
from sons.models import GENERAL_PROFILE, Nature, Requirement


@dataclass(frozen=True)
class Missing:
    code: str
    requirement_code: str
    detail: str

    def as_error(self) -> ErrorItem:
        return ErrorItem(self.code, self.detail, self.requirement_code)


def applies(requirement: Requirement, claimed_profiles: Iterable[str]) -> bool:
    return requirement.profile == GENERAL_PROFILE or requirement.profile in set(claimed_profiles)


def missing_for_submission(
    requirements, statements_by_req: dict, claimed_profiles
) -> list[Missing]:
    """Applicable mandatory requirements without a statement, or without the evidence asked."""
    missing = []
    for requirement in requirements:
        if requirement.nature != Nature.MANDATORY or not applies(requirement, claimed_profiles):
            continue
        statement = statements_by_req.get(requirement.pk)
        if statement is None:
            missing.append(
                Missing(
                    "STATEMENT_MISSING", requirement.code, "Déclaration de conformité manquante."
                )
            )
        elif (
            requirement.evidence_required
            and statement.claim == "conform"
            and not statement.evidence_ids
        ):
            missing.append(
                Missing("EVIDENCE_MISSING", requirement.code, "Preuve attendue manquante.")
            )
    return missing


def not_compliant_for_approval(
    requirements, verdicts_by_req: dict, claimed_profiles
) -> list[Missing]:
    """Applicable mandatory requirements not judged `compliant` (recommended never block)."""
    blocking = []
    for requirement in requirements:
        if requirement.nature != Nature.MANDATORY or not applies(requirement, claimed_profiles):
            continue
        verdict = verdicts_by_req.get(requirement.pk)
        if verdict is None or verdict.verdict != "compliant":
            blocking.append(
                Missing(
                    "REQUIREMENT_NOT_COMPLIANT",
                    requirement.code,
                    "Exigence obligatoire non jugée conforme.",
                )
            )
    return blocking
