"""The programme's money and authority rules, as invariants of the whole system, checked after
every step of random sequences of real service calls (Hypothesis `RuleBasedStateMachine`).

Rules are the services — sign, cancel, declare, reserve, lift, confirm, request an advance or a
balance, approve, reject, batch, export, mark paid, change an IBAN, enrol, suspend / reinstate /
revoke a referencing, verdicts, changes requested, resubmission, assignment, decisions, recoveries
settled or written off, the lapse sweep — called by actors of every role (mostly the one the
action is for, often anybody: the wrong role, another organisation) at instants chosen around
the scheme's deadlines (Paris time, on the days the clocks change). After every step:

- money: for every order the live payment requests (submitted, approved, paid) add up to at most
  its amount, and each amount follows domain.md §4; for every establishment × scheme at most one
  order holds money that was not recovered; nothing is paid (mark-paid, batch, export) unless the
  order is still alive, its referencing active, its vendor enrolled with the IBAN verified then;
  what was paid on a cancelled or void order is an open recovery of that amount;
- authority: nobody decided a dossier they took part in instructing (the model's own memory of
  every verdict and change request, not the code's); nobody paid a request they approved or put
  in a batch, nor batched one they approved; nobody wrote off a recovery they opened; a funded
  order was cancelled only by ANS or the paying agency;
- the trail: every state change has exactly one new audit entry, naming the actor of the step;
  a refused call changes nothing and writes nothing; `audit_verify` holds.

A refusal must be a 4xx `ApplicationError`; anything else fails the test (a 500).

Profiles: `make test` runs a modest, derandomised number of examples; `SONS_DEEP=1` (or
`make test-deep`) many more, with a random seed (README: counts and durations).
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import os
import sys
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

import time_machine
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import Role, User
from accounts.services import token_obtain
from core.audit import audit_verify
from core.errors import ApplicationError, NotAllowed
from core.models import AuditEntry
from core.timeutils import end_of_day_paris, paris_today
from orders import services as order_services
from orders.models import OrderState, PurchaseOrder
from orders.sweeps import sweep_lapse_orders
from payments import services as payment_services
from payments.exports import batch_csv
from payments.models import (
    PaymentBatch,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    Recovery,
    RecoveryState,
)
from referencing_app import services as referencing_services
from referencing_app.models import Dossier, Referencing
from tests.factories.accounts import PASSWORD, UserFactory, admin_user_form
from tests.factories.orders import EstablishmentFactory
from tests.factories.referencing import fill, pdf_upload, published_scheme
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory, VendorFactory
from vendors import services as vendor_services
from vendors.models import Vendor

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DEEP = os.environ.get("SONS_DEEP", "") not in ("", "0")
EXAMPLES = int(os.environ.get("SONS_MODEL_EXAMPLES", 600 if DEEP else 40))
STEPS = int(os.environ.get("SONS_MODEL_STEPS", 60 if DEEP else 50))

# The world's calendar: orders until the end of Sunday 28 March 2027 (the clocks go forward that
# night), installation until the end of Sunday 31 October 2027 (they go back), payment requests
# until 17 December 2027 at 12:00 — Paris time.
START = dt.datetime(2027, 1, 11, 9, 30, tzinfo=PARIS)
ORDER_DEADLINE = end_of_day_paris(dt.date(2027, 3, 28))
INSTALLATION_DEADLINE = end_of_day_paris(dt.date(2027, 10, 31))
PAYMENT_DEADLINE = dt.datetime(2027, 12, 17, 12, 0, tzinfo=PARIS)
US = dt.timedelta(microseconds=1)
EDGES = sorted(
    edge
    for deadline in (ORDER_DEADLINE, INSTALLATION_DEADLINE, PAYMENT_DEADLINE)
    for edge in (deadline - US, deadline, deadline + US)
)
IBANS = [
    "FR7630004008190001024567147",
    "FR7630003012300005037821417",
    "FR7620041010050512345678996",
    "FR7630002005500000719452137",
]
AMOUNTS = [Decimal("2400.00"), Decimal("10000.01"), Decimal("24999.99"), Decimal("25000.01")]
LIVE = [PaymentState.SUBMITTED, PaymentState.APPROVED, PaymentState.PAID]
ALIVE_ORDER = [
    OrderState.SIGNED,
    OrderState.INSTALLATION_DECLARED,
    OrderState.RESERVED,
    OrderState.INSTALLED,
]
CENT = Decimal("0.01")
REQUIREMENTS = ["SC.INS.01", "SC.DMP.01"]
#: an actor choice: below RIGHT, the user the action is for; above, anybody at all
WHO = st.integers(min_value=0, max_value=99)
RIGHT = 85
#: (rule, outcome) -> count over the run, printed at its end: what the examples reached
STATS: collections.Counter = collections.Counter()


#: actions on an order, and the natural next ones in each state (repeated: more likely)
ORDER_ACTIONS = [
    "send",
    "sign",
    "decline",
    "cancel_party",
    "cancel_ans",
    "declare",
    "reserve",
    "lift",
    "confirm",
    "advance",
    "balance",
]
NEXT_ORDER_ACTIONS = {
    OrderState.DRAFT: ["send"] * 6 + ["cancel_party"],
    OrderState.SENT: ["sign"] * 6 + ["decline", "cancel_party"],
    OrderState.SIGNED: ["advance"] * 3 + ["declare"] * 3 + ["cancel_party", "cancel_ans"],
    OrderState.INSTALLATION_DECLARED: ["confirm"] * 3 + ["reserve", "advance"],
    OrderState.RESERVED: ["lift", "lift", "confirm"],
    OrderState.INSTALLED: ["balance"] * 3 + ["advance", "cancel_ans", "cancel_party"],
    OrderState.LAPSED: ["cancel_ans", "advance", "balance"],
}
REQUEST_ACTIONS = ["approve", "reject", "batch", "mark_paid", "disrupt", "export"]
NEXT_REQUEST_ACTIONS = {
    PaymentState.SUBMITTED: ["approve"] * 4 + ["reject"],
    # between approval and payment, things change: the IBAN, the referencing, the order
    PaymentState.APPROVED: ["batch", "batch", "mark_paid", "mark_paid", "disrupt", "export"],
}
DOSSIER_ACTIONS = [
    "compliant",
    "non_compliant",
    "request_changes",
    "resubmit",
    "assign",
    "approve_dossier",
    "reject_dossier",
    "refile",
    "charter_on",
    "charter_off",
    "comment",
]
NEXT_DOSSIER_ACTIONS = {
    "in_review": ["compliant"] * 4
    + ["non_compliant", "request_changes", "approve_dossier", "approve_dossier", "reject_dossier"],
    "changes_requested": ["resubmit", "charter_off", "charter_on", "comment"],
    "draft": ["resubmit", "resubmit", "charter_off", "charter_on"],
    "submitted": ["assign"],
    # decided: the vendor files a dossier for its next version
    "approved": ["refile"],
    "rejected": ["refile"],
}


class World:
    """Built once per test (inside its transaction); every example starts from it and is rolled
    back at its end."""

    def __init__(self) -> None:
        self.scheme = published_scheme(
            submission_opens=dt.datetime(2026, 1, 1, tzinfo=PARIS),
            submission_closes=end_of_day_paris(dt.date(2027, 6, 30)),
            order_deadline=ORDER_DEADLINE,
            installation_deadline=INSTALLATION_DEADLINE,
            payment_deadline=PAYMENT_DEADLINE,
            price_cap=Decimal("25000.00"),
            advance_rate=Decimal("0.30"),
        )
        u = {}
        u["admin"] = UserFactory(role=Role.ANS_ADMIN)
        u["admin2"] = UserFactory(role=Role.ANS_ADMIN)
        u["superuser"] = UserFactory(role="", is_superuser=True, is_staff=True)
        u["reviewer"] = UserFactory(role=Role.REVIEWER)
        u["reviewer2"] = UserFactory(role=Role.REVIEWER)
        for n in (1, 2, 3):
            u[f"officer{n}"] = UserFactory(role=Role.PAYMENT_OFFICER)
        self.vendors = [VendorFactory(iban=IBANS[0]), VendorFactory(iban=IBANS[1])]
        self.versions = {}  # vendor index -> [versions]
        for n, vendor in enumerate(self.vendors):
            u[f"v{n}_signatory"] = UserFactory(role=Role.VENDOR, vendor=vendor, signatory=True)
            u[f"v{n}_member"] = UserFactory(role=Role.VENDOR, vendor=vendor)
            solution = SolutionFactory(vendor=vendor, category=self.scheme.category)
            self.versions[n] = [SolutionVersionFactory(solution=solution)]
        self.establishments = [EstablishmentFactory(), EstablishmentFactory()]
        for n, establishment in enumerate(self.establishments):
            u[f"e{n}_signatory"] = UserFactory(
                role=Role.ESTABLISHMENT, establishment=establishment, signatory=True
            )
            u[f"e{n}_staff"] = UserFactory(role=Role.ESTABLISHMENT, establishment=establishment)
        self.users = u
        self.all_users = list(u.values())
        with time_machine.travel(START - dt.timedelta(days=60), tick=False):
            # each vendor's first version referenced, then enrolled by the paying agency
            for n, vendor in enumerate(self.vendors):
                dossier = self._dossier(n, self.versions[n][0])
                for code in REQUIREMENTS:
                    referencing_services.verdict_put(
                        actor=u["reviewer"],
                        dossier=dossier,
                        requirement_code=code,
                        verdict="compliant",
                    )
                referencing_services.dossier_approve(actor=u["admin2"], dossier=dossier)
                payment_services.vendor_enrol(actor=u["officer1"], vendor=vendor)
            # vendor 0's next version: its dossier is in review (decisions; pre-referencing
            # orders, made void if the dossier is rejected)
            self.versions[0].append(SolutionVersionFactory(solution=self.versions[0][0].solution))
            self.dossier = self._dossier(0, self.versions[0][1])
            self.reports = [
                referencing_services.evidence_upload(
                    actor=u[f"v{n}_member"], upload=pdf_upload(f"pv-{n}.pdf")
                )
                for n in range(len(self.vendors))
            ]

    def _dossier(self, n: int, version) -> Dossier:
        u = self.users
        dossier = referencing_services.dossier_create(
            actor=u[f"v{n}_signatory"],
            scheme=self.scheme,
            solution_version=version,
            charter_accepted=True,
        )
        world = type("W", (), {"member": u[f"v{n}_member"]})
        fill(world, dossier)
        dossier = referencing_services.dossier_submit(actor=u[f"v{n}_member"], dossier=dossier)
        return referencing_services.dossier_assign(
            actor=u["admin"], dossier=dossier, reviewer=u["reviewer"]
        )


def _savepoint() -> transaction.Atomic:
    """A savepoint marked like Django's TestCase blocks, so that the services' durable
    transactions may run inside it."""
    atomic = transaction.atomic()
    atomic._from_testcase = True
    return atomic


def _state_of_everything() -> dict:
    """What the audit trail must account for: the state of every object with a state machine,
    and each vendor's enrolment and IBAN."""
    states = {}
    for model in (PurchaseOrder, PaymentRequest, Recovery, Dossier, Referencing):
        for pk, state in model.objects.values_list("pk", "state"):
            states[str(pk)] = state
    for pk, enrolled_at, iban in Vendor.objects.values_list("pk", "enrolled_at", "iban"):
        states[str(pk)] = (enrolled_at is not None, iban)
    for pk, *authority in User.objects.values_list(
        "pk", "role", "is_superuser", "is_staff", "is_active", "signatory"
    ):
        states[str(pk)] = tuple(authority)
    for pk, accepted in Dossier.objects.values_list("pk", "charter_accepted_at"):
        states[f"{pk}:charter"] = accepted is not None
    return states


def _is_ans_or_officer(user) -> bool:
    return user.has_role(Role.ANS_ADMIN, Role.PAYMENT_OFFICER)


class ProgrammeMachine(RuleBasedStateMachine):
    world: World
    #: the parts of the programme whose rules run (the others' preconditions fail)
    areas = frozenset({"money", "instruction", "admin"})

    orders = Bundle("orders")
    requests = Bundle("requests")
    batches = Bundle("batches")

    def __init__(self) -> None:
        super().__init__()
        # one savepoint per example, rolled back at its end
        self._atomic = _savepoint()
        self._atomic.__enter__()
        self.now = START
        self.verified_iban = {v.pk: v.iban for v in self.world.vendors}
        self.iban_cursor = 2
        # who took part in instructing each dossier: the model's own memory
        self.instructors: dict = {}
        self.dossier_id = self.world.dossier.pk
        self.token_keys: list[str] = []
        self.steps = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- plumbing ------------------------------------------------------------------------------
    def _who(self, who: int, right: list):
        right = [user for user in right if user is not None]
        if who < RIGHT and right:
            chosen = right[who % len(right)]
        else:
            chosen = self.world.all_users[who % len(self.world.all_users)]
        # as a request would: the user as they are now (the admin may have changed their role)
        return User.objects.select_related("vendor", "establishment").get(pk=chosen.pk)

    def _run(self, actor, call, *, system: bool = False, name: str = ""):
        """Run one service call as `actor` at the model's instant; check the trail. Returns the
        result, or None if the call was refused (a 4xx)."""
        self.steps += 1
        step = name or sys._getframe(1).f_code.co_name
        before = _state_of_everything()
        last_seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        with time_machine.travel(self.now, tick=False):
            try:
                result = call()
            except ApplicationError as exc:
                STATS[step, "refused"] += 1
                if os.environ.get("SONS_MODEL_WHY"):
                    STATS[step, ",".join(sorted(set(exc.codes)))] += 1
                refusal = exc
            else:
                refusal = None
            if refusal is not None:
                assert 400 <= refusal.status_code < 500
                assert _state_of_everything() == before, "a refused call changed something"
                assert not AuditEntry.objects.filter(seq__gt=last_seq).exists(), (
                    "a refused call wrote to the audit trail"
                )
                return None
        STATS[step, "done"] += 1
        after = _state_of_everything()
        entries = list(AuditEntry.objects.filter(seq__gt=last_seq).order_by("seq"))
        for key, state in after.items():
            was = before.get(key)
            if was == state:
                continue
            mine = [e for e in entries if e.object_id == key]
            if isinstance(state, str):  # a state machine's: one entry of that transition
                mine = [e for e in mine if e.to_state]
                assert len(mine) == 1, f"{key}: {was} → {state}, entries {mine}"
                assert (mine[0].from_state or None, mine[0].to_state) == (was, state)
            else:  # a vendor's enrolment or IBAN, a user's authority, a charter: one entry
                if was is None:  # (a new object: its creation is checked by its state)
                    continue
                mine = [e for e in entries if e.object_id == key.split(":")[0]]
                assert len(mine) == 1, f"{key}: {was} → {state}, entries {mine}"
            if system:
                assert mine[0].actor_id is None
                assert mine[0].actor_repr.startswith("système")
            else:
                assert mine[0].actor_id == actor.pk, (mine[0].actor_repr, actor.username)
        return result if result is not None else True

    def _order(self, order_id) -> PurchaseOrder:
        return PurchaseOrder.objects.select_related("scheme").get(pk=order_id)

    def _request(self, request_id) -> PaymentRequest:
        return PaymentRequest.objects.select_related("order", "batch").get(pk=request_id)

    def _vendor_index(self, vendor_id) -> int:
        return [v.pk for v in self.world.vendors].index(vendor_id)

    def _vendor_users(self, vendor_id) -> list:
        n = self._vendor_index(vendor_id)
        return [self.world.users[f"v{n}_member"], self.world.users[f"v{n}_signatory"]]

    def _establishment_users(self, establishment_id, *, signatory: bool = True) -> list:
        n = [e.pk for e in self.world.establishments].index(establishment_id)
        users = [self.world.users[f"e{n}_signatory"]]
        return users if signatory else [*users, self.world.users[f"e{n}_staff"]]

    def _officers(self) -> list:
        return [self.world.users[f"officer{n}"] for n in (1, 2, 3)]

    def _ans_and_officers(self) -> list:
        return [*self._admins(), *self._officers()]

    def _admins(self) -> list:
        return [
            self.world.users["admin"],
            self.world.users["admin2"],
            self.world.users["superuser"],
        ]

    def _payable_now(self, request: PaymentRequest) -> bool:
        """The model's own reading of "still payable": the order alive, its referencing active,
        its vendor enrolled with the IBAN verified then."""
        order = request.order
        vendor = Vendor.objects.get(pk=order.vendor_id)
        referencing = Referencing.objects.filter(
            scheme_id=order.scheme_id, solution_version_id=order.solution_version_id
        ).first()
        return (
            order.state in ALIVE_ORDER
            and referencing is not None
            and referencing.state == "active"
            and vendor.enrolled_at is not None
            and vendor.iban == self.verified_iban.get(vendor.pk)
        )

    # --- time --------------------------------------------------------------------------------
    @precondition(lambda self: "money" in self.areas)
    @rule(jump=st.sampled_from(["hour", "hour", "day", "day", "week", "edge", "sweep"]))
    def time_passes(self, jump):
        """The clock moves on (to the next deadline edge, sometimes), or the lapse sweep runs."""
        if jump == "sweep":
            self._run(None, lambda: sweep_lapse_orders(self.now), system=True, name="lapse")
            return
        if jump == "edge":
            later = [edge for edge in EDGES if edge > self.now]
            if later:
                self.now = later[0]
            return
        self.now += {
            "hour": dt.timedelta(hours=1),
            "day": dt.timedelta(days=1),
            "week": dt.timedelta(days=7),
        }[jump]

    # --- orders -------------------------------------------------------------------------------
    @initialize(
        target=orders,
        starts=st.lists(st.sampled_from(["sent", "signed", "installed"]), min_size=2, max_size=2),
    )
    def orders_under_way(self, starts):
        """Every example starts with an order of each vendor to each establishment, sent, signed
        or installed already (through the services, each step checked like the others)."""
        orders = []
        if "money" not in self.areas:
            return multiple()
        for n, (establishment, start) in enumerate(
            zip(self.world.establishments, starts, strict=True)
        ):
            member = self.world.users[f"v{n}_member"]
            signatory = self.world.users[f"e{n}_signatory"]
            order = self._run(
                member,
                name="order_created",
                call=lambda member=member, n=n, establishment=establishment: (
                    order_services.purchase_order_create(
                        actor=member,
                        establishment=establishment,
                        scheme=self.world.scheme,
                        solution_version=self.world.versions[n][0],
                        amount=AMOUNTS[n],
                    )
                ),
            )
            steps = [
                (member, order_services.purchase_order_send, {}),
                (signatory, order_services.purchase_order_sign, {}),
                (
                    member,
                    order_services.purchase_order_declare_installation,
                    {
                        "installed_on": paris_today(self.now),
                        "version": self.world.versions[n][0],
                        "report": self.world.reports[n],
                    },
                ),
                (signatory, order_services.purchase_order_confirm_installation, {}),
            ]
            for actor, service, kwargs in steps[: {"sent": 1, "signed": 2, "installed": 4}[start]]:
                assert self._run(
                    actor,
                    name=service.__name__.removeprefix("purchase_order_"),
                    call=lambda actor=actor, service=service, kwargs=kwargs, order=order: service(
                        actor=actor, order=order, **kwargs
                    ),
                )
            orders.append(order.pk)
        return multiple(*orders)

    @precondition(lambda self: "money" in self.areas and PurchaseOrder.objects.count() < 4)
    @rule(
        target=orders,
        vendor=st.integers(0, 1),
        next_version=st.booleans(),
        establishment=st.integers(0, 1),
        amount=st.sampled_from(AMOUNTS),
        who=WHO,
    )
    def order_created(self, vendor, next_version, establishment, amount, who):
        versions = self.world.versions[vendor]
        version = versions[-1] if next_version else versions[0]
        actor = self._who(who, self._vendor_users(self.world.vendors[vendor].pk))
        order = self._run(
            actor,
            lambda: order_services.purchase_order_create(
                actor=actor,
                establishment=self.world.establishments[establishment],
                scheme=self.world.scheme,
                solution_version=version,
                amount=amount,
            ),
        )
        return order.pk if order else multiple()

    @precondition(lambda self: "money" in self.areas)
    @rule(target=requests, order=orders, who=WHO, pick=st.integers(0, 99))
    def order_progresses(self, order, who, pick):
        """The natural next step of the order (most often), by its party (most often)."""
        o = self._order(order)
        choices = NEXT_ORDER_ACTIONS.get(o.state, ORDER_ACTIONS)
        if o.funded_at is not None and o.state != OrderState.CANCELLED:
            choices = [*choices, "cancel_ans", "cancel_party"]  # the case of recoveries
        return self._order_action(o, choices[pick % len(choices)], who)

    # (the same rule under other names: drawn three times as often as the others)
    @precondition(lambda self: "money" in self.areas)
    @rule(target=requests, order=orders, who=WHO, pick=st.integers(0, 99))
    def order_progresses_2(self, order, who, pick):
        return self.order_progresses(order, who, pick)

    @precondition(lambda self: "money" in self.areas)
    @rule(target=requests, order=orders, who=WHO, pick=st.integers(0, 99))
    def order_progresses_3(self, order, who, pick):
        return self.order_progresses(order, who, pick)

    @precondition(lambda self: "money" in self.areas)
    @rule(target=requests, order=orders, who=WHO, action=st.sampled_from(ORDER_ACTIONS))
    def order_action(self, order, who, action):
        """Any action on any order, in any state."""
        return self._order_action(self._order(order), action, who)

    def _order_action(self, o: PurchaseOrder, action: str, who: int):
        vendor = self._vendor_users(o.vendor_id)
        signatory = self._establishment_users(o.establishment_id)
        if action == "send":
            actor = self._who(who, vendor)
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_send(actor=actor, order=o),
            )
        elif action == "sign":
            actor = self._who(who, signatory)
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_sign(actor=actor, order=o),
            )
        elif action == "decline":
            actor = self._who(who, self._establishment_users(o.establishment_id, signatory=False))
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_decline(
                    actor=actor, order=o, reason="Non"
                ),
            )
        elif action in ("cancel_party", "cancel_ans"):
            right = [*vendor, *signatory] if action == "cancel_party" else self._ans_and_officers()
            self._cancel(o, self._who(who, right))
        elif action == "declare":
            actor = self._who(who, vendor)
            report = self.world.reports[self._vendor_index(o.vendor_id)]
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_declare_installation(
                    actor=actor,
                    order=o,
                    installed_on=paris_today(self.now),
                    version=o.solution_version,
                    report=report,
                ),
            )
        elif action == "reserve":
            actor = self._who(who, signatory)
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_reserve(
                    actor=actor, order=o, reservations=["Connexion INSi en échec"]
                ),
            )
        elif action == "lift":
            actor = self._who(who, vendor)
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_lift_reservations(actor=actor, order=o),
            )
        elif action == "confirm":
            actor = self._who(who, signatory)
            self._run(
                actor,
                name=action,
                call=lambda: order_services.purchase_order_confirm_installation(
                    actor=actor, order=o
                ),
            )
        elif action in PaymentKind.values:
            actor = self._who(who, vendor)
            result = self._run(
                actor,
                name=action,
                call=lambda: payment_services.payment_request_create(
                    actor=actor, order=o, kind=action
                ),
            )
            if result:
                return result[0].pk
        return multiple()

    def _cancel(self, o: PurchaseOrder, actor) -> None:
        funded = o.funded_at is not None
        paid = PaymentRequest.objects.filter(order=o, state=PaymentState.PAID).aggregate(
            total=Sum("amount")
        )["total"]
        if self._run(
            actor,
            name="cancel",
            call=lambda: order_services.purchase_order_cancel(
                actor=actor, order=o, reason="Changement d'éditeur"
            ),
        ):
            assert not funded or _is_ans_or_officer(actor), "a funded order cancelled by a party"
            if paid:
                recovery = Recovery.objects.get(purchase_order=o)
                assert (recovery.state, recovery.amount) == (RecoveryState.OPEN, paid)

    # --- payments ----------------------------------------------------------------------------
    @precondition(lambda self: "money" in self.areas)
    @rule(request=requests, who=WHO, pick=st.integers(0, 99))
    def request_progresses(self, request, who, pick):
        r = self._request(request)
        choices = NEXT_REQUEST_ACTIONS.get(r.state, REQUEST_ACTIONS)
        self._request_action(r, choices[pick % len(choices)], who)

    @precondition(lambda self: "money" in self.areas)
    @rule(request=requests, who=WHO, pick=st.integers(0, 99))
    def request_progresses_2(self, request, who, pick):
        self.request_progresses(request, who, pick)

    @precondition(lambda self: "money" in self.areas)
    @rule(request=requests, who=WHO, pick=st.integers(0, 99))
    def request_progresses_3(self, request, who, pick):
        self.request_progresses(request, who, pick)

    @precondition(lambda self: "money" in self.areas)
    @rule(request=requests, who=WHO, action=st.sampled_from(REQUEST_ACTIONS))
    def request_action(self, request, who, action):
        self._request_action(self._request(request), action, who)

    def _request_action(self, r: PaymentRequest, action: str, who: int) -> None:
        if action == "disrupt":
            self._disrupt(r, who)
            return
        if action == "export":
            if r.batch_id:
                self._export(r.batch)
            return
        # the officer the action is for: for a batch, half the time any (what it takes is the
        # service's business), half the time the request's approver; for the payment, half the
        # time one who may (neither the approver nor the batch's creator), half the time one of
        # those four-eyes bars (four-eyes put to the test)
        officers = self._officers()
        if action == "batch" and who % 2 and r.approved_by_id:
            officers = [o for o in officers if o.pk == r.approved_by_id] or officers
        if action == "mark_paid":
            barred = {r.approved_by_id, r.batch.created_by_id if r.batch_id else None}
            if who % 2 == 0:
                officers = [o for o in officers if o.pk not in barred]
            else:
                officers = [o for o in officers if o.pk in barred] or officers
        actor = self._who(who, officers)
        if action == "approve":
            if self._run(
                actor,
                name=action,
                call=lambda: payment_services.payment_request_approve(actor=actor, request=r),
            ):
                assert actor.has_role(Role.PAYMENT_OFFICER), "approved by someone not an officer"
        elif action == "reject":
            self._run(
                actor,
                name=action,
                call=lambda: payment_services.payment_request_reject(
                    actor=actor, request=r, reason="Pièce illisible"
                ),
            )
        elif action == "batch":
            self._batch(actor)
        elif action == "mark_paid":
            payable = r.state == PaymentState.APPROVED and self._payable_now(r)
            if self._run(
                actor,
                name=action,
                call=lambda: payment_services.payment_request_mark_paid(
                    actor=actor, request=r, payment_reference="VIR-2027-0001"
                ),
            ):
                assert payable, "paid a request that was not payable at that instant"
                assert actor.has_role(Role.PAYMENT_OFFICER), "paid by someone not an officer"

    def _disrupt(self, r: PaymentRequest, who: int) -> None:
        """Something changes for an approved request before it is paid: its vendor's IBAN,
        its referencing's state, or the order is cancelled by ANS."""
        vendor = self._vendor_index(r.order.vendor_id)
        event = ["iban", "suspend", "iban", "cancel"][who % 4]
        if event == "cancel":
            self._cancel(self._order(r.order_id), self._who(who, self._ans_and_officers()))
        else:
            self.vendor_event(vendor, event, who)
        # … and the paying agency goes on: the file of its batch, or a new batch by an officer
        # who may carry it
        r = self._request(r.pk)
        if r.state == PaymentState.APPROVED:
            if r.batch_id:
                self._export(r.batch)
            else:
                others = [o for o in self._officers() if o.pk != r.approved_by_id]
                self._batch(self._who(who // 2, others))

    def _batch(self, actor) -> None:
        payable = {
            r.pk: self._payable_now(r)
            for r in PaymentRequest.objects.filter(
                state=PaymentState.APPROVED, batch__isnull=True
            ).select_related("order")
        }
        batch = self._run(
            actor, name="batch", call=lambda: payment_services.payment_batch_create(actor=actor)
        )
        if batch:
            for r in PaymentRequest.objects.filter(batch=batch):
                assert payable[r.pk], f"batched a request not payable now: {r.pk}"
                assert r.approved_by_id != actor.pk, "batched by the officer who approved it"

    @precondition(lambda self: "money" in self.areas and PaymentBatch.objects.exists())
    @rule(pick=st.integers(0, 9))
    def export(self, pick):
        batches = list(PaymentBatch.objects.order_by("created_at", "pk"))
        if not batches:
            return
        self._export(batches[pick % len(batches)])

    def _export(self, batch: PaymentBatch) -> None:
        """The batch's file carries only what is payable now, to the IBAN verified then."""
        with time_machine.travel(self.now, tick=False):
            try:
                text = batch_csv(batch)
            except ApplicationError:
                STATS["export", "refused"] += 1
                return
        STATS["export", "done"] += 1
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        for row in rows:
            r = self._request(row["request"])
            vendor = Vendor.objects.get(pk=r.order.vendor_id)
            assert r.state == PaymentState.APPROVED, "an export carries a request not to pay"
            assert self._payable_now(r), "an export carries a request not payable now"
            assert row["iban"] == self.verified_iban[vendor.pk] == vendor.iban

    @precondition(lambda self: "money" in self.areas)
    @rule(
        vendor=st.integers(0, 1),
        event=st.sampled_from(
            ["enrol"] * 4 + ["iban", "iban", "suspend", "reinstate", "reinstate", "revoke"]
        ),
        who=WHO,
    )
    def vendor_event(self, vendor, event, who):
        """The paying agency enrols a vendor; ANS changes its IBAN, suspends, reinstates or
        revokes its referencing."""
        v = self.world.vendors[vendor]
        if event == "iban":
            actor = self._who(who, self._admins())
            iban = IBANS[self.iban_cursor % len(IBANS)]
            self.iban_cursor += 1
            self._run(
                actor,
                name="iban",
                call=lambda: vendor_services.vendor_update(actor=actor, vendor=v, iban=iban),
            )
        elif event == "enrol":
            actor = self._who(who, self._officers())
            if self._run(
                actor,
                name="enrol",
                call=lambda: payment_services.vendor_enrol(actor=actor, vendor=v),
            ):
                self.verified_iban[v.pk] = Vendor.objects.get(pk=v.pk).iban
        else:
            referencing = Referencing.objects.filter(
                solution_version=self.world.versions[vendor][0]
            ).first()
            actor = self._who(who, self._admins())
            service = getattr(referencing_services, f"referencing_{event}")
            self._run(
                actor,
                name=event,
                call=lambda: service(actor=actor, referencing=referencing, reason="Contrôle"),
            )

    @precondition(lambda self: "money" in self.areas and Recovery.objects.exists())
    @rule(pick=st.integers(0, 9), who=WHO, write_off=st.booleans())
    def settle_recovery(self, pick, who, write_off):
        recoveries = list(Recovery.objects.order_by("created_at", "pk"))
        if not recoveries:
            return
        recovery = recoveries[pick % len(recoveries)]
        actor = self._who(who, self._officers())
        if write_off:
            self._run(
                actor,
                lambda: payment_services.recovery_write_off(
                    actor=actor, recovery=recovery, reason="Éditeur en liquidation"
                ),
            )
        else:
            self._run(
                actor,
                lambda: payment_services.recovery_mark_recovered(
                    actor=actor, recovery=recovery, payment_reference="REMB-2027-01"
                ),
            )

    # --- instruction and decisions ---------------------------------------------------------------
    def _dossier(self) -> Dossier:
        return Dossier.objects.get(pk=self.dossier_id)

    def _reviewers(self) -> list:
        u = self.world.users
        return [u["reviewer"], u["reviewer2"], *self._admins()]

    @precondition(lambda self: "instruction" in self.areas)
    @rule(who=WHO, pick=st.integers(0, 99))
    def dossier_progresses(self, who, pick):
        choices = NEXT_DOSSIER_ACTIONS.get(self._dossier().state, DOSSIER_ACTIONS)
        self._dossier_action(choices[pick % len(choices)], who, pick)

    @precondition(lambda self: "instruction" in self.areas)
    @rule(who=WHO, pick=st.integers(0, 99))
    def dossier_progresses_2(self, who, pick):  # (drawn twice as often)
        self.dossier_progresses(who, pick)

    @precondition(lambda self: "instruction" in self.areas)
    @rule(who=WHO, action=st.sampled_from(DOSSIER_ACTIONS), pick=st.integers(0, 99))
    def dossier_action(self, who, action, pick):
        self._dossier_action(action, who, pick)

    def _dossier_action(self, action: str, who: int, pick: int) -> None:
        dossier = self._dossier()
        if action in ("compliant", "non_compliant"):
            actor = self._who(who, self._reviewers())
            code = REQUIREMENTS[pick % len(REQUIREMENTS)]
            if self._run(
                actor,
                name=action,
                call=lambda: referencing_services.verdict_put(
                    actor=actor,
                    dossier=dossier,
                    requirement_code=code,
                    verdict=action,
                    comment="Trace INSi absente." if action == "non_compliant" else "",
                ),
            ):
                self.instructors.setdefault(dossier.pk, set()).add(actor.pk)
        elif action == "request_changes":
            actor = self._who(who, self._reviewers())
            if self._run(
                actor,
                name=action,
                call=lambda: referencing_services.dossier_request_changes(
                    actor=actor,
                    dossier=dossier,
                    reason="Compléter",
                    requirement_codes=REQUIREMENTS,
                ),
            ):
                self.instructors.setdefault(dossier.pk, set()).add(actor.pk)
        elif action in ("charter_on", "charter_off"):
            u = self.world.users
            actor = self._who(who, [u["v0_signatory"], u["v0_member"]])
            if self._run(
                actor,
                name=action,
                call=lambda: referencing_services.dossier_update(
                    actor=actor, dossier=dossier, charter_accepted=action == "charter_on"
                ),
            ):
                charter = Dossier.objects.get(pk=dossier.pk).charter_accepted_at is not None
                if charter != (dossier.charter_accepted_at is not None):
                    assert actor.signatory, "the charter changed by someone not its signatory"
        elif action == "comment":
            actor = self._who(who, self._reviewers())
            if (
                self._run(
                    actor,
                    name=action,
                    call=lambda: referencing_services.comment_create(
                        actor=actor, dossier=dossier, body="Merci de préciser la trace INSi."
                    ),
                )
                and actor.role == Role.REVIEWER
                and not actor.is_ans_admin
            ):
                assert actor.pk == dossier.reviewer_id, (
                    "a reviewer commented on a dossier not assigned to them"
                )
        elif action == "refile":
            actor = self._who(who, [self.world.users["v0_signatory"]])
            dossier = self._run(actor, call=lambda: self._refile(actor), name=action)
            if dossier:
                self.dossier_id = dossier.pk
        elif action == "resubmit":
            actor = self._who(who, self._vendor_users(self.world.vendors[0].pk))
            self._run(
                actor,
                name=action,
                call=lambda: referencing_services.dossier_submit(actor=actor, dossier=dossier),
            )
        elif action == "assign":
            actor = self._who(who, self._admins())
            reviewer = self._reviewers()[pick % len(self._reviewers())]
            self._run(
                actor,
                name=action,
                call=lambda: referencing_services.dossier_assign(
                    actor=actor, dossier=dossier, reviewer=reviewer
                ),
            )
        else:
            reviewer_id = dossier.reviewer_id
            actor = self._who(who, self._admins())
            if action == "approve_dossier":
                done = self._run(
                    actor,
                    name=action,
                    call=lambda: referencing_services.dossier_approve(actor=actor, dossier=dossier),
                )
            else:
                done = self._run(
                    actor,
                    name=action,
                    call=lambda: referencing_services.dossier_reject(
                        actor=actor, dossier=dossier, reason="Non conforme"
                    ),
                )
            if done:
                assert actor.is_ans_admin, "decided by someone who is not an ANS admin"
                assert actor.pk != reviewer_id, "decided by the assigned reviewer"
                assert actor.pk not in self.instructors.get(dossier.pk, set()), (
                    "decided by someone who gave a verdict or requested changes (four-eyes)"
                )

    # --- the Django admin and API tokens ---------------------------------------------------------
    @precondition(lambda self: "admin" in self.areas)
    @rule(who=WHO)
    def token_obtained(self, who):
        actor = self._who(who, self.world.all_users)
        token = self._run(
            actor,
            call=lambda: token_obtain(
                username=actor.username, password=PASSWORD, ip_address="192.0.2.1"
            ),
        )
        if token:
            self.token_keys.append(token.key)

    @precondition(lambda self: "admin" in self.areas)
    @rule(
        target_user=st.sampled_from(
            ["reviewer", "officer1", "v0_member", "e0_staff", "admin2", "reviewer2"]
        ),
        change=st.sampled_from(["role", "superuser", "deactivate", "signatory"]),
        who=WHO,
    )
    def admin_edits_user(self, target_user, change, who):
        """A superuser (or anybody) edits a user in the Django admin: it must go to the trail."""
        actor = self._who(who, [self.world.users["superuser"]])
        user = User.objects.get(pk=self.world.users[target_user].pk)
        data = admin_user_form(user)
        if change == "role" and not user.vendor_id and not user.establishment_id:
            data["role"] = "ans_admin" if user.role != "ans_admin" else "reviewer"
        elif change == "superuser":
            data["is_superuser"] = data["is_staff"] = not user.is_superuser
        elif change == "deactivate":
            data["is_active"] = not user.is_active
        elif change == "signatory" and (user.vendor_id or user.establishment_id):
            data["signatory"] = not user.signatory
        data = {k: v for k, v in data.items() if v is not False}

        def post():
            client = Client()
            client.force_login(actor)  # (at the model's instant: the session is fresh then)
            response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)
            if response.status_code != 302 or "/login/" in response.get("Location", ""):
                errors = ""
                if response.status_code == 200 and response.context:
                    form = response.context.get("adminform")
                    errors = form.form.errors.as_json() if form else ""
                raise NotAllowed(
                    f"refused by the admin {errors}", code=f"admin_{response.status_code}"
                )
            return True

        self._run(actor, name="admin_user", call=post)

    @precondition(lambda self: "admin" in self.areas and bool(self.token_keys))
    @rule()
    def superuser_browses_the_admin(self):
        """No page of the admin shows an API key: nobody may act as someone else."""
        client = Client()
        with time_machine.travel(self.now, tick=False):
            client.force_login(self.world.users["superuser"])
            for model in admin.site._registry:
                url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
                page = client.get(url).content.decode()
                assert not [key for key in self.token_keys if key in page], url

    def _refile(self, actor) -> Dossier:
        """A draft dossier, filled in, for a new version of vendor 0's solution."""
        with _savepoint():
            version = SolutionVersionFactory(solution=self.world.versions[0][0].solution)
            dossier = referencing_services.dossier_create(
                actor=actor,
                scheme=self.world.scheme,
                solution_version=version,
                charter_accepted=True,
            )
            fill(type("W", (), {"member": self.world.users["v0_member"]}), dossier)
            return dossier

    # --- the invariants, after every step --------------------------------------------------------
    @invariant()
    def money_holds(self):
        rate = self.world.scheme.advance_rate
        live = {}
        for r in PaymentRequest.objects.filter(state__in=LIVE):
            live.setdefault(r.order_id, []).append(r)
        holding: dict = {}
        recoveries = {r.purchase_order_id: r for r in Recovery.objects.all()}
        orders = PurchaseOrder.objects.filter(pk__in=list(live) + list(recoveries))
        for order in orders:
            requests = live.get(order.pk, [])
            total = sum((r.amount for r in requests), Decimal("0"))
            assert total <= order.amount, f"{order.pk}: {total} requested on {order.amount}"
            advance = sum((r.amount for r in requests if r.kind == PaymentKind.ADVANCE), CENT * 0)
            for r in requests:
                if r.kind == PaymentKind.ADVANCE:
                    expected = (order.amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                else:
                    expected = order.amount - advance
                assert r.amount == expected, f"{r.kind} of {r.amount} on {order.amount}"
            paid = sum((r.amount for r in requests if r.state == PaymentState.PAID), CENT * 0)
            funded = any(r.state in (PaymentState.APPROVED, PaymentState.PAID) for r in requests)
            recovery = recoveries.get(order.pk)
            if order.state in (OrderState.CANCELLED, OrderState.VOID):
                assert not any(r.state != PaymentState.PAID for r in requests), (
                    "an unpaid request still live on an ended order"
                )
                if paid:
                    assert recovery is not None, "money paid on an ended order, no recovery"
                    assert recovery.amount == paid
            if funded and not (recovery and recovery.state == RecoveryState.RECOVERED):
                key = (order.establishment_id, order.scheme_id)
                holding.setdefault(key, set()).add(order.pk)
        for key, funded_orders in holding.items():
            assert len(funded_orders) <= 1, f"{key} funded by {len(funded_orders)} orders"

    @invariant()
    def authority_holds(self):
        four_eyes = settings.PAYMENT_FOUR_EYES
        for r in PaymentRequest.objects.filter(
            state__in=[PaymentState.APPROVED, PaymentState.PAID]
        ).select_related("batch"):
            # (the roles at the time of the act are checked by the steps themselves)
            if r.batch_id and four_eyes:
                assert r.batch.created_by_id != r.approved_by_id, "batched by its approver"
            if r.state == PaymentState.PAID and four_eyes:
                assert r.paid_by_id != r.approved_by_id, "paid by its approver"
                assert not r.batch_id or r.paid_by_id != r.batch.created_by_id
        for recovery in Recovery.objects.filter(state=RecoveryState.WRITTEN_OFF):
            assert recovery.written_off_by_id != recovery.opened_by_id or not four_eyes

    @invariant()
    def trail_holds(self):
        result = audit_verify()
        assert result.ok, result.problem


def _hypothesis_settings(examples: int, steps: int):
    return hsettings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=not DEEP,
        database=None,
        print_blob=True,
        verbosity=Verbosity.normal,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


class MoneyMachine(ProgrammeMachine):
    areas = frozenset({"money"})


class InstructionMachine(ProgrammeMachine):
    areas = frozenset({"instruction"})


def _run_machine(machine, capsys, examples: int, steps: int, reached: tuple[str, ...]) -> None:
    ProgrammeMachine.world = World()
    STATS.clear()
    run_state_machine_as_test(machine, settings=_hypothesis_settings(examples, steps))
    with capsys.disabled():
        total = sum(STATS.values())
        print(f"\n{machine.__name__}: {examples} examples × ≤ {steps} steps: {total} calls")
        for (name, outcome), count in sorted(STATS.items()):
            print(f"  {name:<22} {outcome:<8} {count}")
    # the examples reached the deep states (a test that never gets there cannot fail)
    for step in reached:
        assert STATS[step, "done"], f"no example reached a successful {step}"


# (the recoveries settled: in the deep profile; the default one's 60 examples do not reach one
# settled — test_money_exploits and the recoveries' page tests settle them through HTTP)
MONEY_STEPS = ("mark_paid", "batch", "cancel", "balance", "approve") + (
    ("settle_recovery",) if DEEP else ()
)


def test_the_whole_programme_keeps_its_rules(db, capsys):
    _run_machine(ProgrammeMachine, capsys, EXAMPLES, STEPS, ("approve", "compliant"))


def test_money_is_never_paid_twice_over_the_amount_or_by_one_person(db, capsys):
    _run_machine(MoneyMachine, capsys, EXAMPLES * 3 // 2, STEPS * 6 // 5, MONEY_STEPS)


def test_no_one_decides_a_dossier_they_instructed(db, capsys):
    _run_machine(
        InstructionMachine, capsys, EXAMPLES, STEPS // 2, ("approve_dossier", "reject_dossier")
    )
