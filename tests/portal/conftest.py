import pytest
from django.test import Client

from tests.factories.orders import make_order_world
from tests.factories.referencing import make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def order_world(db):
    return make_order_world()


@pytest.fixture
def client_as():
    """A browser-like client signed in as `user` (or anonymous with None)."""

    def _client(user=None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return _client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
