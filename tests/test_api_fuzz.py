"""Property test over the whole published API: whatever the input, never a 500, and every 4xx
in the documented error shape. Schemathesis generates the requests from our OpenAPI schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from accounts.models import Role
from accounts.services import api_token_create
from tests.factories.accounts import UserFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Requests go through the real WSGI handler, whose end-of-request cleanup would close the
    test's (transactional) database connection on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db):
    user = UserFactory(role=Role.ANS_ADMIN, username="fuzz-admin")
    return api_token_create(actor=user, user=user).key


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_never_answers_500_and_4xx_have_the_documented_shape(case, admin_token):
    response = case.call(headers={"Authorization": f"Token {admin_token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    content_type = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")
    if 400 <= response.status_code < 500:
        assert "application/json" in str(content_type), (
            case.method,
            case.formatted_path,
            content_type,
        )
        body = response.json()
        assert set(body) == {"type", "errors"}, body
        assert body["errors"], body
        for error in body["errors"]:
            assert set(error) == {"code", "detail", "attr"}, body
