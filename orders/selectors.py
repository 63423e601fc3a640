"""Reads of the orders app: visibility per role."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.errors import NotFound
from core.selectors import get_visible
from orders.models import Establishment, PurchaseOrder, Reservation
from referencing_app.models import Evidence
from vendors.models import SolutionVersion

ORDER_READERS = (Role.ANS_ADMIN, Role.REVIEWER, Role.PAYMENT_OFFICER)


def order_queryset() -> QuerySet[PurchaseOrder]:
    """Orders with what their rows show. Three joins only: each more table in the page's query
    cost PostgreSQL milliseconds of planning (8 tables: 12 ms, on a million orders; 4: 0.4 ms);
    the versions with their solutions come in one more query (docs/benchmarks.md)."""
    return PurchaseOrder.objects.select_related(
        "establishment", "vendor", "scheme"
    ).prefetch_related(
        Prefetch("solution_version", queryset=SolutionVersion.objects.select_related("solution")),
        Prefetch("reservations", queryset=Reservation.objects.order_by("created_at")),
    )


def order_list_for_user(user: User) -> QuerySet[PurchaseOrder]:
    qs = order_queryset()
    if user.has_role(*ORDER_READERS):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(vendor_id=user.vendor_id)
    if user.role == Role.ESTABLISHMENT and user.establishment_id:
        # a draft is the vendor's until it is sent
        return qs.filter(establishment_id=user.establishment_id).exclude(state="draft")
    return qs.none()


def order_get_for_user(user: User, order_id) -> PurchaseOrder:
    return get_visible(order_list_for_user(user), order_id)


def acceptance_report_for_user(user: User, order_id) -> Evidence:
    """The acceptance report of an order the user may see: the establishment that confirms
    the installation reads what the vendor deposited, as do the vendor, ANS and the paying
    agency. Not found (404) when the order is not theirs or has no report."""
    order = order_get_for_user(user, order_id)
    if order.acceptance_report_id is None:
        raise NotFound(
            _("Aucun procès-verbal d'installation n'a été déposé pour ce bon de commande.")
        )
    return order.acceptance_report


def establishment_list_for_user(user: User) -> QuerySet[Establishment]:
    qs = Establishment.objects.all()
    if user.has_role(*ORDER_READERS, Role.VENDOR):
        return qs
    if user.role == Role.ESTABLISHMENT and user.establishment_id:
        return qs.filter(pk=user.establishment_id)
    return qs.none()


def establishment_get_for_user(user: User, establishment_id) -> Establishment:
    return get_visible(establishment_list_for_user(user), establishment_id)
