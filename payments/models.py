"""Payment requests, eligibility results and payment batches (domain.md §4–§5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.models import BaseModel
from orders.models import Establishment, PurchaseOrder
from sons.models import Scheme
from vendors.models import Vendor


class PaymentKind(models.TextChoices):
    ADVANCE = "advance", _("Avance")
    BALANCE = "balance", _("Solde")


class PaymentState(models.TextChoices):
    SUBMITTED = "submitted", _("Déposée")
    APPROVED = "approved", _("Validée")
    REJECTED = "rejected", _("Rejetée")
    PAID = "paid", _("Payée")


#: requests that hold (or will hold) money: their sum never exceeds the order's amount
LIVE_REQUEST_STATES = [PaymentState.SUBMITTED, PaymentState.APPROVED, PaymentState.PAID]
#: requests on which money was approved: the order is funded
FUNDED_REQUEST_STATES = [PaymentState.APPROVED, PaymentState.PAID]


class PaymentBatch(BaseModel):
    """A set of approved requests exported together for payment (CSV and SEPA XML)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(_("référence"), max_length=35, unique=True)
    total = models.DecimalField(_("total (€)"), max_digits=14, decimal_places=2)
    count = models.PositiveIntegerField(_("nombre de demandes"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("lot de paiement")
        verbose_name_plural = _("lots de paiement")

    def __str__(self) -> str:
        return self.reference


class PaymentRequest(BaseModel):
    order = models.ForeignKey(
        PurchaseOrder,
        verbose_name=_("bon de commande"),
        on_delete=models.PROTECT,
        related_name="payment_requests",
    )
    kind = models.CharField(_("nature"), max_length=10, choices=PaymentKind.choices)
    amount = models.DecimalField(_("montant (€ HT)"), max_digits=12, decimal_places=2)
    state = FSMField(
        _("état"),
        max_length=12,
        choices=PaymentState.choices,
        default=PaymentState.SUBMITTED,
        protected=True,
        db_index=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("validée le"), null=True, blank=True)
    rejected_reason = models.TextField(_("motif du rejet"), blank=True, default="")
    rejection_codes = models.JSONField(_("codes de rejet"), default=list, blank=True)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("payée le"), null=True, blank=True)
    payment_reference = models.CharField(
        _("référence du virement"), max_length=100, blank=True, default=""
    )
    batch = models.ForeignKey(
        PaymentBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("demande de paiement")
        verbose_name_plural = _("demandes de paiement")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(state__in=LIVE_REQUEST_STATES),
                name="payment_request_one_live_per_order_and_kind",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_request_amount_positive"
            ),
            # (the sum of an order's live requests never exceeds its amount: a trigger,
            # migration 0004, since a check constraint sees one row only)
        ]
        indexes = [models.Index(fields=["state", "kind"], name="payment_request_state_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.order_id}"

    @transition(field=state, source=PaymentState.SUBMITTED, target=PaymentState.APPROVED)
    def approve(self, *, at, by) -> None:
        self.approved_at = at
        self.approved_by = by
        self.decided_at = at

    @transition(field=state, source=PaymentState.SUBMITTED, target=PaymentState.REJECTED)
    def reject(self, *, at, reason: str, codes: list[str]) -> None:
        self.decided_at = at
        self.rejected_reason = reason
        self.rejection_codes = codes

    @transition(
        field=state,
        source=[PaymentState.SUBMITTED, PaymentState.APPROVED],
        target=PaymentState.REJECTED,
    )
    def cancel_with_order(self, *, at, reason: str) -> None:
        """The order was cancelled or made void: what was not paid will never be."""
        self.decided_at = at
        self.rejected_reason = reason
        self.rejection_codes = ["ORDER_NOT_SIGNED"]

    @transition(field=state, source=PaymentState.APPROVED, target=PaymentState.PAID)
    def mark_paid(self, *, at, by, reference: str) -> None:
        self.paid_at = at
        self.paid_by = by
        self.payment_reference = reference


class IdempotencyRecord(models.Model):
    """`Idempotency-Key` of a payment-request creation: same key and body, same answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    payment_request = models.ForeignKey(PaymentRequest, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class EligibilityResult(models.Model):
    """The last batch check of one order: reason codes per kind (empty: eligible).

    Derived data, rewritten by every run of the batch: no database foreign keys (decision 0010:
    checking a million keys at the first fill cost more than computing the reasons); deleting
    an order or a scheme through the ORM still deletes its result, and a run drops the results
    of its scheme it did not write. `signed_at` is the order's, copied by the batch so that the
    payment queue is read, in signing order, from this table's own indexes."""

    order = models.OneToOneField(
        PurchaseOrder,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="eligibility",
        db_constraint=False,
    )
    scheme = models.ForeignKey(
        Scheme, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    advance_reasons = models.CharField(max_length=500, blank=True, default="")
    balance_reasons = models.CharField(max_length=500, blank=True, default="")
    checked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("résultat d'éligibilité")
        verbose_name_plural = _("résultats d'éligibilité")
        # the payment queue (payments.selectors.payment_queue): a scheme's results in signing
        # order; the eligible ones (reasons = '') and the distinct lists of reasons (few values
        # per scheme: deduplicated, tiny indexes, cheap to fill)
        indexes = [
            models.Index(fields=["scheme", "signed_at", "order"], name="eligibility_queue_idx"),
            models.Index(fields=["scheme", "balance_reasons"], name="eligibility_balance_idx"),
            models.Index(fields=["scheme", "advance_reasons"], name="eligibility_advance_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.advance_reasons} / {self.balance_reasons}"


class EligibilityRun(BaseModel):
    """One run of the batch check over a scheme: when, how many, how long, progress."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="eligibility_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    orders = models.PositiveIntegerField(default=0)
    eligible_advance = models.PositiveIntegerField(default=0)
    eligible_balance = models.PositiveIntegerField(default=0)
    triggered_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("contrôle d'éligibilité")
        verbose_name_plural = _("contrôles d'éligibilité")

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.started_at:%Y-%m-%d %H:%M}"


class RecoveryState(models.TextChoices):
    OPEN = "open", _("À recouvrer")
    RECOVERED = "recovered", _("Recouvré")
    WRITTEN_OFF = "written_off", _("Admis en non-valeur")


class Recovery(BaseModel):
    """An *ordre de recouvrement*: what was paid on an order cancelled (or made void) after
    money was paid on it, to be paid back by the vendor. While it is open, that establishment
    cannot be funded again for that scheme (`RECOVERY_OPEN`); written off, never again."""

    purchase_order = models.OneToOneField(
        PurchaseOrder,
        verbose_name=_("bon de commande"),
        on_delete=models.PROTECT,
        related_name="recovery",
    )
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("éditeur"), on_delete=models.PROTECT, related_name="recoveries"
    )
    # copied from the order: the eligibility statement probes (establishment, scheme, state)
    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="+")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("montant à recouvrer (€)"), max_digits=12, decimal_places=2)
    due_on = models.DateField(_("à payer avant le"))
    state = FSMField(
        _("état"),
        max_length=12,
        choices=RecoveryState.choices,
        default=RecoveryState.OPEN,
        protected=True,
    )
    reason = models.TextField(_("motif de l'annulation"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recovered_at = models.DateTimeField(_("recouvré le"), null=True, blank=True)
    recovered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_reference = models.CharField(
        _("référence du remboursement"), max_length=100, blank=True, default=""
    )
    written_off_at = models.DateTimeField(_("admis en non-valeur le"), null=True, blank=True)
    written_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    write_off_reason = models.TextField(_("motif de l'admission en non-valeur"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ordre de recouvrement")
        verbose_name_plural = _("ordres de recouvrement")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["establishment", "scheme", "state"], name="recovery_funding_idx"),
            models.Index(fields=["vendor", "state"], name="recovery_vendor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_state_display()} · {self.amount} €"

    @transition(field=state, source=RecoveryState.OPEN, target=RecoveryState.RECOVERED)
    def mark_recovered(self, *, at, by, reference: str) -> None:
        self.recovered_at = at
        self.recovered_by = by
        self.payment_reference = reference

    @transition(field=state, source=RecoveryState.OPEN, target=RecoveryState.WRITTEN_OFF)
    def write_off(self, *, at, by, reason: str) -> None:
        self.written_off_at = at
        self.written_off_by = by
        self.write_off_reason = reason
