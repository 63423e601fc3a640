"""The dossier state machine through the API: every (state, action) pair, allowed or 409."""

import pytest
from rest_framework.test import APIClient

from core.models import AuditEntry
from referencing_app import services
from referencing_app.models import DossierState
from tests.factories.referencing import dossier_in, fill, make_world

ACTIONS = ["submit", "withdraw", "assign", "request-changes", "approve", "reject"]
ALLOWED = {
    ("draft", "submit"): "submitted",
    ("changes_requested", "submit"): "submitted",
    ("draft", "withdraw"): "withdrawn",
    ("submitted", "withdraw"): "withdrawn",
    ("changes_requested", "withdraw"): "withdrawn",
    ("submitted", "assign"): "in_review",
    ("in_review", "request-changes"): "changes_requested",
    ("in_review", "approve"): "approved",
    ("in_review", "reject"): "rejected",
}


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _prepare(world, dossier, action):
    """Satisfy the action's other guards, so that only the state decides."""
    if dossier.state == DossierState.DRAFT:
        fill(world, dossier)
    if dossier.state != DossierState.IN_REVIEW:
        return
    verdict = "non_compliant" if action == "request-changes" else "compliant"
    for code in ("SC.INS.01", "SC.DMP.01"):
        services.verdict_put(
            actor=world.reviewer,
            dossier=dossier,
            requirement_code=code,
            verdict=verdict,
            comment="Avis motivé.",
        )


def _call(world, dossier, action):
    actor, body = {
        "submit": (world.member, {}),
        "withdraw": (world.member, {"reason": "Abandon du projet"}),
        "assign": (world.admin, {"reviewer": str(world.reviewer.pk)}),
        "request-changes": (
            world.reviewer,
            {"reason": "À compléter", "requirements": ["SC.INS.01"]},
        ),
        "approve": (world.admin2, {}),
        "reject": (world.admin2, {"reason": "Non conforme au référentiel"}),
    }[action]
    return _client(actor).post(f"/api/v1/dossiers/{dossier.pk}/{action}/", body, format="json")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", [s.value for s in DossierState])
def test_transition_table(db, state, action):
    world = make_world()
    dossier = dossier_in(world, state)
    _prepare(world, dossier, action)
    entries_before = AuditEntry.objects.count()
    response = _call(world, dossier, action)
    expected = ALLOWED.get((state, action))
    if expected:
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == expected
        entry = AuditEntry.objects.order_by("-seq").first()
        assert (entry.from_state, entry.to_state) == (state, expected)
        assert entry.object_id == str(dossier.pk)
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["errors"][0]["code"] == "TRANSITION_NOT_ALLOWED"
        assert AuditEntry.objects.count() == entries_before
