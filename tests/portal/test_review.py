"""Instruction and decisions: queue, assignment, verdicts (plain and htmx), change request,
what changed since the previous deposit, comments with internal notes, approve and reject."""

import pytest
from django.urls import reverse

from referencing_app import services
from referencing_app.models import Comment, Dossier, Referencing, Verdict
from tests.factories.referencing import dossier_in
from tests.portal.conftest import messages_of

pytestmark = pytest.mark.django_db


def _state(dossier):
    return Dossier.objects.get(pk=dossier.pk).state


def test_queue_lists_assigned_dossiers(world, client_as):
    dossier = dossier_in(world, "in_review")
    response = client_as(world.reviewer).get(reverse("portal:review_queue"))
    assert list(response.context["rows"]) == [dossier]
    response = client_as(world.reviewer2).get(reverse("portal:review_queue"))
    assert list(response.context["rows"]) == []


def test_admin_assigns_a_submitted_dossier(world, client_as):
    dossier = dossier_in(world, "submitted")
    client = client_as(world.admin)
    page = client.get(reverse("portal:review_dossier", args=[dossier.pk])).content.decode()
    assert 'id="assign-form"' in page
    client.post(
        reverse("portal:ans_assign", args=[dossier.pk]), {"assign-reviewer": world.reviewer.pk}
    )
    assert _state(dossier) == "in_review"


def test_instruction_page_shows_statement_evidence_and_verdict_forms(world, client_as):
    dossier = dossier_in(world, "in_review")
    response = client_as(world.reviewer).get(reverse("portal:review_dossier", args=[dossier.pk]))
    page = response.content.decode()
    assert response.context["can_judge"]
    assert "preuve.pdf" in page
    assert 'id="btn-verdict-SC.INS.01"' in page
    assert 'id="verdict-SC.INS.01-non_compliant"' in page


def test_verdict_plain_post_and_htmx(world, client_as):
    dossier = dossier_in(world, "in_review")
    client = client_as(world.reviewer)
    url = reverse("portal:review_verdict", args=[dossier.pk, "SC.INS.01"])
    response = client.post(url, {"verdict": "compliant"})
    assert response.status_code == 302
    assert response["Location"].endswith("#req-SC.INS.01")
    assert (
        Verdict.objects.get(dossier=dossier, requirement__code="SC.INS.01").verdict == "compliant"
    )
    # htmx answers with the requirement's block only
    url = reverse("portal:review_verdict", args=[dossier.pk, "SC.DMP.01"])
    response = client.post(url, {"verdict": "non_compliant", "comment": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "comment_required" in page
    response = client.post(
        url, {"verdict": "non_compliant", "comment": "Trace absente"}, HTTP_HX_REQUEST="true"
    )
    assert "Avis enregistré" in response.content.decode()


def test_verdict_refused_for_another_reviewer_shows_message(world, client_as):
    dossier = dossier_in(world, "in_review")
    response = client_as(world.reviewer2).post(
        reverse("portal:review_verdict", args=[dossier.pk, "SC.INS.01"]),
        {"verdict": "compliant"},
        follow=True,
    )
    assert response.status_code == 200
    assert any("permission_denied" in m for m in messages_of(response))


def test_request_changes_then_vendor_sees_it_and_changes_are_shown(world, client_as):
    dossier = dossier_in(world, "in_review")
    reviewer = client_as(world.reviewer)
    reviewer.post(
        reverse("portal:review_verdict", args=[dossier.pk, "SC.INS.01"]),
        {"verdict": "non_compliant", "comment": "Trace INSi absente"},
    )
    response = reviewer.post(
        reverse("portal:review_request_changes", args=[dossier.pk]),
        {"requirements": ["SC.INS.01"], "reason": "Fournir la trace"},
    )
    assert response.status_code == 302
    assert _state(dossier) == "changes_requested"
    # the vendor sees the request and the verdict, fixes and resubmits
    vendor = client_as(world.member)
    page = vendor.get(reverse("portal:vendor_dossier", args=[dossier.pk])).content.decode()
    assert "Fournir la trace" in page
    assert "Trace INSi absente" in page
    statement = dossier.statements.get(requirement__code="SC.INS.01")
    vendor.post(
        reverse("portal:vendor_statement", args=[dossier.pk, "SC.INS.01"]),
        {
            "claim": "conform",
            "justification": "Trace jointe",
            "evidence": [e.pk for e in statement.evidence.all()],
        },
    )
    vendor.post(reverse("portal:vendor_dossier_submit", args=[dossier.pk]))
    assert _state(dossier) == "submitted"
    services.dossier_assign(
        actor=world.admin, dossier=Dossier.objects.get(pk=dossier.pk), reviewer=world.reviewer
    )
    response = reviewer.get(reverse("portal:review_dossier", args=[dossier.pk]))
    assert response.context["changed_count"] == 1
    assert "Trace jointe" in response.content.decode()
    filtered = reviewer.get(
        reverse("portal:review_dossier", args=[dossier.pk]) + "?filtre=modifiees"
    )
    assert [r.code for r in filtered.context["rows"]] == ["SC.INS.01"]


def test_request_changes_without_non_compliant_verdict_is_refused(world, client_as):
    dossier = dossier_in(world, "in_review")
    response = client_as(world.reviewer).post(
        reverse("portal:review_request_changes", args=[dossier.pk]),
        {"requirements": ["SC.INS.01"], "reason": "?"},
    )
    assert response.status_code == 200
    assert "VERDICT_REQUIRED" in response.content.decode()
    assert _state(dossier) == "in_review"


def test_internal_notes_are_never_shown_to_the_vendor(world, client_as):
    dossier = dossier_in(world, "in_review")
    reviewer = client_as(world.reviewer)
    url = reverse("portal:dossier_comment", args=[dossier.pk])
    reviewer.post(url, {"body": "Note confidentielle", "internal": "on"})
    reviewer.post(url, {"body": "Question pour vous", "requirement_code": "SC.INS.01"})
    assert Comment.objects.filter(dossier=dossier).count() == 2
    vendor = client_as(world.member)
    page = vendor.get(reverse("portal:vendor_dossier", args=[dossier.pk])).content.decode()
    assert "Question pour vous" in page
    assert "Note confidentielle" not in page
    # a vendor cannot post an internal note
    vendor.post(url, {"body": "Réponse", "internal": "on"})
    assert Comment.objects.filter(dossier=dossier, body="Réponse", internal=False).exists()


def _all_compliant(world, dossier):
    for code in ("SC.INS.01", "SC.DMP.01"):
        services.verdict_put(
            actor=world.reviewer, dossier=dossier, requirement_code=code, verdict="compliant"
        )


def test_admin_approves_and_four_eyes_is_shown(world, client_as):
    dossier = dossier_in(world, "in_review")
    _all_compliant(world, dossier)
    # the admin who reviewed cannot decide
    services.verdict_put(
        actor=world.admin, dossier=dossier, requirement_code="SC.SEC.09", verdict="compliant"
    )
    response = client_as(world.admin).post(
        reverse("portal:ans_approve", args=[dossier.pk]), follow=True
    )
    assert any("FOUR_EYES" in m for m in messages_of(response))
    assert _state(dossier) == "in_review"
    response = client_as(world.admin2).post(
        reverse("portal:ans_approve", args=[dossier.pk]), follow=True
    )
    assert _state(dossier) == "approved"
    reference = Referencing.objects.get(dossier=dossier).reference
    assert any(reference in m for m in messages_of(response))


def test_admin_rejects_with_reason(world, client_as):
    dossier = dossier_in(world, "in_review")
    client = client_as(world.admin2)
    client.post(reverse("portal:ans_reject", args=[dossier.pk]), {"reject-reason": ""})
    assert _state(dossier) == "in_review"
    client.post(reverse("portal:ans_reject", args=[dossier.pk]), {"reject-reason": "Hors champ"})
    assert _state(dossier) == "rejected"


def test_referencing_suspend_reinstate_revoke(world, client_as):
    dossier = dossier_in(world, "approved")
    referencing = Referencing.objects.get(dossier=dossier)
    client = client_as(world.admin)

    def action(name, data):
        return client.post(
            reverse("portal:ans_referencing_action", args=[referencing.pk, name]),
            data,
            follow=True,
        )

    action("suspendre", {"suspend-reason": ""})
    assert Referencing.objects.get(pk=referencing.pk).state == "active"
    action("suspendre", {"suspend-reason": "Faille de sécurité"})
    assert Referencing.objects.get(pk=referencing.pk).state == "suspended"
    # the public detail page is gone while suspended
    assert (
        client_as(None).get(reverse("portal:catalogue_detail", args=[referencing.pk])).status_code
        == 404
    )
    action("retablir", {"reinstate-reason": "Corrigée"})
    assert Referencing.objects.get(pk=referencing.pk).state == "active"
    response = action("retablir", {"reinstate-reason": ""})
    assert any("TRANSITION_NOT_ALLOWED" in m for m in messages_of(response))
    action("retirer", {"revoke-reason": "Fraude"})
    assert Referencing.objects.get(pk=referencing.pk).state == "revoked"
    page = client.get(reverse("portal:ans_referencing", args=[referencing.pk])).content.decode()
    assert "referencing.revoke" in page
