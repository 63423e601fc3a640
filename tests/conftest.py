import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories.accounts import UserFactory
from tests.factories.vendors import VendorFactory


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_user(db):
    def _make(role: str = Role.REVIEWER, **kwargs):
        if role == Role.VENDOR and "vendor" not in kwargs:
            kwargs["vendor"] = VendorFactory()
        return UserFactory(role=role, **kwargs)

    return _make


@pytest.fixture
def client_for(make_user):
    """An API client authenticated as a new user of `role` (or as the given user)."""

    def _client(role: str | None = None, *, user=None, **kwargs):
        user = user or make_user(role or Role.REVIEWER, **kwargs)
        client = APIClient()
        client.force_authenticate(user)
        client.user = user
        return client

    return _client


@pytest.fixture
def admin_client(client_for):
    return client_for(Role.ANS_ADMIN)
