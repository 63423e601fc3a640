"""Writes of the payments app: enrolment, payment requests, decisions, batches, eligibility runs.

Payment requests are created only when the order is eligible for that kind at that moment; the
order row is locked first, so concurrent or repeated calls create at most one request per kind
(the partial unique index is the last guard)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.selectors import users_with_role, vendor_members
from core.audit import audit_record
from core.errors import ApplicationError, Conflict, ErrorItem, InvalidInput, NotAllowed
from core.fsm import require_transition
from core.identifiers import validate_iban
from core.notifications import notify
from core.timeutils import paris_today
from orders.models import PurchaseOrder
from payments import eligibility
from payments.models import (
    LIVE_REQUEST_STATES,
    IdempotencyRecord,
    PaymentBatch,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    Recovery,
    RecoveryState,
)
from referencing_app.models import Referencing, ReferencingState
from vendors.models import Vendor
from vendors.services import mask_iban

CENT = Decimal("0.01")


def _now(at):
    return at or timezone.now()


def _require_officer(actor: User) -> None:
    if not actor.has_role(Role.PAYMENT_OFFICER):
        raise NotAllowed(_("Réservé aux agents payeurs (ASP)."))


def _reason_errors(codes: list[str]) -> list[ErrorItem]:
    return [ErrorItem(code, eligibility.REASON_LABELS[code]) for code in codes]


# --- enrolment -------------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def vendor_enrol(*, actor: User, vendor: Vendor, at: dt.datetime | None = None) -> Vendor:
    """Register the vendor with the paying agency: a valid IBAN and an active referencing."""
    at = _now(at)
    _require_officer(actor)
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if vendor.enrolled_at is not None:
        raise Conflict("ALREADY_ENROLLED", _("Cet éditeur est déjà enrôlé."))
    errors = []
    try:
        validate_iban(vendor.iban)
    except Exception:
        errors.append(
            ErrorItem("IBAN_INVALID", _("L'IBAN de l'éditeur est absent ou invalide."), "iban")
        )
    if not Referencing.objects.filter(vendor=vendor, state=ReferencingState.ACTIVE).exists():
        errors.append(
            ErrorItem("SOLUTION_NOT_REFERENCED", _("L'éditeur n'a aucun référencement actif."))
        )
    if errors:
        raise Conflict(errors=errors)
    vendor.enrolled_at = at
    vendor.enrolled_iban = vendor.iban
    vendor.save(update_fields=["enrolled_at", "enrolled_iban", "updated_at"])
    audit_record(
        actor=actor,
        action="vendor.enrol",
        obj=vendor,
        changes={
            "enrolled_at": [None, at.isoformat()],
            "enrolled_iban": [None, mask_iban(vendor.iban)],
        },
    )
    notify(recipients=vendor_members(vendor.pk), event="vendor_enrolled", obj=vendor)
    return vendor


# --- payment requests ----------------------------------------------------------------------------------
def request_amount(order: PurchaseOrder, kind: str) -> Decimal:
    """domain.md §4: advance = amount × advance rate; balance = amount − the advance requested
    (live), if any — so the live requests of an order never add up to more than its amount."""
    advance = (order.amount * order.scheme.advance_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if kind == PaymentKind.ADVANCE:
        return advance
    requested_advance = (
        PaymentRequest.objects.filter(
            order=order, kind=PaymentKind.ADVANCE, state__in=LIVE_REQUEST_STATES
        )
        .values_list("amount", flat=True)
        .first()
    )
    return order.amount - (requested_advance or Decimal("0"))


def _body_hash(order_id, kind: str) -> str:
    return hashlib.sha256(
        json.dumps({"purchase_order": str(order_id), "kind": kind}).encode()
    ).hexdigest()


def _lock_order(order_id) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("scheme")
        .get(pk=order_id)
    )


@transaction.atomic(durable=True)
def payment_request_create(
    *,
    actor: User,
    order: PurchaseOrder,
    kind: str,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> tuple[PaymentRequest, bool]:
    """Returns (request, created). Refused with the reason codes when not eligible now."""
    at = _now(at)
    if not (actor.role == Role.VENDOR and actor.vendor_id == order.vendor_id):
        raise NotAllowed(_("Seul l'éditeur de la commande demande son paiement."))
    order = _lock_order(order.pk)
    if idempotency_key:
        record = (
            IdempotencyRecord.objects.filter(user=actor, key=idempotency_key)
            .select_related("payment_request")
            .first()
        )
        if record is not None:
            if record.body_hash != _body_hash(order.pk, kind):
                raise ApplicationError(
                    "IDEMPOTENCY_KEY_REUSED",
                    _("Cette clé d'idempotence a déjà servi pour une autre demande."),
                )
            return record.payment_request, False
    reasons = eligibility.order_reasons(order.pk, now=at).for_kind(kind)
    if reasons:
        raise Conflict(errors=_reason_errors(reasons))
    try:
        with transaction.atomic():
            request = PaymentRequest.objects.create(
                order=order, kind=kind, amount=request_amount(order, kind), requested_by=actor
            )
    except IntegrityError as exc:
        raise Conflict(errors=_reason_errors(["ALREADY_REQUESTED"])) from exc
    if idempotency_key:
        IdempotencyRecord.objects.create(
            user=actor,
            key=idempotency_key,
            body_hash=_body_hash(order.pk, kind),
            payment_request=request,
        )
    audit_record(
        actor=actor,
        action=f"payment_request.create.{kind}",
        obj=request,
        to_state=request.state,
        changes={"amount": [None, str(request.amount)], "order": [None, str(order.pk)]},
    )
    notify(
        recipients=users_with_role(Role.PAYMENT_OFFICER),
        event="payment_request_submitted",
        obj=request,
    )
    return request, True


def _lock_request(request: PaymentRequest) -> PaymentRequest:
    """The order first, then the request: every writer of an order's requests (create, approve,
    pay, batch, the order's cancellation) locks in this order, so they queue and never
    deadlock."""
    order_id = PaymentRequest.objects.filter(pk=request.pk).values_list("order_id", flat=True)
    _lock_order(order_id.get())
    return (
        PaymentRequest.objects.select_for_update(of=("self",))
        .select_related("order__scheme", "order__vendor", "batch")
        .get(pk=request.pk)
    )


#: codes that do not stop a request already filed from being approved or paid: the request
#: itself, filed before its deadline
FILED_REQUEST_CODES = ("ALREADY_REQUESTED", "REQUEST_AFTER_DEADLINE")


def payable_reasons(reasons: list[str]) -> list[str]:
    """Of an order's reasons for a kind, those that forbid approving or paying a request of
    that kind already filed: the order must still be eligible at that instant (not cancelled,
    void or lapsed, referencing active, establishment not funded elsewhere, vendor enrolled
    with the IBAN verified then…)."""
    return [code for code in reasons if code not in FILED_REQUEST_CODES]


def request_payable_reasons(request: PaymentRequest, at: dt.datetime) -> list[str]:
    return payable_reasons(
        eligibility.order_reasons(request.order_id, now=at).for_kind(request.kind)
    )


@transaction.atomic(durable=True)
def payment_request_approve(*, actor: User, request: PaymentRequest, at=None) -> PaymentRequest:
    """Approval re-checks eligibility (a referencing may have been revoked since). From then on
    the order is funded: only an ANS admin or a payment officer may cancel it."""
    at = _now(at)
    _require_officer(actor)
    request = _lock_request(request)
    require_transition(request, "approve")
    reasons = request_payable_reasons(request, at)
    if reasons:
        raise Conflict(errors=_reason_errors(reasons))
    request.approve(at=at, by=actor)
    request.save()
    order = request.order
    changes = {}
    if order.funded_at is None:
        order.funded_at = at
        order.save(update_fields=["funded_at", "updated_at"])
        changes["order_funded_at"] = [None, at.isoformat()]
    audit_record(
        actor=actor,
        action="payment_request.approve",
        obj=request,
        from_state=PaymentState.SUBMITTED,
        to_state=request.state,
        changes=changes,
    )
    notify(
        recipients=vendor_members(request.order.vendor_id),
        event="payment_request_approved",
        obj=request,
    )
    return request


@transaction.atomic(durable=True)
def payment_request_reject(
    *, actor: User, request: PaymentRequest, reason: str, at=None
) -> PaymentRequest:
    at = _now(at)
    _require_officer(actor)
    request = _lock_request(request)
    require_transition(request, "reject")
    if not reason.strip():
        raise InvalidInput("required", _("Le motif est obligatoire."), "reason")
    codes = eligibility.order_reasons(request.order_id, now=at).for_kind(request.kind)
    request.reject(at=at, reason=reason, codes=[c for c in codes if c != "ALREADY_REQUESTED"])
    request.save()
    audit_record(
        actor=actor,
        action="payment_request.reject",
        obj=request,
        from_state=PaymentState.SUBMITTED,
        to_state=request.state,
        reason=reason,
    )
    notify(
        recipients=vendor_members(request.order.vendor_id),
        event="payment_request_rejected",
        obj=request,
        context={"reason": reason},
    )
    return request


def _four_eyes_refusal(actor: User, request: PaymentRequest) -> NotAllowed | None:
    """Who may not pay a request: the officer who approved it, and the creator of its batch."""
    if not settings.PAYMENT_FOUR_EYES:
        return None
    if request.approved_by_id == actor.pk:
        return NotAllowed(
            _("L'agent qui a validé la demande ne peut pas la payer (quatre yeux)."),
            code="FOUR_EYES",
        )
    if request.batch_id and request.batch.created_by_id == actor.pk:
        return NotAllowed(
            _(
                "L'agent qui a constitué le lot ne peut pas en marquer les demandes payées (quatre yeux)."
            ),
            code="FOUR_EYES",
        )
    return None


def mark_paid_refusal(actor: User, request: PaymentRequest) -> ApplicationError | None:
    """Why `actor` may not mark `request` paid, as far as roles and four-eyes go (None: they
    may; the state and the eligibility are checked by the service at that instant)."""
    if not actor.has_role(Role.PAYMENT_OFFICER):
        return NotAllowed(_("Réservé aux agents payeurs (ASP)."))
    return _four_eyes_refusal(actor, request)


def payment_request_actions(request: PaymentRequest, user: User) -> list[str]:
    """What `user` may do with the request now, by the services' own rules (the API's
    `actions`, the pages' buttons)."""
    if not user.has_role(Role.PAYMENT_OFFICER):
        return []
    if request.state == PaymentState.SUBMITTED:
        return ["approve", "reject"]
    if request.state == PaymentState.APPROVED and mark_paid_refusal(user, request) is None:
        return ["mark-paid"]
    return []


@transaction.atomic(durable=True)
def payment_request_mark_paid(
    *, actor: User, request: PaymentRequest, payment_reference: str, at=None
) -> PaymentRequest:
    """Paid only if the request is still payable at this instant (order eligible, vendor
    enrolled with the IBAN verified then), and by another officer than the one who approved it
    or put it in its batch."""
    at = _now(at)
    _require_officer(actor)
    request = _lock_request(request)
    require_transition(request, "mark_paid")
    refusal = _four_eyes_refusal(actor, request)
    if refusal is not None:
        raise refusal
    if not payment_reference.strip():
        raise InvalidInput("required", _("Indiquez la référence du virement."), "payment_reference")
    reasons = request_payable_reasons(request, at)
    if reasons:
        raise Conflict(errors=_reason_errors(reasons))
    request.mark_paid(at=at, by=actor, reference=payment_reference.strip())
    request.save()
    audit_record(
        actor=actor,
        action="payment_request.mark_paid",
        obj=request,
        from_state=PaymentState.APPROVED,
        to_state=request.state,
        changes={"payment_reference": [None, request.payment_reference]},
    )
    notify(
        recipients=vendor_members(request.order.vendor_id),
        event="payment_request_paid",
        obj=request,
    )
    return request


def payable_requests(requests: list[PaymentRequest], at: dt.datetime) -> dict:
    """{request id: the codes that forbid paying it now} for approved requests (one statement
    for all their orders; an empty list: payable)."""
    reasons = eligibility.orders_reasons({r.order_id for r in requests}, now=at)
    return {r.pk: payable_reasons(reasons[r.order_id].for_kind(r.kind)) for r in requests}


@transaction.atomic(durable=True)
def payment_batch_create(*, actor: User, at=None) -> PaymentBatch:
    """Gather the approved requests not yet in a batch that are payable now — their order still
    eligible, their vendor enrolled with the IBAN verified then — and not approved by the
    batch's creator (four-eyes), for export (CSV and SEPA XML)."""
    at = _now(at)
    _require_officer(actor)
    waiting = PaymentRequest.objects.filter(state=PaymentState.APPROVED, batch__isnull=True)
    # orders first, then requests (see _lock_request), each in a stable order
    list(
        PurchaseOrder.objects.select_for_update(of=("self",))
        .filter(pk__in=waiting.values("order_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    candidates = list(waiting.select_for_update(of=("self",)).order_by("pk"))
    if settings.PAYMENT_FOUR_EYES:
        candidates = [r for r in candidates if r.approved_by_id != actor.pk]
    refusals = payable_requests(candidates, at)
    chosen = [r for r in candidates if not refusals[r.pk]]
    if not chosen:
        raise Conflict(
            "NOTHING_TO_PAY",
            _(
                "Aucune demande validée payable par vous en attente : les demandes que vous avez "
                "validées vont dans le lot d'un autre agent (quatre yeux), celles des éditeurs "
                "à ré-enrôler attendent."
            ),
        )
    total = sum((r.amount for r in chosen), Decimal("0"))
    batch_id = uuid.uuid4()
    batch = PaymentBatch.objects.create(
        id=batch_id,
        created_by=actor,
        # unique even for two batches in the same second; ≤ 35 characters (a SEPA message id)
        reference=f"SONS-{timezone.localtime(at):%Y%m%d-%H%M%S}-{batch_id.hex[:8].upper()}",
        total=total,
        count=len(chosen),
    )
    PaymentRequest.objects.filter(pk__in=[r.pk for r in chosen]).update(batch=batch)
    audit_record(
        actor=actor,
        action="payment_batch.create",
        obj=batch,
        changes={
            "count": [None, len(chosen)],
            "total": [None, str(total)],
            "requests": [None, sorted(str(r.pk) for r in chosen)],
        },
    )
    return batch


def batch_payable_requests(batch: PaymentBatch, at: dt.datetime | None = None) -> list:
    """The requests of a batch that its export carries now: approved (never one already paid:
    a second download of the file never pays twice) and still payable at this instant."""
    at = _now(at)
    requests = list(
        PaymentRequest.objects.filter(batch=batch, state=PaymentState.APPROVED)
        .select_related("order__scheme", "order__establishment", "order__vendor")
        .order_by("created_at", "id")
    )
    refusals = payable_requests(requests, at)
    return [r for r in requests if not refusals[r.pk]]


# --- cancelled orders and recoveries ------------------------------------------------------------------
def _recovery_due_on(at: dt.datetime) -> dt.date:
    return paris_today(at) + dt.timedelta(days=settings.RECOVERY_DUE_DAYS)


def order_ended(order: PurchaseOrder, actor, at: dt.datetime, reason: str) -> None:
    """An order was cancelled or made void (orders.hooks.ORDER_ENDED, inside that transaction,
    the order row locked): its unpaid live requests are rejected, and what was paid is to be
    recovered from the vendor (an open recovery)."""
    live = list(
        PaymentRequest.objects.select_for_update(of=("self",))
        .filter(order=order, state__in=LIVE_REQUEST_STATES)
        .order_by("pk")
    )
    paid = Decimal("0")
    for request in live:
        if request.state == PaymentState.PAID:
            paid += request.amount
            continue
        from_state = request.state
        request.cancel_with_order(at=at, reason=_("Bon de commande annulé : %(r)s") % {"r": reason})
        request.save()
        audit_record(
            actor=actor,
            action="payment_request.reject",
            obj=request,
            from_state=from_state,
            to_state=request.state,
            reason=request.rejected_reason,
        )
        notify(
            recipients=vendor_members(order.vendor_id),
            event="payment_request_rejected",
            obj=request,
            context={"reason": request.rejected_reason},
        )
    if paid:
        recovery = Recovery.objects.create(
            purchase_order=order,
            vendor_id=order.vendor_id,
            establishment_id=order.establishment_id,
            scheme_id=order.scheme_id,
            amount=paid,
            due_on=_recovery_due_on(at),
            reason=reason,
            opened_by=actor if isinstance(actor, User) else None,
        )
        audit_record(
            actor=actor,
            action="recovery.open",
            obj=recovery,
            to_state=recovery.state,
            reason=reason,
            changes={
                "amount": [None, str(paid)],
                "order": [None, str(order.pk)],
                "due_on": [None, recovery.due_on.isoformat()],
            },
        )
        notify(
            recipients=[*vendor_members(order.vendor_id), *users_with_role(Role.PAYMENT_OFFICER)],
            event="recovery_opened",
            obj=recovery,
        )


def funding_refusals(order: PurchaseOrder, at: dt.datetime) -> list[ErrorItem]:
    """orders.hooks.SIGN_REFUSALS: an earlier order of that establishment for that scheme was
    paid and cancelled — signed again only once recovered (the eligibility statement's
    RECOVERY_OPEN and DUPLICATE_ORDER say the same)."""
    states = set(
        Recovery.objects.filter(
            establishment_id=order.establishment_id,
            scheme_id=order.scheme_id,
            state__in=[RecoveryState.OPEN, RecoveryState.WRITTEN_OFF],
        )
        .exclude(purchase_order_id=order.pk)
        .values_list("state", flat=True)
    )
    refusals = []
    if RecoveryState.WRITTEN_OFF in states:
        refusals.append(
            ErrorItem(
                "DUPLICATE_ORDER",
                _(
                    "L'établissement a déjà été financé sur ce dispositif (recouvrement admis en "
                    "non-valeur)."
                ),
            )
        )
    if RecoveryState.OPEN in states:
        refusals.append(
            ErrorItem(
                "RECOVERY_OPEN",
                _(
                    "Un recouvrement est en cours sur un bon de commande financé de cet "
                    "établissement pour ce dispositif."
                ),
            )
        )
    return refusals


def _lock_recovery(recovery: Recovery) -> Recovery:
    return (
        Recovery.objects.select_for_update(of=("self",))
        .select_related("scheme", "establishment", "vendor")
        .get(pk=recovery.pk)
    )


def recovery_write_off_refusal(actor: User, recovery: Recovery) -> NotAllowed | None:
    if not actor.has_role(Role.PAYMENT_OFFICER):
        return NotAllowed(_("Réservé aux agents payeurs (ASP)."))
    if settings.PAYMENT_FOUR_EYES and recovery.opened_by_id == actor.pk:
        return NotAllowed(
            _(
                "L'agent qui a ouvert le recouvrement ne peut pas l'admettre en non-valeur "
                "(quatre yeux)."
            ),
            code="FOUR_EYES",
        )
    return None


def recovery_actions(recovery: Recovery, user: User) -> list[str]:
    """What `user` may do with the recovery now (the API's `actions`, the pages' buttons)."""
    if recovery.state != RecoveryState.OPEN or not user.has_role(Role.PAYMENT_OFFICER):
        return []
    actions = ["mark-recovered"]
    if recovery_write_off_refusal(user, recovery) is None:
        actions.append("write-off")
    return actions


@transaction.atomic(durable=True)
def recovery_mark_recovered(
    *, actor: User, recovery: Recovery, payment_reference: str, at=None
) -> Recovery:
    """The vendor paid back: the establishment may be funded again for that scheme."""
    at = _now(at)
    _require_officer(actor)
    recovery = _lock_recovery(recovery)
    require_transition(recovery, "mark_recovered")
    reference = (payment_reference or "").strip()
    if not reference:
        raise InvalidInput(
            "required", _("Indiquez la référence du remboursement."), "payment_reference"
        )
    recovery.mark_recovered(at=at, by=actor, reference=reference)
    recovery.save()
    audit_record(
        actor=actor,
        action="recovery.mark_recovered",
        obj=recovery,
        from_state=RecoveryState.OPEN,
        to_state=recovery.state,
        changes={"payment_reference": [None, reference]},
    )
    notify(recipients=vendor_members(recovery.vendor_id), event="recovery_recovered", obj=recovery)
    return recovery


@transaction.atomic(durable=True)
def recovery_write_off(*, actor: User, recovery: Recovery, reason: str, at=None) -> Recovery:
    """Give up recovering (by another officer than the one who opened it): that establishment
    is never funded again for that scheme."""
    at = _now(at)
    recovery = _lock_recovery(recovery)
    refusal = recovery_write_off_refusal(actor, recovery)
    if refusal is not None:
        raise refusal
    require_transition(recovery, "write_off")
    if not (reason or "").strip():
        raise InvalidInput("required", _("Le motif est obligatoire."), "reason")
    recovery.write_off(at=at, by=actor, reason=reason.strip())
    recovery.save()
    audit_record(
        actor=actor,
        action="recovery.write_off",
        obj=recovery,
        from_state=RecoveryState.OPEN,
        to_state=recovery.state,
        reason=recovery.write_off_reason,
    )
    notify(
        recipients=[*vendor_members(recovery.vendor_id), *users_with_role(Role.PAYMENT_OFFICER)],
        event="recovery_written_off",
        obj=recovery,
    )
    return recovery


def eligibility_check_launch(*, actor: User, scheme_codes=None, triggered_by: str = ""):
    """Record a run of the eligibility batch as a job and return it at once: a worker runs it
    (nudged now if the broker answers, else picked up within a minute). Unknown schemes are
    refused here, before anything is recorded."""
    from core.outbox import job_enqueue
    from payments.jobs import ELIGIBILITY_CHECK
    from sons.models import Scheme

    if not actor.has_role(Role.ANS_ADMIN, Role.PAYMENT_OFFICER):
        raise NotAllowed(_("Réservé à l'ANS et aux agents payeurs (ASP)."))
    codes = sorted(set(scheme_codes or []))
    known = set(Scheme.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InvalidInput(
            "does_not_exist",
            _("Dispositif(s) inconnu(s) : %(codes)s.") % {"codes": ", ".join(unknown)},
            "schemes",
        )
    return job_enqueue(
        kind=ELIGIBILITY_CHECK,
        actor=actor,
        params={"schemes": codes, "triggered_by": triggered_by or actor.get_username()},
    )


def eligibility_check_schemes(
    *, scheme_codes=None, triggered_by: str = "système", progress=None
) -> list:
    """Run the eligibility batch over the given schemes (all when none), one at a time, locked so
    that two runs never overlap."""
    from core.locks import job_lock
    from sons.models import Scheme

    schemes = Scheme.objects.order_by("code")
    if scheme_codes:
        unknown = sorted(
            set(scheme_codes)
            - set(schemes.filter(code__in=scheme_codes).values_list("code", flat=True))
        )
        if unknown:
            raise InvalidInput(
                "does_not_exist", f"Dispositif(s) inconnu(s) : {', '.join(unknown)}.", "schemes"
            )
        schemes = schemes.filter(code__in=scheme_codes)
    results = []
    for scheme in schemes:
        with job_lock(f"eligibility:{scheme.code}") as acquired:
            if not acquired:
                continue

            def chunk_progress(done, total, code=scheme.code):
                if progress:
                    progress(code, done, total)

            results.append(
                eligibility.run_scheme_batch(
                    scheme, triggered_by=triggered_by, progress=chunk_progress
                )
            )
    eligibility.vacuum_results(sum(r.orders for r in results))
    return results
