"""Issue #9, through the public API: four-eyes on dossier decisions that verdict overwrites cannot
wear away (append-only verdict history), the per-object `actions` agreeing with the services,
the charter reserved to the legal signatory both ways, comments by assigned reviewers only."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from core.models import AuditEntry, Notification
from referencing_app.models import Comment, Dossier, Referencing, Verdict, VerdictRecord
from tests.factories.accounts import UserFactory
from tests.factories.referencing import dossier_in, make_world
from tests.factories.vendors import SolutionVersionFactory

pytestmark = pytest.mark.django_db

MANDATORY = ("SC.INS.01", "SC.DMP.01")


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _put_verdict(user, dossier, code, verdict="compliant", comment=""):
    response = _client(user).put(
        f"/api/v1/dossiers/{dossier.pk}/verdicts/{code}/",
        {"verdict": verdict, "comment": comment},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response


def _decide(user, dossier, action):
    body = {"reason": "Décision motivée"} if action == "reject" else {}
    return _client(user).post(f"/api/v1/dossiers/{dossier.pk}/{action}/", body, format="json")


def _codes(response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def _state(dossier) -> str:
    return Dossier.objects.get(pk=dossier.pk).state


def _exploit(world):
    """The finding: the admin gives a verdict, the assigned reviewer gives the same verdict
    again (the current `Verdict` row now names the reviewer), every requirement compliant."""
    dossier = dossier_in(world, "in_review")
    _put_verdict(world.admin, dossier, "SC.INS.01")
    _put_verdict(world.reviewer, dossier, "SC.INS.01")
    _put_verdict(world.reviewer, dossier, "SC.DMP.01")
    return dossier


# --- four-eyes ---------------------------------------------------------------------------------
def test_verdict_overwritten_by_the_reviewer_still_bars_the_admin_from_deciding(db):
    world = make_world()
    dossier = _exploit(world)
    current = Verdict.objects.get(dossier=dossier, requirement__code="SC.INS.01")
    assert current.reviewer == world.reviewer  # the current verdict names the reviewer now…
    for action in ("approve", "reject"):
        response = _decide(world.admin, dossier, action)
        assert response.status_code == 403, response.content
        assert _codes(response) == ["FOUR_EYES"]  # …but the admin gave one too
    assert _state(dossier) == "in_review"
    assert not Referencing.objects.filter(dossier=dossier).exists()
    assert not AuditEntry.objects.filter(action__in=["dossier.approve", "dossier.reject"]).exists()
    # an admin who took no part in the instruction (admin2 only assigned it) decides
    response = _decide(world.admin2, dossier, "approve")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "approved"


def test_a_verdict_on_an_earlier_revision_still_bars_after_resubmission_and_reassignment(db):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    assert dossier.revision == 1
    _put_verdict(world.admin, dossier, "SC.INS.01", "non_compliant", "Trace INSi absente.")
    response = _client(world.reviewer).post(
        f"/api/v1/dossiers/{dossier.pk}/request-changes/",
        {"reason": "Compléter la trace", "requirements": ["SC.INS.01"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = _client(world.member).post(f"/api/v1/dossiers/{dossier.pk}/submit/")
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 2
    response = _client(world.admin2).post(
        f"/api/v1/dossiers/{dossier.pk}/assign/",
        {"reviewer": str(world.reviewer2.pk)},
        format="json",
    )
    assert response.status_code == 200, response.content
    for code in MANDATORY:  # revision 2 judged by the new reviewer: no verdict of admin remains
        _put_verdict(world.reviewer2, dossier, code)
    assert not Verdict.objects.filter(dossier=dossier, reviewer=world.admin).exists()

    response = _decide(world.admin, dossier, "approve")
    assert response.status_code == 403
    assert _codes(response) == ["FOUR_EYES"]
    # the first reviewer, who requested changes and is no longer assigned, promoted admin since
    promoted = world.reviewer
    promoted.role = Role.ANS_ADMIN
    promoted.save(update_fields=["role"])
    response = _decide(promoted, dossier, "reject")
    assert response.status_code == 403
    assert _codes(response) == ["FOUR_EYES"]
    assert _state(dossier) == "in_review"
    # admin2 assigned the dossier, nothing more: assigning is not instructing
    response = _decide(world.admin2, dossier, "approve")
    assert response.status_code == 200, response.content


@override_settings(DECISION_FOUR_EYES=False)
def test_four_eyes_can_be_switched_off_but_never_for_the_assigned_reviewer(db):
    world = make_world()
    dossier = _exploit(world)
    response = _decide(world.admin, dossier, "approve")
    assert response.status_code == 200, response.content
    # api.md: approve and reject are for an admin "not the assigned reviewer", whatever the setting
    other = make_world()
    other_dossier = dossier_in(other, "submitted")
    response = _client(other.admin).post(
        f"/api/v1/dossiers/{other_dossier.pk}/assign/",
        {"reviewer": str(other.admin2.pk)},
        format="json",
    )
    assert response.status_code == 200, response.content
    for code in MANDATORY:
        _put_verdict(other.admin2, other_dossier, code)
    response = _decide(other.admin2, other_dossier, "approve")
    assert response.status_code == 403
    assert _codes(response) == ["FOUR_EYES"]
    assert (
        "approve"
        not in _client(other.admin2).get(f"/api/v1/dossiers/{other_dossier.pk}/").json()["actions"]
    )


# --- actions offered ⇔ allowed ------------------------------------------------------------------
@pytest.mark.parametrize("four_eyes", [True, False])
def test_actions_offered_agree_with_what_the_services_allow(db, four_eyes):
    """For each user: `approve`/`reject` in the dossier's `actions` (detail, list and queue)
    exactly when the service does not refuse them with 403. SC.DMP.01 is left without a verdict,
    so an allowed approval answers 409 and changes nothing."""
    world = make_world()
    dossier = dossier_in(world, "in_review")
    _put_verdict(world.admin, dossier, "SC.INS.01")
    _put_verdict(world.reviewer, dossier, "SC.INS.01")
    admin3 = UserFactory(role=Role.ANS_ADMIN)
    superuser = UserFactory(role="", is_superuser=True, is_staff=True)
    users = {
        "admin (gave a verdict)": world.admin,
        "admin2 (assigned it)": world.admin2,
        "admin3": admin3,
        "superuser": superuser,
        "reviewer (assigned)": world.reviewer,
        "reviewer2": world.reviewer2,
        "member": world.member,
    }
    expected_offered = {
        "admin (gave a verdict)": not four_eyes,
        "admin2 (assigned it)": True,
        "admin3": True,
        "superuser": True,
        "reviewer (assigned)": False,
        "reviewer2": False,
        "member": False,
    }
    with override_settings(DECISION_FOUR_EYES=four_eyes):
        for name, user in users.items():
            client = _client(user)
            detail = client.get(f"/api/v1/dossiers/{dossier.pk}/").json()["actions"]
            listed = next(
                d["actions"]
                for d in client.get("/api/v1/dossiers/").json()["results"]
                if d["id"] == str(dossier.pk)
            )
            assert detail == listed, name
            if user.has_role(Role.ANS_ADMIN, Role.REVIEWER):
                queue = client.get("/api/v1/dossiers/queue/").json()["results"]
                for row in queue:
                    if row["id"] == str(dossier.pk):
                        assert row["actions"] == detail, name
            offered = {"approve", "reject"} & set(detail)
            assert offered in (set(), {"approve", "reject"}), name
            response = _decide(user, dossier, "approve")
            allowed = response.status_code != 403
            assert bool(offered) == allowed == expected_offered[name], (name, response.content)
            if allowed:
                assert response.status_code == 409
                assert _codes(response) == ["REQUIREMENT_NOT_COMPLIANT"]
    assert _state(dossier) == "in_review"


def test_dossier_list_actions_cost_the_same_queries_for_one_and_many_dossiers(db):
    world = make_world()
    dossier_in(world, "in_review")
    client = _client(world.admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/dossiers/").status_code == 200
            assert client.get("/api/v1/dossiers/queue/").status_code == 200
        return len(ctx.captured_queries)

    first = count()
    for _ in range(3):
        world.version = SolutionVersionFactory(solution=world.version.solution)
        dossier = dossier_in(world, "in_review")
        _put_verdict(world.admin, dossier, "SC.INS.01")
    assert count() == first


def test_review_page_offers_the_decision_only_to_an_admin_who_took_no_part(db):
    world = make_world()
    dossier = _exploit(world)
    url = reverse("portal:review_dossier", args=[dossier.pk])

    def page_of(user) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    took_part = page_of(world.admin)
    assert 'id="btn-approve"' not in took_part
    assert 'id="btn-reject"' not in took_part
    assert 'id="four-eyes"' in took_part
    free = page_of(world.admin2)
    assert 'id="btn-approve"' in free
    assert 'id="btn-reject"' in free


# --- history -----------------------------------------------------------------------------------
def test_history_keeps_one_record_per_put_with_its_author_and_revision(db):
    world = make_world()
    dossier = _exploit(world)
    url = f"/api/v1/dossiers/{dossier.pk}/verdict-history/"
    response = _client(world.admin2).get(url)
    assert response.status_code == 200, response.content
    rows = [
        (r["requirement_code"], r["verdict"], r["given_by"], r["given_by_username"], r["revision"])
        for r in response.json()
    ]
    assert rows == [
        ("SC.INS.01", "compliant", str(world.admin.pk), world.admin.username, 1),
        ("SC.INS.01", "compliant", str(world.reviewer.pk), world.reviewer.username, 1),
        ("SC.DMP.01", "compliant", str(world.reviewer.pk), world.reviewer.username, 1),
    ]
    assert all(r["given_at"] for r in response.json())
    # a new verdict on the same requirement adds a record and changes none
    _put_verdict(world.reviewer, dossier, "SC.INS.01", "non_compliant", "Finalement non.")
    filtered = _client(world.reviewer2).get(url, {"requirement": "SC.INS.01"}).json()
    assert [(r["given_by"], r["verdict"], r["comment"]) for r in filtered] == [
        (str(world.admin.pk), "compliant", ""),
        (str(world.reviewer.pk), "compliant", ""),
        (str(world.reviewer.pk), "non_compliant", "Finalement non."),
    ]
    assert VerdictRecord.objects.filter(dossier=dossier).count() == 4
    # ANS only: the vendor sees the dossier but not who judged what, and when
    response = _client(world.member).get(url)
    assert response.status_code == 403
    assert _client(world.other_vendor_member).get(url).status_code == 404


def test_history_records_are_never_updated_nor_deleted(db):
    world = make_world()
    dossier = _exploit(world)
    record = VerdictRecord.objects.filter(dossier=dossier).first()
    record.verdict = "non_compliant"
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    with pytest.raises(TypeError):
        VerdictRecord.objects.filter(dossier=dossier).update(given_by=world.reviewer)
    with pytest.raises(TypeError):
        VerdictRecord.objects.filter(dossier=dossier).delete()
    assert VerdictRecord.objects.filter(dossier=dossier, given_by=world.admin).count() == 1


def test_backfill_gives_each_existing_verdict_its_record_once(db):
    """The data migration's function: verdicts written before the history existed (created
    here as rows, as the old code left them) get one record each, with their author."""
    migration = importlib.import_module("referencing_app.migrations.0004_verdict_history")
    world = make_world()
    dossier = dossier_in(world, "in_review")
    requirements = {r.code: r for r in dossier.requirement_set.requirements.all()}
    legacy = [
        Verdict.objects.create(
            dossier=dossier,
            requirement=requirements["SC.INS.01"],
            verdict="non_compliant",
            comment="Trace absente.",
            reviewer=world.admin,
            revision=1,
        ),
        Verdict.objects.create(
            dossier=dossier,
            requirement=requirements["SC.DMP.01"],
            verdict="compliant",
            reviewer=world.reviewer,
            revision=1,
        ),
    ]
    assert not VerdictRecord.objects.exists()
    # a dossier whose verdicts already have their history is left alone
    recorded = dossier_in(_other_version(world), "in_review")  # another version, same world
    _put_verdict(world.reviewer, recorded, "SC.INS.01")

    migration.backfill_verdict_records(django_apps, None)
    migration.backfill_verdict_records(django_apps, None)  # idempotent

    records = VerdictRecord.objects.filter(dossier=dossier).order_by("requirement__code")
    assert [
        (r.requirement.code, r.verdict, r.comment, r.given_by, r.revision, r.given_at)
        for r in records
    ] == sorted(
        [
            (v.requirement.code, v.verdict, v.comment, v.reviewer, v.revision, v.updated_at)
            for v in legacy
        ]
    )
    assert VerdictRecord.objects.filter(dossier=recorded).count() == 1
    # and the rule reads them: the admin of the legacy verdict cannot decide
    response = _decide(world.admin, dossier, "approve")
    assert response.status_code == 403
    assert _codes(response) == ["FOUR_EYES"]


def _other_version(world):
    import dataclasses

    return dataclasses.replace(
        world, version=SolutionVersionFactory(solution=world.version.solution)
    )


# --- item 7: the charter and comments ------------------------------------------------------------
def test_only_the_legal_signatory_accepts_or_withdraws_the_charter(db):
    world = make_world()
    dossier = dossier_in(world, "draft")
    url = f"/api/v1/dossiers/{dossier.pk}/"
    accepted_at = Dossier.objects.get(pk=dossier.pk).charter_accepted_at
    assert accepted_at is not None

    response = _client(world.member).patch(url, {"charter_accepted": False}, format="json")
    assert response.status_code == 403
    assert _codes(response) == ["NOT_LEGAL_SIGNATORY"]
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert (dossier.charter_accepted_at, dossier.charter_accepted_by) == (
        accepted_at,
        world.signatory,
    )
    assert not AuditEntry.objects.filter(action="dossier.update").exists()
    # asking for what is already the case changes nothing and is not refused
    response = _client(world.member).patch(url, {"charter_accepted": True}, format="json")
    assert response.status_code == 200
    assert response.json()["charter_accepted"] is True

    response = _client(world.signatory).patch(url, {"charter_accepted": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["charter_accepted"] is False
    response = _client(world.member).patch(url, {"charter_accepted": True}, format="json")
    assert response.status_code == 403
    assert _codes(response) == ["NOT_LEGAL_SIGNATORY"]
    assert Dossier.objects.get(pk=dossier.pk).charter_accepted_at is None
    response = _client(world.signatory).patch(url, {"charter_accepted": True}, format="json")
    assert response.status_code == 200
    assert response.json()["charter_accepted"] is True
    assert AuditEntry.objects.filter(action="dossier.update").count() == 2


def test_a_reviewer_comments_only_on_the_dossiers_assigned_to_them(
    db, django_capture_on_commit_callbacks
):
    world = make_world()
    dossier = dossier_in(world, "in_review")
    url = f"/api/v1/dossiers/{dossier.pk}/comments/"
    with django_capture_on_commit_callbacks(execute=True):
        for body in ({"body": "Question publique"}, {"body": "Note", "internal": True}):
            response = _client(world.reviewer2).post(url, body, format="json")
            assert response.status_code == 403, response.content
            assert _codes(response) == ["NOT_ASSIGNED_REVIEWER"]
    assert not Comment.objects.exists()
    assert not Notification.objects.filter(event="dossier_comment").exists()
    assert not AuditEntry.objects.filter(action="dossier.comment").exists()
    # reading stays as it was: ANS sees every dossier and its comments
    assert _client(world.reviewer2).get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        for user in (world.reviewer, world.admin, world.admin2, world.member):
            response = _client(user).post(url, {"body": f"Message de {user}"}, format="json")
            assert response.status_code == 201, (user, response.content)
        response = _client(world.reviewer).post(
            url, {"body": "Note interne", "internal": True}, format="json"
        )
        assert response.status_code == 201
    assert Comment.objects.filter(dossier=dossier).count() == 5
    assert (
        _client(world.other_vendor_member).post(url, {"body": "x"}, format="json").status_code
        == 404
    )
    vendor_sees = [c["body"] for c in _client(world.member).get(url).json()]
    assert "Note interne" not in vendor_sees
    assert len(vendor_sees) == 4
