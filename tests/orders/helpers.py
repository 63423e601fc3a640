"""Shared pieces of the orders tests: clients, URLs, the error-shape check, the cast."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import Role, User
from core.models import AuditEntry
from core.timeutils import paris_today
from orders.models import Establishment, PurchaseOrder
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, OrderWorld
from tests.factories.referencing import upload
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory
from vendors.models import SolutionVersion

API = "/api/v1"

#: who calls, by the name of the OrderWorld attribute (None: nobody)
ACTORS = {
    "vendor_member": "member",
    "other_vendor_member": "other_vendor_member",
    "signatory": "signatory",
    "staff": "staff",
    "other_establishment_signatory": "other_establishment_signatory",
    "ans_admin": "admin",
    "reviewer": "reviewer",
    "payment_officer": "officer",
    "anonymous": None,
}


def client(user: User | None = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def actor(ow: OrderWorld, name: str) -> User | None:
    attribute = ACTORS[name]
    return None if attribute is None else getattr(ow, attribute)


def order_url(order, action: str | None = None) -> str:
    return f"{API}/purchase-orders/{order.pk}/" + (f"{action}/" if action else "")


def assert_error(response, status: int, code: str | None = None, attr: str | None = "any") -> dict:
    """`response` is a `status` error in api.md's one shape, with an item `code` (on `attr`)."""
    assert response.status_code == status, (response.status_code, response.content[:800])
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


def reload(order) -> PurchaseOrder:
    """The order as stored (its protected state field forbids `refresh_from_db`)."""
    return PurchaseOrder.objects.get(pk=order.pk)


def codes(response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def audit_of(order, action: str):
    return AuditEntry.objects.filter(object_id=str(order.pk), action=action)


def customer(name: str = "") -> tuple[Establishment, User]:
    """Another establishment and its signatory."""
    establishment = EstablishmentFactory(**({"name": name} if name else {}))
    signatory = UserFactory(role=Role.ESTABLISHMENT, establishment=establishment, signatory=True)
    return establishment, signatory


def other_solution_version(ow: OrderWorld) -> SolutionVersion:
    """A version of another solution of the same vendor (same category)."""
    return SolutionVersionFactory(
        solution=SolutionFactory(vendor=ow.vendor, category=ow.scheme.category)
    )


def action_body(ow, action: str) -> dict:
    if action in ("decline", "cancel", "cancel-signed"):
        return {"reason": "Le besoin a changé."}
    if action == "declare-installation":
        return {
            "installed_on": paris_today().isoformat(),
            "version": str(ow.version.pk),
            "report": str(upload(ow.world, "pv.pdf").pk),
        }
    if action == "reserve":
        return {"reservations": ["Flux DMP non testé"]}
    return {}
