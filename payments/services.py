"""Writes of the payments app: enrolment, payment requests, decisions, batches, eligibility runs.

Payment requests are created only when the order is eligible for that kind at that moment; the
order row is locked first, so concurrent or repeated calls create at most one request per kind
(the partial unique index is the last guard)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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
from orders.models import PurchaseOrder
from payments import eligibility
from payments.models import (
    LIVE_REQUEST_STATES,
    IdempotencyRecord,
    PaymentBatch,
    PaymentKind,
    PaymentRequest,
    PaymentState,
)
from referencing_app.models import Referencing, ReferencingState
from vendors.models import Vendor

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
    vendor.save(update_fields=["enrolled_at", "updated_at"])
    audit_record(
        actor=actor,
        action="vendor.enrol",
        obj=vendor,
        changes={"enrolled_at": [None, at.isoformat()]},
    )
    notify(recipients=vendor_members(vendor.pk), event="vendor_enrolled", obj=vendor)
    return vendor


# --- payment requests ----------------------------------------------------------------------------------
def request_amount(order: PurchaseOrder, kind: str) -> Decimal:
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
    order = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("scheme")
        .get(pk=order.pk)
    )
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
    return (
        PaymentRequest.objects.select_for_update(of=("self",))
        .select_related("order__scheme")
        .get(pk=request.pk)
    )


@transaction.atomic(durable=True)
def payment_request_approve(*, actor: User, request: PaymentRequest, at=None) -> PaymentRequest:
    """Approval re-checks eligibility (a referencing may have been revoked since)."""
    at = _now(at)
    _require_officer(actor)
    request = _lock_request(request)
    require_transition(request, "approve")
    reasons = [
        code
        for code in eligibility.order_reasons(request.order_id, now=at).for_kind(request.kind)
        if code
        not in ("ALREADY_REQUESTED", "REQUEST_AFTER_DEADLINE")  # the request itself, filed in time
    ]
    if reasons:
        raise Conflict(errors=_reason_errors(reasons))
    request.approve(at=at, by=actor)
    request.save()
    audit_record(
        actor=actor,
        action="payment_request.approve",
        obj=request,
        from_state=PaymentState.SUBMITTED,
        to_state=request.state,
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


@transaction.atomic(durable=True)
def payment_request_mark_paid(
    *, actor: User, request: PaymentRequest, payment_reference: str, at=None
) -> PaymentRequest:
    at = _now(at)
    _require_officer(actor)
    request = _lock_request(request)
    require_transition(request, "mark_paid")
    if settings.PAYMENT_FOUR_EYES and request.approved_by_id == actor.pk:
        raise NotAllowed(
            _("L'agent qui a validé la demande ne peut pas la payer (quatre yeux)."),
            code="FOUR_EYES",
        )
    if not payment_reference.strip():
        raise InvalidInput("required", _("Indiquez la référence du virement."), "payment_reference")
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


@transaction.atomic(durable=True)
def payment_batch_create(*, actor: User, at=None) -> PaymentBatch:
    """Gather every approved request not yet in a batch, for export (CSV and SEPA XML)."""
    at = _now(at)
    _require_officer(actor)
    pending = PaymentRequest.objects.select_for_update().filter(
        state=PaymentState.APPROVED, batch__isnull=True
    )
    ids = list(pending.values_list("id", flat=True))
    if not ids:
        raise Conflict("NOTHING_TO_PAY", _("Aucune demande validée en attente de paiement."))
    from django.db.models import Sum

    total = PaymentRequest.objects.filter(pk__in=ids).aggregate(total=Sum("amount"))["total"]
    batch = PaymentBatch.objects.create(
        created_by=actor,
        reference=f"SONS-{timezone.localtime(at):%Y%m%d-%H%M%S}",
        total=total,
        count=len(ids),
    )
    PaymentRequest.objects.filter(pk__in=ids).update(batch=batch)
    audit_record(
        actor=actor,
        action="payment_batch.create",
        obj=batch,
        changes={"count": [None, len(ids)], "total": [None, str(total)]},
    )
    return batch


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
