"""Each dossier action: who may (allowed / 403 / 404 when not theirs / 401), its guards, its audit
entry and its notification."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from core.models import AuditEntry, Notification
from core.timeutils import end_of_day_paris, paris_instant
from referencing_app import services
from referencing_app.models import DossierRevision, DossierState, Referencing
from tests.factories.referencing import dossier_in, fill, make_world, upload

STATE_FOR = {
    "submit": "draft",
    "withdraw": "submitted",
    "assign": "submitted",
    "request-changes": "in_review",
    "approve": "in_review",
    "reject": "in_review",
}
BODY = {
    "submit": {},
    "withdraw": {"reason": "Abandon"},
    "assign": None,
    "request-changes": {"reason": "À compléter", "requirements": ["SC.INS.01"]},
    "approve": {},
    "reject": {"reason": "Non conforme"},
}
MATRIX = {
    # actor: submit, withdraw, assign, request-changes, approve, reject
    "member": (200, 200, 403, 403, 403, 403),
    "other_vendor_member": (404, 404, 404, 404, 404, 404),
    "reviewer": (403, 403, 403, 200, 403, 403),
    "reviewer2": (403, 403, 403, 403, 403, 403),
    "admin2": (403, 403, 200, 403, 200, 200),
    "officer": (403, 403, 403, 403, 403, 403),
    "establishment": (403, 403, 403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401, 401, 401),
}
ACTIONS = list(STATE_FOR)


def _client(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _ready(world, action):
    dossier = dossier_in(world, STATE_FOR[action])
    if action == "submit":
        fill(world, dossier)
    if STATE_FOR[action] == "in_review":
        verdict = "non_compliant" if action == "request-changes" else "compliant"
        for code in ("SC.INS.01", "SC.DMP.01"):
            services.verdict_put(
                actor=world.reviewer,
                dossier=dossier,
                requirement_code=code,
                verdict=verdict,
                comment="Avis motivé.",
            )
    return dossier


@pytest.mark.parametrize("actor", list(MATRIX))
@pytest.mark.parametrize("action", ACTIONS)
def test_role_matrix(db, action, actor):
    world = make_world()
    dossier = _ready(world, action)
    user = None if actor == "anonymous" else getattr(world, actor)
    body = BODY[action] if BODY[action] is not None else {"reviewer": str(world.reviewer.pk)}
    response = _client(user).post(f"/api/v1/dossiers/{dossier.pk}/{action}/", body, format="json")
    expected = MATRIX[actor][ACTIONS.index(action)]
    assert response.status_code == expected, response.content
    if expected != 200:
        assert response.json()["type"] == "client_error"


# --- submit ---------------------------------------------------------------------------------------
def test_submit_records_revision_audit_and_notifies_vendor_and_ans(
    db, django_capture_on_commit_callbacks
):
    world = make_world()
    dossier = dossier_in(world, "draft")
    fill(world, dossier)
    with django_capture_on_commit_callbacks(execute=True):
        dossier = services.dossier_submit(actor=world.member, dossier=dossier)
    assert (dossier.state, dossier.revision, dossier.complete) == ("submitted", 1, True)
    assert dossier.complete_deposit_at == dossier.submitted_at
    assert (
        DossierRevision.objects.get(dossier=dossier).content["statements"]["SC.INS.01"]["claim"]
        == "conform"
    )
    entry = AuditEntry.objects.get(action="dossier.submit")
    assert (entry.actor_id, entry.from_state, entry.to_state) == (
        world.member.pk,
        "draft",
        "submitted",
    )
    recipients = set(
        Notification.objects.filter(event="dossier_submitted").values_list("recipient", flat=True)
    )
    assert recipients == {world.member.pk, world.signatory.pk}
    assert set(
        Notification.objects.filter(event="dossier_to_instruct").values_list("recipient", flat=True)
    ) == {world.admin.pk, world.admin2.pk}
    assert any(world.member.email in m.to and "Dossier déposé" in m.subject for m in mail.outbox)
    assert all("&#x27;" not in m.body for m in mail.outbox)


@pytest.mark.parametrize(
    ("instant", "allowed"),
    [
        (paris_instant(2026, 12, 31, 23, 59), True),  # last minute of the window, Paris time
        (paris_instant(2027, 1, 1, 0, 0), False),  # first minute after it
        (paris_instant(2025, 1, 1, 23, 59), False),  # the opening instant is end of 1 Jan: before
        (paris_instant(2025, 1, 2, 0, 0), True),
    ],
)
def test_submit_window_is_paris_time(db, instant, allowed):
    world = make_world(submission_closes=end_of_day_paris(dt.date(2026, 12, 31)))
    dossier = dossier_in(world, "draft")
    fill(world, dossier)
    client = _client(world.member)
    with time_machine.travel(instant, tick=False):
        response = client.post(f"/api/v1/dossiers/{dossier.pk}/submit/")
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "SUBMISSION_WINDOW_CLOSED"


def test_submit_refuses_with_every_reason_at_once(db):
    world = make_world()
    dossier = services.dossier_create(
        actor=world.member, scheme=world.scheme, solution_version=world.version
    )
    response = _client(world.member).post(f"/api/v1/dossiers/{dossier.pk}/submit/")
    assert response.status_code == 409
    codes = [(e["code"], e["attr"]) for e in response.json()["errors"]]
    assert ("CHARTER_NOT_ACCEPTED", "charter_accepted") in codes
    assert ("STATEMENT_MISSING", "SC.INS.01") in codes
    assert ("STATEMENT_MISSING", "SC.DMP.01") in codes
    assert ("STATEMENT_MISSING", "DPI.IAM.01") not in codes  # profile not claimed
    assert not AuditEntry.objects.filter(action="dossier.submit").exists()


def test_claimed_profile_makes_its_requirements_apply(db):
    world = make_world()
    dossier = dossier_in(world, "draft")
    services.dossier_update(actor=world.member, dossier=dossier, claimed_profiles=["IAM"])
    fill(world, dossier)
    response = _client(world.member).post(f"/api/v1/dossiers/{dossier.pk}/submit/")
    assert response.status_code == 409
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [
        ("STATEMENT_MISSING", "DPI.IAM.01")
    ]


def test_incomplete_deposit_where_allowed_then_completed_later(db):
    world = make_world(allows_incomplete_submission=True)
    dossier = dossier_in(world, "draft")
    fill(world, dossier, evidence=False)
    dossier = services.dossier_submit(actor=world.member, dossier=dossier)
    assert (dossier.state, dossier.complete, dossier.complete_deposit_at) == (
        "submitted",
        False,
        None,
    )
    proof = upload(world)
    services.statement_put(
        actor=world.member,
        dossier=dossier,
        requirement_code="SC.INS.01",
        claim="conform",
        justification="Démontré en recette.",
        evidence_ids=[proof.pk],
    )
    dossier.refresh_from_db(fields=["complete"])
    assert dossier.complete is False
    services.statement_put(
        actor=world.member,
        dossier=dossier,
        requirement_code="SC.DMP.01",
        claim="conform",
        justification="Démontré en recette.",
        evidence_ids=[proof.pk],
    )
    dossier.refresh_from_db(fields=["complete", "complete_deposit_at", "revision"])
    assert dossier.complete is True
    assert dossier.complete_deposit_at is not None
    assert dossier.revision == 2
    assert AuditEntry.objects.filter(action="dossier.complete_deposit").count() == 1


def test_incomplete_deposit_refused_where_the_scheme_forbids_it(db):
    world = make_world(allows_incomplete_submission=False)
    dossier = dossier_in(world, "draft")
    fill(world, dossier, evidence=False)
    with pytest.raises(services.Conflict) as exc:
        services.dossier_submit(actor=world.member, dossier=dossier)
    assert exc.value.codes == ["EVIDENCE_MISSING", "EVIDENCE_MISSING"]


def test_after_deposit_statements_cannot_be_rewritten(db):
    world = make_world()
    dossier = dossier_in(world, "submitted")
    response = _client(world.member).put(
        f"/api/v1/dossiers/{dossier.pk}/statements/SC.INS.01/",
        {"claim": "not_applicable", "justification": "Finalement non"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "DOSSIER_NOT_EDITABLE"


def test_charter_needs_the_legal_signatory(db):
    world = make_world()
    response = _client(world.member).post(
        "/api/v1/dossiers/",
        {
            "scheme": world.scheme.code,
            "solution_version": str(world.version.pk),
            "charter_accepted": True,
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "NOT_LEGAL_SIGNATORY"
    ok = _client(world.signatory).post(
        "/api/v1/dossiers/",
        {
            "scheme": world.scheme.code,
            "solution_version": str(world.version.pk),
            "charter_accepted": True,
        },
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["charter_accepted"] is True
    assert ok.json()["requirement_set_version"] == 1
    assert ok.json()["actions"] == ["submit", "withdraw"]


def test_one_live_dossier_per_scheme_and_version(db):
    world = make_world()
    dossier_in(world, "draft")
    response = _client(world.signatory).post(
        "/api/v1/dossiers/",
        {"scheme": world.scheme.code, "solution_version": str(world.version.pk)},
        format="json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["errors"][0]["code"] == "DOSSIER_ALREADY_OPEN"


def test_dossier_pins_the_requirement_set_version_it_was_filed_on(db):
    from django.utils import timezone

    from sons.models import RequirementSet

    world = make_world()
    dossier = dossier_in(world, "draft")
    RequirementSet.objects.create(scheme=world.scheme, version=2, published_at=timezone.now())
    dossier.refresh_from_db(fields=["requirement_set"])
    assert dossier.requirement_set.version == 1


# --- assign --------------------------------------------------------------------------------------
def test_assign_needs_an_ans_reviewer(db, django_capture_on_commit_callbacks):
    world = make_world()
    dossier = dossier_in(world, "submitted")
    client = _client(world.admin)
    refused = client.post(
        f"/api/v1/dossiers/{dossier.pk}/assign/", {"reviewer": str(world.member.pk)}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "reviewer"
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            f"/api/v1/dossiers/{dossier.pk}/assign/",
            {"reviewer": str(world.reviewer.pk)},
            format="json",
        )
    assert ok.status_code == 200
    assert ok.json()["reviewer"] == str(world.reviewer.pk)
    assert AuditEntry.objects.get(action="dossier.assign").changes["reviewer"] == [
        None,
        str(world.reviewer.pk),
    ]
    assert Notification.objects.filter(event="dossier_assigned", recipient=world.reviewer).exists()


# --- verdicts and request changes --------------------------------------------------------------------
def test_non_compliant_verdict_needs_a_comment_and_only_the_assigned_reviewer_judges(db):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    url = f"/api/v1/dossiers/{dossier.pk}/verdicts/SC.INS.01/"
    no_comment = _client(world.reviewer).put(url, {"verdict": "non_compliant"}, format="json")
    assert no_comment.status_code == 400
    assert no_comment.json()["errors"][0]["code"] == "comment_required"
    assert (
        _client(world.reviewer2).put(url, {"verdict": "compliant"}, format="json").status_code
        == 403
    )
    assert (
        _client(world.member).put(url, {"verdict": "compliant"}, format="json").status_code == 403
    )
    unknown = _client(world.reviewer).put(
        f"/api/v1/dossiers/{dossier.pk}/verdicts/NOPE.01/", {"verdict": "compliant"}, format="json"
    )
    assert unknown.status_code == 404
    not_claimed = _client(world.reviewer).put(
        f"/api/v1/dossiers/{dossier.pk}/verdicts/DPI.IAM.01/",
        {"verdict": "compliant"},
        format="json",
    )
    assert not_claimed.status_code == 400
    ok = _client(world.reviewer).put(url, {"verdict": "compliant", "comment": ""}, format="json")
    assert ok.status_code == 200
    assert AuditEntry.objects.filter(action="dossier.verdict").count() == 1


def test_request_changes_needs_non_compliant_verdicts_with_comments(
    db, django_capture_on_commit_callbacks
):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    client = _client(world.reviewer)
    url = f"/api/v1/dossiers/{dossier.pk}/request-changes/"
    refused = client.post(url, {"reason": "À revoir", "requirements": ["SC.INS.01"]}, format="json")
    assert refused.status_code == 409
    assert refused.json()["errors"] == [
        {
            "code": "VERDICT_REQUIRED",
            "detail": refused.json()["errors"][0]["detail"],
            "attr": "SC.INS.01",
        }
    ]
    assert (
        client.post(url, {"reason": "À revoir", "requirements": []}, format="json").status_code
        == 400
    )
    assert client.post(url, {"requirements": ["SC.INS.01"]}, format="json").status_code == 400
    services.verdict_put(
        actor=world.reviewer,
        dossier=dossier,
        requirement_code="SC.INS.01",
        verdict="non_compliant",
        comment="Trace absente",
    )
    with time_machine.travel(paris_instant(2026, 3, 20, 15, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            ok = client.post(
                url, {"reason": "À revoir", "requirements": ["SC.INS.01"]}, format="json"
            )
    assert ok.status_code == 200
    # 15 days (the scheme's delay) after 20 March, end of day Paris, across the DST change of 29 March
    assert ok.json()["changes_due_at"] == "2026-04-04T23:59:59.999999+02:00"
    entry = AuditEntry.objects.get(action="dossier.request_changes")
    assert (entry.from_state, entry.to_state, entry.reason) == (
        "in_review",
        "changes_requested",
        "À revoir",
    )
    notification = Notification.objects.get(
        event="dossier_changes_requested", recipient=world.member
    )
    assert "4 avril 2026" in notification.body
    assert "SC.INS.01" in notification.body


def test_vendor_sees_verdicts_once_changes_are_requested(db):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    services.verdict_put(
        actor=world.reviewer,
        dossier=dossier,
        requirement_code="SC.INS.01",
        verdict="non_compliant",
        comment="Trace absente",
    )
    url = f"/api/v1/dossiers/{dossier.pk}/verdicts/"
    assert _client(world.member).get(url).json() == []
    services.dossier_request_changes(
        actor=world.reviewer, dossier=dossier, reason="x", requirement_codes=["SC.INS.01"]
    )
    assert _client(world.member).get(url).json()[0]["verdict"] == "non_compliant"


def test_resubmission_records_what_changed(db):
    world = make_world()
    dossier = dossier_in(world, "changes_requested")
    proof = upload(world, "trace-insi.pdf")
    services.statement_put(
        actor=world.member,
        dossier=dossier,
        requirement_code="SC.INS.01",
        claim="conform",
        justification="Trace INSi jointe.",
        evidence_ids=[proof.pk],
    )
    services.dossier_submit(actor=world.member, dossier=dossier)
    revisions = _client(world.reviewer).get(f"/api/v1/dossiers/{dossier.pk}/revisions/").json()
    assert [r["number"] for r in revisions] == [1, 2]
    changes = revisions[1]["changes_since_previous"]
    assert list(changes) == ["SC.INS.01"]
    assert changes["SC.INS.01"]["fields"]["justification"] == {
        "before": "Démontré en recette.",
        "after": "Trace INSi jointe.",
    }
    assert revisions[0]["changes_since_previous"]["SC.INS.01"]["change"] == "added"


def test_resubmission_after_the_correction_delay_is_refused(db):
    world = make_world()
    dossier = dossier_in(world, "changes_requested")
    with time_machine.travel(dossier.changes_due_at + dt.timedelta(microseconds=1), tick=False):
        with pytest.raises(services.Conflict) as exc:
            services.dossier_submit(actor=world.member, dossier=dossier)
    assert exc.value.codes == ["CHANGES_OVERDUE"]


# --- decisions -------------------------------------------------------------------------------------
def test_approve_creates_a_referencing_with_a_readable_unique_reference(
    db, django_capture_on_commit_callbacks
):
    world = make_world()
    with time_machine.travel(paris_instant(2026, 5, 4, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            dossier = dossier_in(world, "approved")
    referencing = Referencing.objects.get(dossier=dossier)
    assert referencing.reference == f"{world.scheme.code}-2026-0001"
    assert referencing.state == "active"
    assert referencing.valid_until == world.scheme.payment_deadline
    detail = _client(world.member).get(f"/api/v1/dossiers/{dossier.pk}/").json()
    assert detail["reference"] == referencing.reference
    assert detail["decided_at"] is not None
    assert AuditEntry.objects.get(action="dossier.approve").changes == {
        "reference": [None, referencing.reference]
    }
    assert Notification.objects.filter(event="dossier_approved", recipient=world.member).exists()
    assert any(referencing.reference in m.subject for m in mail.outbox)


def test_reference_numbers_follow_each_other(db):
    first = make_world()
    dossier_in(first, "approved")
    second = make_world()
    second.scheme = first.scheme
    from tests.factories.vendors import SolutionFactory, SolutionVersionFactory

    second.version = SolutionVersionFactory(
        solution=SolutionFactory(vendor=second.vendor, category=first.scheme.category)
    )
    dossier_in(second, "approved")
    refs = sorted(Referencing.objects.values_list("reference", flat=True))
    assert [r[-4:] for r in refs] == ["0001", "0002"]


def test_approve_needs_every_applicable_mandatory_requirement_compliant(db):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    services.verdict_put(
        actor=world.reviewer, dossier=dossier, requirement_code="SC.INS.01", verdict="compliant"
    )
    services.verdict_put(
        actor=world.reviewer,
        dossier=dossier,
        requirement_code="SC.SEC.09",
        verdict="non_compliant",
        comment="Recommandation non suivie",
    )
    response = _client(world.admin2).post(f"/api/v1/dossiers/{dossier.pk}/approve/")
    assert response.status_code == 409
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [
        ("REQUIREMENT_NOT_COMPLIANT", "SC.DMP.01")
    ]
    services.verdict_put(
        actor=world.reviewer, dossier=dossier, requirement_code="SC.DMP.01", verdict="compliant"
    )
    assert _client(world.admin2).post(f"/api/v1/dossiers/{dossier.pk}/approve/").status_code == 200


def test_four_eyes_an_admin_who_reviewed_cannot_decide(db):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    services.verdict_put(
        actor=world.admin, dossier=dossier, requirement_code="SC.INS.01", verdict="compliant"
    )
    services.verdict_put(
        actor=world.reviewer, dossier=dossier, requirement_code="SC.DMP.01", verdict="compliant"
    )
    for action in ("approve", "reject"):
        response = _client(world.admin).post(
            f"/api/v1/dossiers/{dossier.pk}/{action}/", {"reason": "x"}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "FOUR_EYES"
    assert _client(world.admin2).post(f"/api/v1/dossiers/{dossier.pk}/approve/").status_code == 200


def test_reject_needs_a_reason_and_notifies(db, django_capture_on_commit_callbacks):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    url = f"/api/v1/dossiers/{dossier.pk}/reject/"
    assert _client(world.admin2).post(url, {}, format="json").status_code == 400
    assert _client(world.admin2).post(url, {"reason": "   "}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(world.admin2).post(
            url, {"reason": "Preuves insuffisantes"}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["decision_reason"] == "Preuves insuffisantes"
    assert AuditEntry.objects.get(action="dossier.reject").reason == "Preuves insuffisantes"
    assert (
        "Preuves insuffisantes"
        in Notification.objects.get(event="dossier_rejected", recipient=world.member).body
    )


def test_withdraw_is_audited_and_frees_the_version_for_a_new_dossier(db):
    world = make_world()
    dossier = dossier_in(world, "submitted")
    services.dossier_withdraw(
        actor=world.member, dossier=dossier, reason="Nouvelle version à venir"
    )
    assert AuditEntry.objects.get(action="dossier.withdraw").reason == "Nouvelle version à venir"
    again = services.dossier_create(
        actor=world.member, scheme=world.scheme, solution_version=world.version
    )
    assert again.state == DossierState.DRAFT


# --- comments ------------------------------------------------------------------------------------
def test_internal_notes_are_never_shown_to_the_vendor(db, django_capture_on_commit_callbacks):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    url = f"/api/v1/dossiers/{dossier.pk}/comments/"
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            _client(world.reviewer)
            .post(url, {"body": "Question publique"}, format="json")
            .status_code
            == 201
        )
        assert (
            _client(world.reviewer)
            .post(url, {"body": "Note interne", "internal": True}, format="json")
            .status_code
            == 201
        )
        assert (
            _client(world.member).post(url, {"body": "Réponse"}, format="json").status_code == 201
        )
    assert (
        _client(world.member).post(url, {"body": "x", "internal": True}, format="json").status_code
        == 403
    )
    assert [c["body"] for c in _client(world.member).get(url).json()] == [
        "Question publique",
        "Réponse",
    ]
    assert len(_client(world.admin).get(url).json()) == 3
    assert _client(world.other_vendor_member).get(url).status_code == 404
    assert Notification.objects.filter(event="dossier_comment", recipient=world.member).count() == 1
    assert (
        Notification.objects.filter(event="dossier_comment", recipient=world.reviewer).count() == 1
    )
    assert AuditEntry.objects.filter(action="dossier.comment").count() == 3


# --- reviewer queue -----------------------------------------------------------------------------
def test_queue_puts_complete_dossiers_first_then_fifo(db):
    world = make_world(allows_incomplete_submission=True)
    from tests.factories.vendors import SolutionFactory, SolutionVersionFactory

    def new_version():
        return SolutionVersionFactory(
            solution=SolutionFactory(vendor=world.vendor, category=world.scheme.category)
        )

    order = []
    for day, complete in [(3, False), (4, True), (5, False), (6, True)]:
        world.version = new_version()
        dossier = services.dossier_create(
            actor=world.signatory,
            scheme=world.scheme,
            solution_version=world.version,
            charter_accepted=True,
        )
        fill(world, dossier, evidence=complete)
        services.dossier_submit(
            actor=world.member, dossier=dossier, at=paris_instant(2026, 2, day, 9)
        )
        order.append((day, complete, str(dossier.pk)))
    queue = _client(world.admin).get("/api/v1/dossiers/queue/").json()["results"]
    expected = [pk for _, c, pk in order if c] + [pk for _, c, pk in order if not c]
    assert [d["id"] for d in queue] == expected
    assert _client(world.member).get("/api/v1/dossiers/queue/").status_code == 404


def test_reviewer_queue_and_dossier_list_have_constant_query_counts(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = make_world()
    dossier = dossier_in(world, "submitted")
    for _ in range(3):
        other = make_world()
        other.scheme = world.scheme
        from tests.factories.vendors import SolutionFactory, SolutionVersionFactory

        other.version = SolutionVersionFactory(
            solution=SolutionFactory(vendor=other.vendor, category=world.scheme.category)
        )
        dossier_in(other, "submitted")
    assert dossier
    client = _client(world.admin)
    for url in ("/api/v1/dossiers/queue/", "/api/v1/dossiers/"):
        counts = []
        for size in (1, 100):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url, {"page_size": size}).status_code == 200
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1], url


def test_end_of_day_helper_matches_paris_midnight():
    assert end_of_day_paris(dt.date(2026, 3, 29)).isoformat() == "2026-03-29T21:59:59.999999+00:00"
