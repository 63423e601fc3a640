"""Builders for orders and payments tests: an approved referencing, an establishment with a
signatory and a plain member, and purchase orders brought to any state through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import factory

from accounts.models import Role, User
from core.identifiers import luhn_key
from orders import services as order_services
from orders.models import Establishment, PurchaseOrder
from referencing_app.models import Referencing
from tests.factories.accounts import UserFactory
from tests.factories.referencing import World, dossier_in, make_world, upload


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
            enrolled_at=referencing.valid_from
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


def order_in(
    ow: OrderWorld,
    state: str,
    *,
    amount: Decimal = Decimal("20000.00"),
    at: dt.datetime | None = None,
    establishment: Establishment | None = None,
    signatory: User | None = None,
) -> PurchaseOrder:
    """An order brought to `state` through the real services."""
    order = order_services.purchase_order_create(
        actor=ow.member,
        establishment=establishment or ow.establishment,
        scheme=ow.scheme,
        solution_version=ow.version,
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
