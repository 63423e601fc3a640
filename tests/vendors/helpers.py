"""Shared pieces of the vendors tests: the cast of callers and the error-shape check."""

from dataclasses import dataclass

from rest_framework.test import APIClient

from accounts.models import Role, User
from tests.factories.accounts import UserFactory
from vendors.models import Solution, SolutionVersion, Vendor

# Who calls: the roles of api.md, a member of the vendor the objects belong to, a member of
# another vendor, and nobody.
WHO = (
    "ans_admin",
    "reviewer",
    "payment_officer",
    "member",
    "other_vendor",
    "establishment",
    "anonymous",
)


@dataclass
class VendorWorld:
    vendor: Vendor
    solution: Solution
    version: SolutionVersion
    member: User
    other_vendor: Vendor
    other_member: User

    def user(self, who: str) -> User | None:
        if who == "member":
            return self.member
        if who == "other_vendor":
            return self.other_member
        if who == "anonymous":
            return None
        return UserFactory(role=who, signatory=(who == Role.ESTABLISHMENT))

    def client(self, who: str) -> APIClient:
        client = APIClient()
        user = self.user(who)
        if user is not None:
            client.force_authenticate(user)
        client.user = user
        return client


def assert_error(response, status: int, code: str, attr: str | None, error_type: str | None = None):
    """The documented shape, with one error of that code on that field."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    if error_type:
        assert body["type"] == error_type, body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
        assert isinstance(error["detail"], str)
        assert error["detail"]
    assert {"code": code, "attr": attr} in [
        {"code": e["code"], "attr": e["attr"]} for e in body["errors"]
    ], body
