"""The purchase-order state machine as a table: every (state × action) pair is either allowed or
refused with 409 TRANSITION_NOT_ALLOWED, leaving the order as it was."""

import pytest

from core.errors import Conflict
from orders import services
from orders.models import OrderState
from tests.factories.orders import make_order_world, order_in
from tests.orders.helpers import action_body, assert_error, audit_of, client, order_url, reload

STATES = [s.value for s in OrderState]
# action → who does it (an OrderWorld attribute)
ACTION_ACTOR = {
    "send": "member",
    "sign": "signatory",
    "decline": "signatory",
    "cancel": "member",
    "declare-installation": "member",
    "confirm-installation": "signatory",
    "reserve": "signatory",
    "lift-reservations": "member",
}
ALLOWED = {
    # (state, action) → the state it leads to; every other pair is refused
    ("draft", "send"): "sent",
    ("sent", "sign"): "signed",
    ("sent", "decline"): "declined",
    ("draft", "cancel"): "cancelled",
    ("sent", "cancel"): "cancelled",
    ("signed", "cancel"): "cancelled",
    ("signed", "declare-installation"): "installation_declared",
    ("installation_declared", "confirm-installation"): "installed",
    ("reserved", "confirm-installation"): "installed",
    ("installation_declared", "reserve"): "reserved",
    ("reserved", "lift-reservations"): "installation_declared",
}
ESTABLISHMENT_ACTIONS = {a for a, who in ACTION_ACTOR.items() if who == "signatory"}


def test_the_table_covers_every_state():
    assert set(STATES) == {
        "draft",
        "sent",
        "signed",
        "installation_declared",
        "reserved",
        "installed",
        "declined",
        "cancelled",
        "lapsed",
        "void",
    }


@pytest.mark.parametrize("action", list(ACTION_ACTOR))
@pytest.mark.parametrize("state", STATES)
def test_state_action_table(db, state, action):
    ow = make_order_world()
    order = order_in(ow, state)
    user = getattr(ow, ACTION_ACTOR[action])
    before = audit_of(order, f"purchase_order.{action.replace('-', '_')}").count()
    response = client(user).post(order_url(order, action), action_body(ow, action), format="json")
    target = ALLOWED.get((state, action))
    if target is not None:
        assert response.status_code == 200, response.content
        assert reload(order).state == target
        return
    if state == "draft" and action in ESTABLISHMENT_ACTIONS:
        # the establishment does not see a draft at all: not found rather than a conflict
        assert_error(response, 404, "not_found")
    else:
        body = assert_error(response, 409, "TRANSITION_NOT_ALLOWED")
        assert len(body["errors"]) == 1
    assert reload(order).state == state
    assert audit_of(order, f"purchase_order.{action.replace('-', '_')}").count() == before


SERVICE = {
    "sign": lambda ow, order: services.purchase_order_sign(actor=ow.signatory, order=order),
    "decline": lambda ow, order: services.purchase_order_decline(
        actor=ow.signatory, order=order, reason="Non"
    ),
    "confirm-installation": lambda ow, order: services.purchase_order_confirm_installation(
        actor=ow.signatory, order=order
    ),
    "reserve": lambda ow, order: services.purchase_order_reserve(
        actor=ow.signatory, order=order, reservations=["Réserve"]
    ),
}


@pytest.mark.parametrize("action", sorted(ESTABLISHMENT_ACTIONS))
def test_establishment_actions_on_a_draft_are_refused_by_the_service_too(db, action):
    ow = make_order_world()
    order = order_in(ow, "draft")
    with pytest.raises(Conflict) as refused:
        SERVICE[action](ow, order)
    assert refused.value.codes == ["TRANSITION_NOT_ALLOWED"]
    assert reload(order).state == "draft"
