"""The contract suite: vendors' software (and ANS's, the paying agency's, the establishments')
talking HTTP to the live test server, with nothing but the contract's paths, fields, states and
error codes.

No test here uses the Django test client or the ORM, except `bootstrap_admin` (the first ANS admin
cannot be created through the API) and the one test that moves the clock and runs a sweep as the
scheduler would (`test_lapsed_orders_count_as_ordered`). The database is set up once for the whole package and shared
by its tests (a story is built step by step, and each test adds its own objects to it); it is put
back as migrations left it when the package is done, for the tests that run after it.

Every call goes through `Api.call`, which records the contract row it belongs to (see
`contract.row_for`) and whether it succeeded (2xx) or was refused (4xx); `test_zz_coverage.py`
then checks that each row of the contract got both."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
import requests

from tests.contract.contract import row_for

PASSWORD = "Contrat-API-2026-solide"
COVERAGE: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(
    lambda: {"ok": set(), "refused": set()}
)
CONTRACT_NODES: set[str] = set()
CONTRACT_FAILURES: set[str] = set()
TIMING: list = []
_current_test = {"name": "fixtures"}
_serial = itertools.count(1)
ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
MONEY = re.compile(r"-?\d+\.\d{2}")


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if "tests/contract/" in item.nodeid.replace("\\", "/"):
            CONTRACT_NODES.add(item.nodeid)


def pytest_runtest_logreport(report):
    if report.failed and report.nodeid in CONTRACT_NODES:
        CONTRACT_FAILURES.add(report.nodeid)


@pytest.fixture(autouse=True)
def _name_calls(request, django_db_serialized_rollback):
    _current_test["name"] = request.node.name
    yield
    _current_test["name"] = "fixtures"  # the package's (`world`, `referenced`) are built between


# --- the database, once for the package --------------------------------------------------------
@pytest.fixture
def django_db_serialized_rollback():
    """Named after pytest-django's own, so that it serializes the migrated database when it
    creates it (the categories and sectors the migrations write); `_contract_db` restores it.
    Nothing else: the package's tests are not rolled back one by one."""


@pytest.fixture(scope="package")
def _contract_db(django_db_setup, django_db_blocker):
    """The test database as migrations left it (whatever a transactional test before us
    flushed), shared by the package's tests, and put back so when they are done — what
    `serialized_rollback` does, once for the package instead of once per test."""
    import importlib

    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    seed = importlib.import_module("sons.migrations.0002_sectors_and_categories").forwards

    with django_db_blocker.unblock():
        assert not connection.in_atomic_block, "the contract suite needs committed data"
        migrated = getattr(connection, "_test_serialized_contents", None)

        def restore():
            if migrated is not None:
                call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
                connection.creation.deserialize_db_from_string(migrated)
            else:  # not serialized at setup: what post_migrate writes, then
                call_command("flush", interactive=False, verbosity=0)
            # the sectors and categories the migrations write, whatever ran before us (the
            # migration's own function: idempotent)
            seed(apps, None)

        restore()
        yield
        restore()


@pytest.fixture
def transactional_db(_contract_db):
    """pytest-django gives `live_server` tests a flushed database each; here they share one."""


@pytest.fixture(scope="package")
def server(live_server, _contract_db):
    return live_server.url


# --- the HTTP client ---------------------------------------------------------------------------
class Api:
    """One role's software: a `requests` session with its token."""

    def __init__(self, base: str, token: str | None = None, name: str = "anonymous"):
        self.base = base.rstrip("/") + "/api/v1/"
        self.session = requests.Session()
        self.name = name
        self.user: dict | None = None
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, expect: int | None = None, **kwargs):
        started = time.perf_counter()
        response = self.session.request(method, self.base + path, timeout=30, **kwargs)
        row = row_for(method, path)
        TIMING.append((time.perf_counter() - started, method, row or path))
        if row is not None:
            if 200 <= response.status_code < 300:
                COVERAGE[row]["ok"].add(_current_test["name"])
            elif 400 <= response.status_code < 500:
                COVERAGE[row]["refused"].add(_current_test["name"])
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"
        if expect is not None:
            assert response.status_code == expect, (
                f"{self.name} {method} {path}: {response.status_code} {response.text[:800]}"
            )
        return response

    def get(self, path, expect=200, **kwargs):
        return self.call("GET", path, expect, **kwargs)

    def post(self, path, json=None, expect=200, **kwargs):
        if json is not None:
            kwargs["json"] = json
        return self.call("POST", path, expect, **kwargs)

    def put(self, path, json=None, expect=200, **kwargs):
        return self.call("PUT", path, expect, json=json, **kwargs)

    def patch(self, path, json=None, expect=200, **kwargs):
        return self.call("PATCH", path, expect, json=json, **kwargs)

    def refused(self, method, path, status, code=None, attr=..., **kwargs):
        """A refusal, in the one error shape, with the documented status (and code, attr)."""
        response = self.call(method, path, status, **kwargs)
        return assert_error(response, status, code, attr)


_SCHEMA: dict = {}


def published_schema(anonymous: Api) -> dict:
    """The OpenAPI schema as published (fetched once: it takes a while to build)."""
    if "schema" not in _SCHEMA:
        _SCHEMA["schema"] = anonymous.get("schema/", params={"format": "json"}).json()
    return _SCHEMA["schema"]


def assert_error(response, status, code=None, attr=...):
    assert response.status_code == status, response.text[:800]
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == ("validation_error" if status == 400 else "client_error"), body
    assert body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"code", "detail", "attr"}, item
        assert isinstance(item["code"], str), item
        assert item["code"], item
        assert isinstance(item["detail"], str), item
        assert item["detail"], item
        assert item["attr"] is None or isinstance(item["attr"], str), item
    codes = [item["code"] for item in body["errors"]]
    if code is not None:
        wanted = {code} if isinstance(code, str) else set(code)
        assert wanted <= set(codes), body
    if attr is not ...:
        assert attr in [item["attr"] for item in body["errors"]], body
    return body


def assert_fields(obj: dict, *names: str):
    missing = [name for name in names if name not in obj]
    assert not missing, f"missing {missing} in {sorted(obj)}"


def assert_instant(value, nullable=False):
    if value is None and nullable:
        return
    assert isinstance(value, str), value
    assert ISO_INSTANT.fullmatch(value), value


def assert_money(value):
    assert isinstance(value, str), value
    assert MONEY.fullmatch(value), value
    return Decimal(value)


def assert_uuid(value):
    assert isinstance(value, str), value
    uuid.UUID(value)


def results(response) -> list[dict]:
    """The rows of a list answer, paginated or not."""
    data = response.json()
    if isinstance(data, dict) and "results" in data:
        return data["results"]
    assert isinstance(data, list), data
    return data


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


# --- identifiers -------------------------------------------------------------------------------
def luhn_complete(body: str) -> str:
    """`body` followed by the digit that makes it Luhn-valid."""
    for digit in "0123456789":
        number = body + digit
        total = 0
        for index, char in enumerate(reversed(number)):
            value = int(char)
            if index % 2 == 1:
                value *= 2
                if value > 9:
                    value -= 9
            total += value
        if total % 10 == 0:
            return number
    raise AssertionError(body)


def new_siren() -> str:
    return luhn_complete(f"8{next(_serial) + 1000000:07d}")


def new_finess() -> str:
    return luhn_complete(f"35{next(_serial) + 100000:06d}")


IBAN_A = "FR7630006000011234567890189"
IBAN_B = "FR1420041010050500013M02606"


# --- accounts ----------------------------------------------------------------------------------
@pytest.fixture(scope="package")
def bootstrap_admin(_contract_db):
    """The first ANS admin: no API can create it (ORM access allowed for this only)."""
    from accounts.models import Role
    from tests.factories.accounts import UserFactory

    user = UserFactory(username="contrat.admin", role=Role.ANS_ADMIN)
    user.set_password(PASSWORD)
    user.save()
    return user.username


def login(server: str, username: str, password: str = PASSWORD, user: dict | None = None) -> Api:
    anonymous = Api(server)
    response = anonymous.post("auth/token/", {"username": username, "password": password})
    body = response.json()
    assert set(body) == {"token"}
    assert isinstance(body["token"], str)
    assert body["token"]
    api = Api(server, body["token"], username)
    api.user = user or api.get("auth/me/").json()
    return api


@pytest.fixture(scope="package")
def anonymous(server):
    return Api(server)


@pytest.fixture(scope="package")
def admin(server, bootstrap_admin):
    return login(server, bootstrap_admin)


def create_user(admin: Api, server: str, role: str, **fields) -> Api:
    username = unique(f"contrat.{role}.")
    body = {"username": username, "password": PASSWORD, "email": f"{username}@example.fr"}
    body.update(role=role, **fields)
    created = admin.post("users/", body, expect=201).json()
    assert_fields(
        created, "id", "username", "email", "role", "vendor", "establishment", "signatory"
    )
    assert "password" not in created
    assert created["role"] == role
    return login(server, username, user=created)


def paris_today() -> str:
    """Today in Paris (an installation date is a Paris date: never before the signature's)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()


def date_in(days: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).date().isoformat()


# --- the programme, the parties ----------------------------------------------------------------
class World:
    """What the ANS admin sets up through the API: one wave, one scheme with its published
    requirement set, the people of every role, one vendor and one establishment."""


REQUIREMENTS = [
    # code, nature, profile, evidence_required
    ("CT.DMP.01", "mandatory", "general", True),
    ("CT.INS.02", "mandatory", "general", False),
    ("CT.MSS.03", "recommended", "general", False),
    ("CT.VIL.04", "mandatory", "ville", False),
]
APPLICABLE = [code for code, _nature, profile, _ev in REQUIREMENTS if profile == "general"]
MANDATORY = [
    code
    for code, nature, profile, _ev in REQUIREMENTS
    if profile == "general" and nature == "mandatory"
]


def scheme_body(code: str, wave: str, **overrides) -> dict:
    body = {
        "code": code,
        "name": f"Dispositif {code}",
        "wave": wave,
        "category": "DPI",
        "submission_opens": date_in(-30),
        "submission_closes": date_in(60),
        "order_deadline": date_in(120),
        "installation_deadline": date_in(240),
        "payment_deadline": date_in(360),
        "price_cap": "100000.00",
        "advance_rate": "0.30",
        "changes_due_days": 15,
        "pre_referencing_days": 120,
        "tacit_acceptance_days": None,
        "acceptance": "VA",
        "uses_eligible_base": False,
    }
    body.update(overrides)
    return body


def make_scheme(admin: Api, wave: str, **overrides) -> str:
    code = unique("CT-DPI-")
    admin.post("schemes/", scheme_body(code, wave, **overrides), expect=201)
    for req_code, nature, profile, evidence in REQUIREMENTS:
        admin.post(
            f"schemes/{code}/requirements/",
            {
                "code": req_code,
                "title": f"Exigence {req_code}",
                "statement": f"Le logiciel DOIT satisfaire {req_code}.",
                "nature": nature,
                "profile": profile,
                "evidence_required": evidence,
            },
            expect=201,
        )
    admin.post(f"schemes/{code}/requirement-sets/publish/", {}, expect=200)
    return code


def make_vendor(admin: Api, server: str, iban: str = IBAN_A) -> tuple[dict, Api]:
    siren = new_siren()
    vendor = admin.post(
        "vendors/",
        {
            "siren": siren,
            "siret": luhn_complete(siren + "0001"),
            "name": unique("Éditeur contrat "),
            "nie": unique("NIE"),
            "iban": iban,
        },
        expect=201,
    ).json()
    member = create_user(admin, server, "vendor", vendor=vendor["id"], signatory=True)
    return vendor, member


def make_establishment(admin: Api) -> dict:
    return admin.post(
        "establishments/",
        {"finess": new_finess(), "name": unique("CH contrat "), "kind": "hospital"},
        expect=201,
    ).json()


def upload(api: Api, name="preuve.pdf", content=b"%PDF-1.4 contrat\n%%EOF\n", expect=201, **data):
    return api.call("POST", "evidence/", expect, files={"file": (name, content)}, data=data or None)


def referenced_version(world, vendor_api: Api, scheme: str | None = None) -> dict:
    """A solution version of `vendor_api`'s vendor referenced under `scheme` (default: the
    world's), the short way: every statement conform, every verdict compliant."""
    scheme = scheme or world.scheme
    solution = vendor_api.post(
        "solutions/", {"name": unique("Logiciel "), "category": "DPI"}, expect=201
    ).json()
    version = vendor_api.post(
        f"solutions/{solution['id']}/versions/", {"number": "1.0"}, expect=201
    ).json()
    proof = upload(vendor_api).json()
    dossier = vendor_api.post(
        "dossiers/",
        {"scheme": scheme, "solution_version": version["id"], "charter_accepted": True},
        expect=201,
    ).json()
    for code in MANDATORY:
        vendor_api.put(
            f"dossiers/{dossier['id']}/statements/{code}/",
            {"claim": "conform", "justification": "Oui.", "evidence": [proof["id"]]},
        )
    vendor_api.post(f"dossiers/{dossier['id']}/submit/")
    world.admin.post(f"dossiers/{dossier['id']}/assign/", {"reviewer": world.reviewer.user["id"]})
    for code in MANDATORY:
        world.reviewer.put(
            f"dossiers/{dossier['id']}/verdicts/{code}/", {"verdict": "compliant", "comment": ""}
        )
    approved = world.admin2.post(f"dossiers/{dossier['id']}/approve/").json()
    referencing = results(
        world.admin.get("referencings/", params={"reference": approved["reference"]})
    )[0]
    return {
        "solution": solution,
        "version": version,
        "dossier": approved,
        "referencing": referencing,
        "proof": proof,
    }


@pytest.fixture(scope="package")
def world(server, admin, anonymous):
    w = World()
    w.server, w.admin, w.anonymous = server, admin, anonymous
    w.wave = unique("W")
    admin.post("waves/", {"code": w.wave, "name": "Vague du contrat"}, expect=201)
    w.admin2 = create_user(admin, server, "ans_admin")
    w.reviewer = create_user(admin, server, "reviewer")
    w.reviewer2 = create_user(admin, server, "reviewer")
    w.officer1 = create_user(admin, server, "payment_officer")
    w.officer2 = create_user(admin, server, "payment_officer")
    w.officer3 = create_user(admin, server, "payment_officer")
    w.scheme = make_scheme(admin, w.wave)
    w.vendor, w.vendor_api = make_vendor(admin, server)
    w.other_vendor, w.other_vendor_api = make_vendor(admin, server, IBAN_B)
    w.establishment = make_establishment(admin)
    w.signatory = create_user(
        admin, server, "establishment", establishment=w.establishment["id"], signatory=True
    )
    w.member = create_user(
        admin, server, "establishment", establishment=w.establishment["id"], signatory=False
    )
    w.other_establishment = make_establishment(admin)
    w.other_signatory = create_user(
        admin, server, "establishment", establishment=w.other_establishment["id"], signatory=True
    )
    return w


@pytest.fixture(scope="package")
def referenced(world):
    """One referenced version of the world's vendor, with the vendor enrolled."""
    ref = referenced_version(world, world.vendor_api)
    world.officer1.post(f"vendors/{world.vendor['id']}/enrol/")
    return ref


def new_order(world, ref, establishment=None, amount="50000.00", vendor_api=None) -> dict:
    vendor_api = vendor_api or world.vendor_api
    establishment = establishment or make_establishment(world.admin)
    return vendor_api.post(
        "purchase-orders/",
        {
            "establishment": establishment["id"],
            "scheme": world.scheme,
            "solution_version": ref["version"]["id"],
            "amount": amount,
        },
        expect=201,
    ).json()


def signatory_of(world, establishment) -> Api:
    return create_user(
        world.admin,
        world.server,
        "establishment",
        establishment=establishment["id"],
        signatory=True,
    )


def signed_order(world, ref, amount="50000.00"):
    """A new establishment, its signatory, and an order of it sent and signed."""
    establishment = make_establishment(world.admin)
    signatory = signatory_of(world, establishment)
    order = new_order(world, ref, establishment, amount)
    world.vendor_api.post(f"purchase-orders/{order['id']}/send/")
    order = signatory.post(f"purchase-orders/{order['id']}/sign/").json()
    return order, signatory, establishment


def installed_order(world, ref, amount="50000.00"):
    order, signatory, establishment = signed_order(world, ref, amount)
    report = upload(world.vendor_api, "pv.pdf").json()
    world.vendor_api.post(
        f"purchase-orders/{order['id']}/declare-installation/",
        {"installed_on": paris_today(), "version": ref["version"]["id"], "report": report["id"]},
    )
    order = signatory.post(f"purchase-orders/{order['id']}/confirm-installation/").json()
    return order, signatory, establishment


def paid_request(world, order, kind, key=None) -> dict:
    """A payment request created, approved by officer 1, batched by officer 2, paid by 3."""
    headers = {"Idempotency-Key": key} if key else {}
    created = world.vendor_api.post(
        "payment-requests/", {"purchase_order": order["id"], "kind": kind}, 201, headers=headers
    ).json()
    world.officer1.post(f"payment-requests/{created['id']}/approve/")
    world.officer2.post("payment-batches/", expect=201)
    return world.officer3.post(
        f"payment-requests/{created['id']}/mark-paid/", {"payment_reference": unique("VIR-")}
    ).json()


def pytest_sessionfinish(session):
    """`CONTRACT_TIMING=1 pytest -s tests/contract`: where the suite's seconds go, per row, and
    which tests called each row successfully and refused."""
    import collections
    import os

    if not os.environ.get("CONTRACT_TIMING"):
        return
    total = collections.Counter()
    count = collections.Counter()
    for seconds, method, row in TIMING:
        total[(method, str(row))] += seconds
        count[(method, str(row))] += 1
    print("\nrequests:", len(TIMING), "seconds:", round(sum(t for t, *_ in TIMING), 2))
    for key, seconds in total.most_common(25):
        print(f"{seconds:6.2f}s {count[key]:4d} {key}")
    print("\nrow: tests with a successful call | tests with a refused call")
    for row, tests in sorted(COVERAGE.items()):
        print(f"{row[0]} {row[1]}: {sorted(tests['ok'])[:2]} | {sorted(tests['refused'])[:2]}")
