"""Who may do what on a purchase order: every action (and create) × every kind of caller →
allowed / 403 (not allowed) / 404 (not theirs, or not visible yet) / 401 (anonymous)."""

from decimal import Decimal

import pytest

from orders.models import PurchaseOrder
from tests.factories.orders import make_order_world, order_in
from tests.orders.helpers import (
    ACTORS,
    action_body,
    actor,
    assert_error,
    audit_of,
    client,
    order_url,
    reload,
)

# action → (the state it starts from, the state it leads to, its audit action)
ACTIONS = {
    "send": ("draft", "sent", "purchase_order.send"),
    "sign": ("sent", "signed", "purchase_order.sign"),
    "decline": ("sent", "declined", "purchase_order.decline"),
    "cancel": ("sent", "cancelled", "purchase_order.cancel"),
    "cancel-signed": ("signed", "cancelled", "purchase_order.cancel"),
    "declare-installation": (
        "signed",
        "installation_declared",
        "purchase_order.declare_installation",
    ),
    "confirm-installation": (
        "installation_declared",
        "installed",
        "purchase_order.confirm_installation",
    ),
    "reserve": ("installation_declared", "reserved", "purchase_order.reserve"),
    "lift-reservations": ("reserved", "installation_declared", "purchase_order.lift_reservations"),
}
COLUMNS = list(ACTIONS)
MATRIX = {
    # caller: send, sign, decline, cancel, cancel-signed, declare, confirm, reserve, lift
    "vendor_member": (200, 403, 403, 200, 200, 200, 403, 403, 200),
    "other_vendor_member": (404, 404, 404, 404, 404, 404, 404, 404, 404),
    # a draft is the vendor's until it is sent: the establishment does not see it yet
    "signatory": (404, 200, 200, 200, 200, 403, 200, 200, 403),
    "staff": (404, 403, 200, 200, 403, 403, 403, 403, 403),
    "other_establishment_signatory": (404, 404, 404, 404, 404, 404, 404, 404, 404),
    # ANS admins and payment officers cancel (administratively; a funded order: recovery)
    "ans_admin": (403, 403, 403, 200, 200, 403, 403, 403, 403),
    "reviewer": (403, 403, 403, 403, 403, 403, 403, 403, 403),
    "payment_officer": (403, 403, 403, 200, 200, 403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401, 401, 401, 401, 401, 401),
}
assert set(MATRIX) == set(ACTORS)


@pytest.mark.parametrize("who", list(MATRIX))
@pytest.mark.parametrize("action", COLUMNS)
def test_role_matrix_of_order_actions(db, action, who):
    ow = make_order_world()
    start, target, audit_action = ACTIONS[action]
    order = order_in(ow, start)
    body = action_body(ow, action)
    path = "cancel" if action == "cancel-signed" else action
    response = client(actor(ow, who)).post(order_url(order, path), body, format="json")
    expected = MATRIX[who][COLUMNS.index(action)]
    order = reload(order)
    if expected == 200:
        assert response.status_code == 200, response.content
        assert response.json()["state"] == target
        assert order.state == target
        assert audit_of(order, audit_action).count() == 1
    else:
        assert_error(response, expected)
        assert response.json()["type"] == "client_error"
        assert order.state == start
        assert not audit_of(order, audit_action).exists()


CREATE = {
    "vendor_member": 201,
    # a version of another vendor is, for this caller, a version that does not exist
    "other_vendor_member": 400,
    "signatory": 403,
    "staff": 403,
    "other_establishment_signatory": 403,
    "ans_admin": 403,
    "reviewer": 403,
    "payment_officer": 403,
    "anonymous": 401,
}


@pytest.mark.parametrize("who", list(CREATE))
def test_role_matrix_of_order_create(db, who):
    ow = make_order_world()
    body = {
        "establishment": str(ow.establishment.pk),
        "scheme": ow.scheme.code,
        "solution_version": str(ow.version.pk),
        "amount": "12500.00",
    }
    response = client(actor(ow, who)).post("/api/v1/purchase-orders/", body, format="json")
    expected = CREATE[who]
    if expected == 201:
        assert response.status_code == 201, response.content
        data = response.json()
        assert (data["state"], data["amount"], data["vendor"]) == (
            "draft",
            "12500.00",
            str(ow.vendor.pk),
        )
        order = PurchaseOrder.objects.get(pk=data["id"])
        assert order.amount == Decimal("12500.00")
        assert audit_of(order, "purchase_order.create").get().actor_id == ow.member.pk
    else:
        if expected == 400:
            assert_error(response, 400, "does_not_exist", "solution_version")
        else:
            assert_error(response, expected)
        assert not PurchaseOrder.objects.exists()


VISIBLE = {
    # caller: sees a draft, sees a sent order
    "vendor_member": (True, True),
    "other_vendor_member": (False, False),
    "signatory": (False, True),
    "staff": (False, True),
    "other_establishment_signatory": (False, False),
    "ans_admin": (True, True),
    "reviewer": (True, True),
    "payment_officer": (True, True),
}


@pytest.mark.parametrize("who", list(VISIBLE))
def test_who_sees_which_order(db, who):
    ow = make_order_world()
    draft = order_in(ow, "draft")
    sent = order_in(ow, "sent")
    api = client(actor(ow, who))
    listed = {row["id"] for row in api.get("/api/v1/purchase-orders/").json()["results"]}
    for order, visible in zip((draft, sent), VISIBLE[who], strict=True):
        assert (str(order.pk) in listed) is visible
        response = api.get(order_url(order))
        if visible:
            assert response.status_code == 200
        else:
            assert_error(response, 404, "not_found")


def test_anonymous_reads_nothing(db):
    ow = make_order_world()
    order = order_in(ow, "sent")
    assert_error(client().get("/api/v1/purchase-orders/"), 401)
    assert_error(client().get(order_url(order)), 401)


@pytest.mark.parametrize(
    ("who", "state", "expected"),
    [
        ("vendor_member", "draft", ["send", "cancel"]),
        ("vendor_member", "sent", ["cancel"]),
        ("vendor_member", "signed", ["declare-installation", "cancel"]),
        ("vendor_member", "reserved", ["lift-reservations"]),
        ("vendor_member", "installed", []),
        ("signatory", "sent", ["sign", "decline", "cancel"]),
        ("staff", "sent", ["decline", "cancel"]),
        ("signatory", "signed", ["cancel"]),
        ("staff", "signed", []),
        ("signatory", "installation_declared", ["confirm-installation", "reserve"]),
        ("signatory", "reserved", ["confirm-installation"]),
        ("ans_admin", "sent", ["cancel"]),
        ("ans_admin", "installed", ["cancel"]),
        ("payment_officer", "lapsed", ["cancel"]),
        ("payment_officer", "cancelled", []),
        ("reviewer", "signed", []),
    ],
)
def test_actions_offered_match_what_is_allowed(db, who, state, expected):
    ow = make_order_world()
    order = order_in(ow, state)
    response = client(actor(ow, who)).get(order_url(order))
    assert response.json()["actions"] == expected
