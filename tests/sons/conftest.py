import pytest
from django.utils import timezone

from sons.models import RequirementSet
from tests.factories.sons import SchemeFactory, published_requirement

API = "/api/v1"


def assert_error(response, status: int, code: str | None = None, attr: str | None = "any"):
    """The response is a `status` error in api.md's shape, with an item `code` on `attr`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"code", "detail", "attr"}, item
        assert isinstance(item["detail"], str)
        assert item["detail"]
    if code is not None:
        matching = [e for e in body["errors"] if e["code"] == code]
        assert matching, body
        if attr != "any":
            assert attr in [e["attr"] for e in matching], body
    return body


@pytest.fixture
def scheme(db):
    """A scheme with a published version 1 of three requirements (one recommended)."""
    scheme = SchemeFactory(code="HOP-DPI-X1")
    rset = RequirementSet.objects.create(scheme=scheme, version=1, published_at=timezone.now())
    published_requirement(rset, "SC.INS.01", position=1)
    published_requirement(rset, "SC.DMP.01", position=2)
    published_requirement(rset, "SC.MSS.03", position=3, nature="recommended")
    return scheme
