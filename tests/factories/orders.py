"""Builders for orders and payments tests: an approved referencing, an establishment with a
signatory and a plain member, and purchase orders brought to any state through the services."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import factory

from accounts.models import Role, User
from core.identifiers import luhn_key
from orders import services as order_services
from orders.models import Establishment, PurchaseOrder
from referencing_app.models import Dossier, Referencing
from tests.factories.accounts import UserFactory
from tests.factories.referencing import World, dossier_in, make_world, upload
from tests.factories.vendors import SolutionVersionFactory
from vendors.models import SolutionVersion


def _finess(n: int) -> str:
    body = f"75{n:06d}"
    return body + luhn_key(body)


class EstablishmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Establishment

    finess = factory.Sequence(_finess)
    name = factory.Sequence(lambda n: f"Centre hospitalier {n}")
    kind = "hospital"


@dataclass
class OrderWorld:
    world: World
    referencing: Referencing
    establishment: Establishment
    signatory: User
    staff: User
    other_establishment_signatory: User

    def __getattr__(self, name):  # world.member, world.admin, world.scheme, …
        return getattr(self.world, name)


def make_order_world(*, enrolled: bool = True, **scheme_kwargs) -> OrderWorld:
    world = make_world(**scheme_kwargs)
    dossier_in(world, "approved")
    referencing = Referencing.objects.get(scheme=world.scheme, solution_version=world.version)
    if enrolled:
        type(world.vendor).objects.filter(pk=world.vendor.pk).update(
            enrolled_at=referencing.valid_from, enrolled_iban=world.vendor.iban
        )
        world.vendor.refresh_from_db()
    establishment = EstablishmentFactory()
    other = EstablishmentFactory()
    return OrderWorld(
        world=world,
        referencing=referencing,
        establishment=establishment,
        signatory=UserFactory(role=Role.ESTABLISHMENT, establishment=establishment, signatory=True),
        staff=UserFactory(role=Role.ESTABLISHMENT, establishment=establishment),
        other_establishment_signatory=UserFactory(
            role=Role.ESTABLISHMENT, establishment=other, signatory=True
        ),
    )


def pre_referencing_version(ow: OrderWorld, dossier_state: str) -> tuple[SolutionVersion, Dossier]:
    """A new version of the world's solution, not referenced, with a dossier in `dossier_state`
    (e.g. `submitted`, `in_review`, `changes_requested`: in progress)."""
    version = SolutionVersionFactory(solution=ow.version.solution)
    dossier = dossier_in(dataclasses.replace(ow.world, version=version), dossier_state)
    return version, dossier


def order_in(
    ow: OrderWorld,
    state: str,
    *,
    amount: Decimal = Decimal("20000.00"),
    at: dt.datetime | None = None,
    establishment: Establishment | None = None,
    signatory: User | None = None,
    solution_version: SolutionVersion | None = None,
) -> PurchaseOrder:
    """An order brought to `state` through the real services (`lapsed` through the lapse sweep
    run just after the installation deadline; `void` through the rejection of the dossier of a
    pre-referencing order)."""
    if state == "void":
        version, dossier = pre_referencing_version(ow, "in_review")
        order = order_in(
            ow,
            "signed",
            amount=amount,
            at=at,
            establishment=establishment,
            signatory=signatory,
            solution_version=version,
        )
        from referencing_app import services as referencing_services

        referencing_services.dossier_reject(actor=ow.admin2, dossier=dossier, reason="Non conforme")
        order = PurchaseOrder.objects.get(pk=order.pk)  # the state field is protected
        assert order.state == "void", order.state
        return order
    if state == "lapsed":
        from orders.sweeps import sweep_lapse_orders

        order = order_in(
            ow,
            "signed",
            amount=amount,
            at=at,
            establishment=establishment,
            signatory=signatory,
            solution_version=solution_version,
        )
        sweep_lapse_orders(ow.scheme.installation_deadline + dt.timedelta(microseconds=1))
        order = PurchaseOrder.objects.get(pk=order.pk)
        assert order.state == "lapsed", order.state
        return order
    order = order_services.purchase_order_create(
        actor=ow.member,
        establishment=establishment or ow.establishment,
        scheme=ow.scheme,
        solution_version=solution_version or ow.version,
        amount=amount,
    )
    if state == "draft":
        return order
    order = order_services.purchase_order_send(actor=ow.member, order=order)
    if state == "sent":
        return order
    if state == "declined":
        return order_services.purchase_order_decline(
            actor=ow.staff, order=order, reason="Pas de besoin"
        )
    if state == "cancelled":
        return order_services.purchase_order_cancel(
            actor=ow.member, order=order, reason="Erreur de saisie"
        )
    if signatory is None and establishment is not None and establishment != ow.establishment:
        signatory = User.objects.filter(
            establishment=establishment, signatory=True
        ).first() or UserFactory(
            role=Role.ESTABLISHMENT, establishment=establishment, signatory=True
        )
    order = order_services.purchase_order_sign(actor=signatory or ow.signatory, order=order, at=at)
    if state == "signed":
        return order
    report = upload(ow.world, "pv-installation.pdf")
    order = order_services.purchase_order_declare_installation(
        actor=ow.member,
        order=order,
        installed_on=(at or order.signed_at).date(),
        version=ow.version,
        report=report,
        at=at,
    )
    if state == "installation_declared":
        return order
    if state == "reserved":
        return order_services.purchase_order_reserve(
            actor=signatory or ow.signatory, order=order, reservations=["Flux DMP non testé"], at=at
        )
    if state == "installed":
        return order_services.purchase_order_confirm_installation(
            actor=signatory or ow.signatory, order=order, at=at
        )
    raise ValueError(state)
