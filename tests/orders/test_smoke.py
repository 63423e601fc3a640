import pytest

from tests.factories.orders import make_order_world, order_in


@pytest.mark.parametrize(
    "state",
    [
        "draft",
        "sent",
        "declined",
        "cancelled",
        "signed",
        "installation_declared",
        "reserved",
        "installed",
    ],
)
def test_order_can_be_brought_to_each_state(db, state):
    ow = make_order_world()
    assert order_in(ow, state).state == state
