import pytest
from rest_framework.test import APIClient

from core.models import AuditEntry, Notification
from referencing_app.models import Referencing
from tests.factories.referencing import dossier_in, make_world


def _client(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def approved(db):
    world = make_world()
    dossier_in(world, "approved")
    world.referencing = Referencing.objects.get(vendor=world.vendor)
    return world


# (action, from state, body) -> target state
CASES = [
    ("suspend", "active", {"reason": "Contrôle en cours"}, "suspended"),
    ("reinstate", "suspended", {}, "active"),
    ("revoke", "active", {"reason": "Non-conformité grave"}, "revoked"),
    ("revoke", "suspended", {"reason": "Non-conformité grave"}, "revoked"),
]
STATES = ["active", "suspended", "revoked", "expired"]


def _put_in(referencing, state):
    Referencing.objects.filter(pk=referencing.pk).update(state=state)


@pytest.mark.parametrize("action", ["suspend", "reinstate", "revoke"])
@pytest.mark.parametrize("state", STATES)
def test_referencing_transition_table(approved, state, action):
    _put_in(approved.referencing, state)
    response = _client(approved.admin).post(
        f"/api/v1/referencings/{approved.referencing.pk}/{action}/",
        {"reason": "Motif"},
        format="json",
    )
    allowed = {(a, s) for a, s, _, _ in CASES}
    if (action, state) in allowed:
        assert response.status_code == 200, response.json()
        target = next(t for a, s, _, t in CASES if (a, s) == (action, state))
        assert response.json()["state"] == target
        entry = AuditEntry.objects.get(action=f"referencing.{action}")
        assert (entry.from_state, entry.to_state, entry.reason) == (state, target, "Motif")
    else:
        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "TRANSITION_NOT_ALLOWED"


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_suspend_and_revoke_need_a_reason(approved, action):
    url = f"/api/v1/referencings/{approved.referencing.pk}/{action}/"
    for body in ({}, {"reason": ""}, {"reason": 12, "extra": True}):
        response = _client(approved.admin).post(url, body, format="json")
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
    assert not AuditEntry.objects.filter(action=f"referencing.{action}").exists()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("admin", 200),
        ("reviewer", 403),
        ("officer", 403),
        ("member", 403),
        ("other_vendor_member", 403),
        ("establishment", 403),
        (None, 401),
    ],
)
def test_only_ans_admins_act_on_referencings(approved, actor, expected):
    user = getattr(approved, actor) if actor else None
    response = _client(user).post(
        f"/api/v1/referencings/{approved.referencing.pk}/suspend/",
        {"reason": "Contrôle"},
        format="json",
    )
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        ("admin", True),
        ("reviewer", True),
        ("officer", True),
        ("member", True),
        ("other_vendor_member", False),
        ("establishment", True),
    ],
)
def test_who_sees_a_referencing(approved, actor, visible):
    client = _client(getattr(approved, actor))
    detail = client.get(f"/api/v1/referencings/{approved.referencing.pk}/")
    assert detail.status_code == (200 if visible else 404)
    listing = client.get(
        "/api/v1/referencings/", {"reference": approved.referencing.reference}
    ).json()
    assert listing["count"] == (1 if visible else 0)


def test_suspension_notifies_the_vendor_and_hides_from_the_catalogue(
    approved, django_capture_on_commit_callbacks
):
    assert _client(None).get("/api/v1/catalogue/").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        _client(approved.admin).post(
            f"/api/v1/referencings/{approved.referencing.pk}/suspend/",
            {"reason": "Contrôle"},
            format="json",
        )
    assert _client(None).get("/api/v1/catalogue/").json()["count"] == 0
    notification = Notification.objects.get(event="referencing_suspend", recipient=approved.member)
    assert "Contrôle" in notification.body


def test_validity_end_can_be_set_by_ans_admins(approved):
    url = f"/api/v1/referencings/{approved.referencing.pk}/"
    response = _client(approved.admin).patch(url, {"valid_until": "2027-06-30"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["valid_until"] == "2027-06-30T23:59:59.999999+02:00"
    assert AuditEntry.objects.filter(action="referencing.update").count() == 1
    assert (
        _client(approved.admin).patch(url, {"valid_until": "2001-01-01"}, format="json").status_code
        == 400
    )
    assert (
        _client(approved.admin)
        .patch(url, {"valid_until": "2027-06-30T10:00:00"}, format="json")
        .status_code
        == 400
    )
    assert _client(approved.admin).patch(url, {"reference": "X"}, format="json").status_code == 200
    assert (
        _client(approved.member)
        .patch(url, {"valid_until": "2027-06-30"}, format="json")
        .status_code
        == 403
    )


def test_referencing_list_query_count_is_constant(approved):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = make_world()
    dossier_in(other, "approved")
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as ctx:
            assert (
                _client(approved.admin)
                .get("/api/v1/referencings/", {"page_size": size})
                .status_code
                == 200
            )
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
