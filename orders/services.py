"""Writes of the orders app: establishments, purchase orders, installation and acceptance.

Each public function is one verb of the programme: it owns its transaction, locks the order,
checks the actor's right, checks the guards (refusals carry the reason codes of domain.md §5),
runs the transition, writes one audit entry and notifies after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.selectors import establishment_members, vendor_members
from core.audit import audit_record, diff, snapshot
from core.errors import ApplicationError, Conflict, ErrorItem, InvalidInput, NotAllowed
from core.fsm import require_transition
from core.notifications import notify
from core.timeutils import paris_today
from orders import hooks
from orders.models import (
    CANCELLABLE,
    CANCELLABLE_BY_PARTIES,
    SIGNED_OR_LATER,
    Establishment,
    OrderState,
    PurchaseOrder,
    Reservation,
)
from referencing_app.models import Dossier, DossierState, Evidence, Referencing, ReferencingState
from sons.models import EligibleEstablishment, Scheme
from vendors.models import SolutionVersion

ESTABLISHMENT_FIELDS = ("finess", "rpps", "name", "kind", "siret")
DOSSIER_IN_PROGRESS = (
    DossierState.SUBMITTED,
    DossierState.IN_REVIEW,
    DossierState.CHANGES_REQUESTED,
)


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _lock(order: PurchaseOrder) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("scheme", "establishment", "vendor", "solution_version__solution")
        .get(pk=order.pk)
    )


def _require_vendor(actor: User, order: PurchaseOrder) -> None:
    if not (actor.role == Role.VENDOR and actor.vendor_id == order.vendor_id):
        raise NotAllowed(_("Réservé à l'éditeur de la commande."))


def _require_establishment(actor: User, order: PurchaseOrder, *, signatory: bool) -> None:
    if not (actor.role == Role.ESTABLISHMENT and actor.establishment_id == order.establishment_id):
        raise NotAllowed(_("Réservé à l'établissement de la commande."))
    if signatory and not actor.signatory:
        raise NotAllowed(
            _("Seul un signataire de l'établissement peut faire cela."), code="NOT_SIGNATORY"
        )


def _audit(
    actor, action: str, order: PurchaseOrder, from_state: str, reason: str = "", changes=None
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=order,
        from_state=from_state,
        to_state=order.state,
        reason=reason,
        changes=changes,
    )


# --- establishments -------------------------------------------------------------------------------
def _require_identifier(establishment: Establishment) -> None:
    if not establishment.finess and not establishment.rpps:
        raise InvalidInput("required", _("Indiquez un FINESS ou un RPPS."), "finess")


@transaction.atomic(durable=True)
def establishment_create(*, actor: User, **fields: Any) -> Establishment:
    establishment = Establishment(**fields)
    _require_identifier(establishment)
    establishment.full_clean()
    establishment.save()
    audit_record(
        actor=actor,
        action="establishment.create",
        obj=establishment,
        changes=diff({}, snapshot(establishment, ESTABLISHMENT_FIELDS)),
    )
    return establishment


@transaction.atomic(durable=True)
def establishment_update(
    *, actor: User, establishment: Establishment, **fields: Any
) -> Establishment:
    establishment = Establishment.objects.select_for_update().get(pk=establishment.pk)
    before = snapshot(establishment, ESTABLISHMENT_FIELDS)
    for name, value in fields.items():
        setattr(establishment, name, value)
    _require_identifier(establishment)
    establishment.full_clean()
    establishment.save()
    changes = diff(before, snapshot(establishment, ESTABLISHMENT_FIELDS))
    if changes:
        audit_record(actor=actor, action="establishment.update", obj=establishment, changes=changes)
    return establishment


# --- purchase orders ------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def purchase_order_create(
    *,
    actor: User,
    establishment: Establishment,
    scheme: Scheme,
    solution_version: SolutionVersion,
    amount: Decimal,
) -> PurchaseOrder:
    """A vendor drafts an order for one of its solution versions."""
    solution = solution_version.solution
    if actor.role != Role.VENDOR or not actor.vendor_id:
        raise NotAllowed(_("Seuls les éditeurs établissent des bons de commande."))
    if actor.vendor_id != solution.vendor_id:
        raise InvalidInput(
            "does_not_exist", _("Version de logiciel introuvable."), "solution_version"
        )
    if solution.category_id != scheme.category_id:
        raise InvalidInput(
            "CATEGORY_MISMATCH", _("Ce logiciel ne relève pas de ce dispositif."), "scheme"
        )
    order = PurchaseOrder.objects.create(
        establishment=establishment,
        vendor_id=solution.vendor_id,
        scheme=scheme,
        solution_version=solution_version,
        amount=amount,
    )
    audit_record(
        actor=actor,
        action="purchase_order.create",
        obj=order,
        to_state=order.state,
        changes={
            "amount": [None, str(amount)],
            "establishment": [None, str(establishment.pk)],
            "scheme": [None, scheme.code],
            "solution_version": [None, str(solution_version.pk)],
        },
    )
    return order


@transaction.atomic(durable=True)
def purchase_order_send(
    *, actor: User, order: PurchaseOrder, at: dt.datetime | None = None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_vendor(actor, order)
    require_transition(order, "send")
    order.send(at=at)
    order.save()
    _audit(actor, "purchase_order.send", order, OrderState.DRAFT)
    notify(
        recipients=[u for u in establishment_members(order.establishment_id) if u.signatory],
        event="order_sent",
        obj=order,
    )
    return order


def _active_referencing(scheme_id, solution_version_id) -> Referencing | None:
    return (
        Referencing.objects.filter(scheme_id=scheme_id, solution_version_id=solution_version_id)
        .order_by("-valid_from")
        .first()
    )


def sign_refusals(
    order: PurchaseOrder, at: dt.datetime
) -> tuple[list[ErrorItem], Referencing | None, Dossier | None]:
    """Every reason this order cannot be signed at `at` (empty: it can)."""
    scheme = order.scheme
    refusals: list[ErrorItem] = []
    if at > scheme.order_deadline:
        refusals.append(
            ErrorItem(
                "ORDER_SIGNED_AFTER_DEADLINE",
                _("La date limite de commande du dispositif est passée (heure de Paris)."),
            )
        )
    referencing = _active_referencing(order.scheme_id, order.solution_version_id)
    dossier = None
    if referencing is None or referencing.state != ReferencingState.ACTIVE:
        dossier = (
            Dossier.objects.filter(
                scheme_id=order.scheme_id,
                solution_version_id=order.solution_version_id,
                state__in=DOSSIER_IN_PROGRESS,
            )
            .order_by("-created_at")
            .first()
        )
        limit = at + dt.timedelta(days=scheme.pre_referencing_days)
        if (
            dossier is not None
            and dossier.complete_deposit_at
            and dossier.complete_deposit_at > limit
        ):
            dossier = None
        if dossier is None:
            code = {
                ReferencingState.SUSPENDED: "REFERENCING_SUSPENDED",
                ReferencingState.REVOKED: "REFERENCING_REVOKED",
            }.get(getattr(referencing, "state", None), "SOLUTION_NOT_REFERENCED")
            refusals.append(
                ErrorItem(
                    code, _("Cette version n'est pas référencée (ou plus) sur ce dispositif.")
                )
            )
        referencing = None
    cap = scheme.price_cap
    if scheme.uses_eligible_base:
        eligible = EligibleEstablishment.objects.filter(
            scheme=scheme, establishment=order.establishment.identifier
        ).first()
        if eligible is None:
            refusals.append(
                ErrorItem(
                    "ESTABLISHMENT_NOT_ELIGIBLE",
                    _("L'établissement n'est pas dans la base d'éligibilité du dispositif."),
                )
            )
        elif eligible.max_amount is not None:
            cap = eligible.max_amount
    if order.amount > cap:
        refusals.append(
            ErrorItem(
                "AMOUNT_ABOVE_CAP",
                _("Le montant dépasse le plafond de %(cap)s € HT.") % {"cap": cap},
                "amount",
            )
        )
    duplicate = PurchaseOrder.objects.filter(
        establishment_id=order.establishment_id,
        scheme_id=order.scheme_id,
        state__in=SIGNED_OR_LATER,
    ).exclude(pk=order.pk)
    if duplicate.exists():
        refusals.append(
            ErrorItem(
                "DUPLICATE_ORDER", _("L'établissement a déjà signé une commande sur ce dispositif.")
            )
        )
    for more_refusals in hooks.SIGN_REFUSALS:
        refusals.extend(more_refusals(order, at))
    return refusals, referencing, dossier


@transaction.atomic(durable=True)
def purchase_order_sign(
    *, actor: User, order: PurchaseOrder, at: dt.datetime | None = None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_establishment(actor, order, signatory=True)
    require_transition(order, "sign")
    refusals, referencing, dossier = sign_refusals(order, at)
    if refusals:
        raise Conflict(errors=refusals)
    order.sign(at=at, by=actor, referencing=referencing, dossier=dossier)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as exc:  # a concurrent signature won the race
        raise Conflict(
            "DUPLICATE_ORDER", _("L'établissement a déjà signé une commande sur ce dispositif.")
        ) from exc
    _audit(
        actor,
        "purchase_order.sign",
        order,
        OrderState.SENT,
        changes={
            "referencing": [None, str(referencing.pk) if referencing else None],
            "pre_referencing_dossier": [None, str(dossier.pk) if dossier else None],
        },
    )
    notify(recipients=vendor_members(order.vendor_id), event="order_signed", obj=order)
    return order


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise InvalidInput("required", _("Le motif est obligatoire."), "reason")


@transaction.atomic(durable=True)
def purchase_order_decline(
    *, actor: User, order: PurchaseOrder, reason: str, at=None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_establishment(actor, order, signatory=False)
    require_transition(order, "decline")
    _require_reason(reason)
    order.decline(at=at, reason=reason)
    order.save()
    _audit(actor, "purchase_order.decline", order, OrderState.SENT, reason=reason)
    notify(
        recipients=vendor_members(order.vendor_id),
        event="order_declined",
        obj=order,
        context={"reason": reason},
    )
    return order


def cancel_refusal(order: PurchaseOrder, actor: User) -> ApplicationError | None:
    """Why `actor` may not cancel `order` now (None: they may). The one rule behind the service
    and the `cancel` action offered in the API and the pages.

    The vendor and the establishment (its signatory once signed) cancel a draft, sent or signed
    order — never one on which money was approved (`funded_at`): that one only an ANS admin or a
    payment officer may cancel, from any live state, which opens a recovery of what was paid."""
    if actor.has_role(Role.ANS_ADMIN, Role.PAYMENT_OFFICER):
        if order.state not in CANCELLABLE:
            return _transition_refused(order)
        return None
    is_vendor = actor.role == Role.VENDOR and actor.vendor_id == order.vendor_id
    is_establishment = (
        actor.role == Role.ESTABLISHMENT and actor.establishment_id == order.establishment_id
    )
    if not (is_vendor or is_establishment):
        return NotAllowed(_("Réservé à l'éditeur ou à l'établissement de la commande."))
    if is_establishment and order.state != OrderState.SENT and not actor.signatory:
        return NotAllowed(
            _("Seul un signataire de l'établissement peut faire cela."), code="NOT_SIGNATORY"
        )
    if order.state not in CANCELLABLE_BY_PARTIES:
        return _transition_refused(order)
    if order.funded_at is not None:
        return Conflict(
            "ORDER_FUNDED",
            _(
                "Un paiement a été validé sur ce bon de commande : seul l'ANS ou l'agent payeur "
                "peut l'annuler, ce qui ouvre un ordre de recouvrement."
            ),
        )
    return None


def _transition_refused(order: PurchaseOrder) -> Conflict:
    try:
        require_transition(order, "cancel")
    except Conflict as exc:
        return exc
    return Conflict(
        "TRANSITION_NOT_ALLOWED",
        _("Action « cancel » impossible dans l'état « %(state)s ».")
        % {"state": order.get_state_display()},
    )


def order_ended_hooks(order: PurchaseOrder, actor: Any, at: dt.datetime, reason: str) -> None:
    """Let later apps react to an order cancelled or made void (payments: unpaid requests
    rejected, a recovery opened for what was paid)."""
    for handler in hooks.ORDER_ENDED:
        handler(order, actor, at, reason)


@transaction.atomic(durable=True)
def purchase_order_cancel(
    *, actor: User, order: PurchaseOrder, reason: str, at=None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    refusal = cancel_refusal(order, actor)
    if refusal is not None:
        raise refusal
    _require_reason(reason)
    from_state = order.state
    order.cancel(at=at, reason=reason)
    order.save()
    _audit(actor, "purchase_order.cancel", order, from_state, reason=reason)
    order_ended_hooks(order, actor, at, reason)
    is_vendor = actor.role == Role.VENDOR
    is_establishment = actor.role == Role.ESTABLISHMENT
    recipients = []
    if not is_establishment:
        recipients += establishment_members(order.establishment_id)
    if not is_vendor:
        recipients += vendor_members(order.vendor_id)
    notify(recipients=recipients, event="order_cancelled", obj=order, context={"reason": reason})
    return order


@transaction.atomic(durable=True)
def purchase_order_declare_installation(
    *,
    actor: User,
    order: PurchaseOrder,
    installed_on: dt.date,
    version: SolutionVersion,
    report: Evidence,
    at: dt.datetime | None = None,
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_vendor(actor, order)
    require_transition(order, "declare_installation")
    if version.solution_id != order.solution_version.solution_id:
        raise InvalidInput(
            "invalid",
            _("La version installée doit être une version du logiciel commandé."),
            "version",
        )
    if report.vendor_id != order.vendor_id:
        raise InvalidInput("does_not_exist", _("Procès-verbal introuvable."), "report")
    if installed_on > paris_today(at):
        raise InvalidInput(
            "invalid", _("La date d'installation ne peut pas être dans le futur."), "installed_on"
        )
    if order.signed_at and installed_on < paris_today(order.signed_at):
        raise InvalidInput(
            "invalid", _("L'installation ne peut précéder la signature."), "installed_on"
        )
    order.declare_installation(at=at, version=version, installed_on=installed_on, report=report)
    order.save()
    _audit(
        actor,
        "purchase_order.declare_installation",
        order,
        OrderState.SIGNED,
        changes={
            "installed_on": [None, installed_on.isoformat()],
            "installed_version": [None, str(version.pk)],
            "acceptance_report": [None, report.sha256],
        },
    )
    notify(
        recipients=[u for u in establishment_members(order.establishment_id) if u.signatory],
        event="order_installation_declared",
        obj=order,
    )
    return order


@transaction.atomic(durable=True)
def purchase_order_confirm_installation(
    *, actor: User, order: PurchaseOrder, at=None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_establishment(actor, order, signatory=True)
    require_transition(order, "confirm_installation")
    if at > order.scheme.installation_deadline:
        raise Conflict(
            "INSTALLATION_AFTER_DEADLINE",
            _("La date limite d'installation du dispositif est passée (heure de Paris)."),
        )
    from_state = order.state
    order.confirm_installation(at=at, by=actor)
    order.save()
    Reservation.objects.filter(order=order, lifted_at__isnull=True).update(lifted_at=at)
    _audit(actor, "purchase_order.confirm_installation", order, from_state)
    notify(recipients=vendor_members(order.vendor_id), event="order_installed", obj=order)
    return order


@transaction.atomic(durable=True)
def purchase_order_reserve(
    *, actor: User, order: PurchaseOrder, reservations: Sequence[str], at=None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_establishment(actor, order, signatory=True)
    require_transition(order, "reserve")
    texts = [t.strip() for t in reservations if t and t.strip()]
    if not texts:
        raise InvalidInput("required", _("Indiquez au moins une réserve."), "reservations")
    order.reserve()
    order.save()
    Reservation.objects.bulk_create(
        [Reservation(order=order, text=t, raised_by=actor) for t in texts]
    )
    _audit(
        actor,
        "purchase_order.reserve",
        order,
        OrderState.INSTALLATION_DECLARED,
        changes={"reservations": [None, texts]},
    )
    notify(
        recipients=vendor_members(order.vendor_id),
        event="order_reserved",
        obj=order,
        context={"reservations": texts},
    )
    return order


@transaction.atomic(durable=True)
def purchase_order_lift_reservations(
    *, actor: User, order: PurchaseOrder, at=None
) -> PurchaseOrder:
    at = _now(at)
    order = _lock(order)
    _require_vendor(actor, order)
    require_transition(order, "lift_reservations")
    order.lift_reservations()
    order.declared_at = at  # the tacit-acceptance delay starts again
    order.save()
    lifted = Reservation.objects.filter(order=order, lifted_at__isnull=True).update(lifted_at=at)
    _audit(
        actor,
        "purchase_order.lift_reservations",
        order,
        OrderState.RESERVED,
        changes={"lifted": [0, lifted]},
    )
    notify(
        recipients=[u for u in establishment_members(order.establishment_id) if u.signatory],
        event="order_reservations_lifted",
        obj=order,
    )
    return order
