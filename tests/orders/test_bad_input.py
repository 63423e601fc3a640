"""Bad input on every write endpoint of the orders app — wrong types, unknown fields, missing
fields, bad ids, bodies that are not JSON objects — is a 4xx in api.md's one shape, never a 500,
and changes nothing."""

import json

import pytest

from core.models import AuditEntry
from orders.models import Establishment, PurchaseOrder
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in
from tests.factories.sons import programme_category
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory
from tests.orders.helpers import action_body, assert_error, client, order_url, reload

MISSING = "00000000-0000-4000-8000-000000000000"


# --- create ---------------------------------------------------------------------------------------
def _create_body(ow, **changes):
    body = {
        "establishment": str(ow.establishment.pk),
        "scheme": ow.scheme.code,
        "solution_version": str(ow.version.pk),
        "amount": "1000.00",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"establishment": ...}, "required", "establishment"),
        ({"scheme": ...}, "required", "scheme"),
        ({"solution_version": ...}, "required", "solution_version"),
        ({"amount": ...}, "required", "amount"),
        ({"establishment": "not-a-uuid"}, None, "establishment"),
        ({"establishment": MISSING}, "does_not_exist", "establishment"),
        ({"establishment": 42}, None, "establishment"),
        ({"establishment": None}, "null", "establishment"),
        ({"scheme": "NOPE-XXX-VA9"}, "does_not_exist", "scheme"),
        ({"scheme": ["HOP"]}, None, "scheme"),
        ({"solution_version": MISSING}, "does_not_exist", "solution_version"),
        ({"solution_version": {"id": 1}}, None, "solution_version"),
        ({"amount": "abc"}, "invalid", "amount"),
        ({"amount": "-1.00"}, "min_value", "amount"),
        ({"amount": "1.001"}, "max_decimal_places", "amount"),
        ({"amount": "12345678901.00"}, "max_digits", "amount"),
        ({"amount": "NaN"}, "invalid", "amount"),
        ({"amount": "Infinity"}, "invalid", "amount"),
        ({"amount": True}, "invalid", "amount"),
        ({"amount": []}, "invalid", "amount"),
        ({"discount": "10%"}, "unknown_field", "discount"),
    ],
)
def test_create_with_bad_fields(db, changes, code, attr):
    ow = make_order_world()
    response = client(ow.member).post(
        "/api/v1/purchase-orders/", _create_body(ow, **changes), format="json"
    )
    assert_error(response, 400, code, attr if attr else "any")
    assert not PurchaseOrder.objects.exists()


def test_read_only_fields_sent_back_are_ignored_not_applied(db):
    """A client may post back what it read: read-only fields are known, and not settable."""
    ow = make_order_world()
    body = _create_body(ow, state="installed", referencing=MISSING, signed_at="2026-01-01")
    response = client(ow.member).post("/api/v1/purchase-orders/", body, format="json")
    assert response.status_code == 201, response.content
    order = PurchaseOrder.objects.get()
    assert (order.state, order.referencing, order.signed_at) == ("draft", None, None)


def test_create_for_a_version_of_another_category_is_refused(db):
    ow = make_order_world()
    lgc = SolutionVersionFactory(
        solution=SolutionFactory(vendor=ow.vendor, category=programme_category("LGC"))
    )
    response = client(ow.member).post(
        "/api/v1/purchase-orders/", _create_body(ow, solution_version=str(lgc.pk)), format="json"
    )
    assert_error(response, 400, "CATEGORY_MISMATCH", "scheme")
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ("{", "application/json", 400),
        ('{"amount": ', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"chaîne"', "application/json", 400),
        ("42", "application/json", 400),
        ("null", "application/json", 400),
        ('{"amount": 1e400}', "application/json", 400),
        ("amount=12", "text/plain", 415),
        ("<xml/>", "application/xml", 415),
    ],
)
def test_create_with_a_body_that_is_not_a_json_object(db, raw, content_type, status):
    ow = make_order_world()
    response = client(ow.member).post(
        "/api/v1/purchase-orders/", data=raw, content_type=content_type
    )
    assert_error(response, status)
    assert not PurchaseOrder.objects.exists()


# --- actions with a body ------------------------------------------------------------------------
def _declare_body(ow, **changes):
    return {**action_body(ow, "declare-installation"), **changes}


DECLARE_CASES = [
    ({"installed_on": ...}, "required", "installed_on"),
    ({"version": ...}, "required", "version"),
    ({"report": ...}, "required", "report"),
    ({"installed_on": "2026-02-30"}, "invalid", "installed_on"),
    ({"installed_on": "hier"}, "invalid", "installed_on"),
    ({"installed_on": 20261120}, "invalid", "installed_on"),
    ({"installed_on": "2026-11-20T10:00:00+01:00"}, "invalid", "installed_on"),
    ({"installed_on": None}, "null", "installed_on"),
    ({"version": "v2"}, "invalid", "version"),
    ({"version": MISSING}, "does_not_exist", "version"),
    ({"version": 7}, "does_not_exist", "version"),  # an integer is read as a UUID
    ({"report": ["a"]}, "invalid", "report"),
    ({"report": MISSING}, "does_not_exist", "report"),
    ({"installed_by": "moi"}, "unknown_field", "installed_by"),
]


@pytest.mark.parametrize(("changes", "code", "attr"), DECLARE_CASES)
def test_declare_installation_with_bad_fields(db, changes, code, attr):
    ow = make_order_world()
    order = order_in(ow, "signed")
    body = {k: v for k, v in _declare_body(ow, **changes).items() if v is not ...}
    response = client(ow.member).post(order_url(order, "declare-installation"), body, format="json")
    assert_error(response, 400, code, attr)
    assert reload(order).state == "signed"


@pytest.mark.parametrize(
    ("body", "code", "attr"),
    [
        ({}, "required", "reservations"),
        ({"reservations": "une seule"}, "not_a_list", "reservations"),
        ({"reservations": [None]}, "null", "reservations.0"),
        ({"reservations": [{"text": "x"}]}, "invalid", "reservations.0"),
        ({"reservations": ["x" * 2001]}, "max_length", "reservations.0"),
        ({"reservations": ["x"] * 51}, "max_length", "reservations"),
        ({"reservations": ["x"], "severity": "high"}, "unknown_field", "severity"),
    ],
)
def test_reserve_with_bad_fields(db, body, code, attr):
    ow = make_order_world()
    order = order_in(ow, "installation_declared")
    response = client(ow.signatory).post(order_url(order, "reserve"), body, format="json")
    assert_error(response, 400, code, attr)
    assert reload(order).state == "installation_declared"


@pytest.mark.parametrize("action", ["decline", "cancel"])
@pytest.mark.parametrize(
    ("body", "code", "attr"),
    [
        ({}, "required", "reason"),
        ({"reason": ""}, "blank", "reason"),
        ({"reason": "   "}, "blank", "reason"),
        ({"reason": None}, "null", "reason"),
        ({"reason": ["a"]}, "invalid", "reason"),
        ({"reason": {"fr": "a"}}, "invalid", "reason"),
        ({"reason": "x" * 5001}, "max_length", "reason"),
        ({"reason": "ok", "motif": "ok"}, "unknown_field", "motif"),
    ],
)
def test_reason_actions_with_bad_fields(db, action, body, code, attr):
    ow = make_order_world()
    order = order_in(ow, "sent")
    response = client(ow.signatory).post(order_url(order, action), body, format="json")
    assert_error(response, 400, code, attr)
    assert reload(order).state == "sent"


ACTION_STATE = {
    "send": ("draft", "member"),
    "sign": ("sent", "signatory"),
    "decline": ("sent", "signatory"),
    "cancel": ("sent", "member"),
    "declare-installation": ("signed", "member"),
    "confirm-installation": ("installation_declared", "signatory"),
    "reserve": ("installation_declared", "signatory"),
    "lift-reservations": ("reserved", "member"),
}


@pytest.mark.parametrize("action", list(ACTION_STATE))
@pytest.mark.parametrize("raw", ["[]", '"x"', "17", "{", "null"])
def test_every_action_with_a_body_that_is_not_an_object(db, action, raw):
    ow = make_order_world()
    state, who = ACTION_STATE[action]
    order = order_in(ow, state)
    response = client(getattr(ow, who)).post(
        order_url(order, action), data=raw, content_type="application/json"
    )
    if action in ("send", "sign", "confirm-installation", "lift-reservations"):
        # these actions take no body: whatever is sent is not read, and never breaks them
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 400)
        assert reload(order).state == state


@pytest.mark.parametrize("action", list(ACTION_STATE))
@pytest.mark.parametrize("bad_id", ["not-a-uuid", MISSING, "1", "%20"])
def test_every_action_on_a_bad_id_is_404(db, action, bad_id):
    ow = make_order_world()
    _state, who = ACTION_STATE[action]
    response = client(getattr(ow, who)).post(
        f"/api/v1/purchase-orders/{bad_id}/{action}/", action_body(ow, action), format="json"
    )
    assert_error(response, 404, "not_found")


def test_orders_are_not_writable_by_put_patch_or_delete(db):
    ow = make_order_world()
    order = order_in(ow, "draft")
    api = client(ow.member)
    for method in ("put", "patch", "delete"):
        response = getattr(api, method)(order_url(order), {"amount": "1.00"}, format="json")
        assert_error(response, 405)
    assert reload(order).amount == order.amount


@pytest.mark.parametrize(
    "query",
    ["state=bogus", "establishment=not-a-uuid", "vendor=12", "page=abc", "page=999"],
)
def test_list_filters_with_bad_values(db, query):
    ow = make_order_world()
    order_in(ow, "sent")
    response = client(ow.admin).get(f"/api/v1/purchase-orders/?{query}")
    assert 400 <= response.status_code < 500, response.content
    assert_error(response, response.status_code)


# --- establishments -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ("{", "application/json", 400),
        ("[]", "application/json", 400),
        ('"x"', "application/json", 400),
        ("finess=1", "text/plain", 415),
    ],
)
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_establishment_writes_with_bodies_that_are_not_objects(
    db, raw, content_type, status, method
):
    ow = make_order_world()
    existing = EstablishmentFactory()
    url = "/api/v1/establishments/" + (f"{existing.pk}/" if method != "post" else "")
    response = getattr(client(ow.admin), method)(url, data=raw, content_type=content_type)
    assert_error(response, status)
    assert Establishment.objects.count() == 3  # the world's two and this one
    assert not AuditEntry.objects.filter(action__startswith="establishment.").exists()


def test_establishment_put_with_missing_fields(db):
    ow = make_order_world()
    existing = EstablishmentFactory()
    response = client(ow.admin).put(
        f"/api/v1/establishments/{existing.pk}/", {"name": "X"}, format="json"
    )
    assert_error(response, 400, "required", "kind")


def test_deep_and_odd_json_is_refused_cleanly(db):
    ow = make_order_world()
    nested: object = "x"
    for _ in range(200):
        nested = [nested]
    body = json.dumps(_create_body(ow, amount=nested))
    response = client(ow.member).post(
        "/api/v1/purchase-orders/", data=body, content_type="application/json"
    )
    assert_error(response, 400, None, "amount")
