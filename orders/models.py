"""Establishments, purchase orders and their installation (domain.md §4)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core import identifiers
from core.models import BaseModel
from referencing_app.models import Dossier, Evidence, Referencing
from sons.models import Scheme
from vendors.models import SolutionVersion, Vendor


class EstablishmentKind(models.TextChoices):
    HOSPITAL = "hospital", _("Établissement de santé")
    PRACTICE = "practice", _("Cabinet médical")
    HEALTH_CENTRE = "health_centre", _("Centre ou maison de santé")
    PHARMACY = "pharmacy", _("Officine")
    LABORATORY = "laboratory", _("Laboratoire de biologie médicale")
    RADIOLOGY = "radiology", _("Structure d'imagerie")


class Establishment(BaseModel):
    """A customer: named by its FINESS, or by its holder's RPPS for a practice."""

    finess = models.CharField(
        _("FINESS"), max_length=9, blank=True, default="", validators=[identifiers.validate_finess]
    )
    rpps = models.CharField(
        _("RPPS"), max_length=11, blank=True, default="", validators=[identifiers.validate_rpps]
    )
    name = models.CharField(_("nom"), max_length=300)
    kind = models.CharField(_("type"), max_length=20, choices=EstablishmentKind.choices)
    siret = models.CharField(
        _("SIRET"), max_length=14, blank=True, default="", validators=[identifiers.validate_siret]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("établissement")
        verbose_name_plural = _("établissements")
        constraints = [
            models.UniqueConstraint(
                fields=["finess"], condition=~Q(finess=""), name="establishment_finess_unique"
            ),
            models.UniqueConstraint(
                fields=["rpps"], condition=~Q(rpps=""), name="establishment_rpps_unique"
            ),
            models.CheckConstraint(
                condition=~Q(finess="") | ~Q(rpps=""), name="establishment_has_an_identifier"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identifier(self) -> str:
        """The identifier the eligible base knows it by."""
        return self.finess or self.rpps


class OrderState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Envoyé")
    SIGNED = "signed", _("Signé")
    INSTALLATION_DECLARED = "installation_declared", _("Installation déclarée")
    RESERVED = "reserved", _("Installation avec réserves")
    INSTALLED = "installed", _("Installé")
    DECLINED = "declined", _("Refusé")
    CANCELLED = "cancelled", _("Annulé")
    LAPSED = "lapsed", _("Caduc")
    VOID = "void", _("Sans objet")


#: "signed or later": one funded update per customer per scheme (partial unique index).
SIGNED_OR_LATER = [
    OrderState.SIGNED,
    OrderState.INSTALLATION_DECLARED,
    OrderState.RESERVED,
    OrderState.INSTALLED,
    OrderState.LAPSED,
]
#: what the vendor or the establishment may cancel (when no money was approved on it)
CANCELLABLE_BY_PARTIES = [OrderState.DRAFT, OrderState.SENT, OrderState.SIGNED]
#: what an ANS admin or a payment officer may cancel, funded or not (a funded one opens a
#: recovery of what was paid)
CANCELLABLE = [OrderState.DRAFT, OrderState.SENT, *SIGNED_OR_LATER]


class PurchaseOrder(BaseModel):
    establishment = models.ForeignKey(
        Establishment,
        verbose_name=_("établissement"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("éditeur"), on_delete=models.PROTECT, related_name="orders"
    )
    scheme = models.ForeignKey(
        Scheme, verbose_name=_("dispositif"), on_delete=models.PROTECT, related_name="orders"
    )
    solution_version = models.ForeignKey(
        SolutionVersion,
        verbose_name=_("version commandée"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    amount = models.DecimalField(
        _("montant (€ HT)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    state = FSMField(
        _("état"),
        max_length=24,
        choices=OrderState.choices,
        default=OrderState.DRAFT,
        protected=True,
        db_index=True,
    )
    referencing = models.ForeignKey(
        Referencing,
        verbose_name=_("référencement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    pre_referencing_dossier = models.ForeignKey(
        Dossier,
        verbose_name=_("dossier en cours (pré-référencement)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pre_referencing_orders",
    )
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signé le"), null=True, blank=True, db_index=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    installed_version = models.ForeignKey(
        SolutionVersion,
        verbose_name=_("version installée"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="installed_orders",
    )
    installed_on = models.DateField(_("installé le"), null=True, blank=True)
    acceptance_report = models.ForeignKey(
        Evidence,
        verbose_name=_("procès-verbal"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    declared_at = models.DateTimeField(_("installation déclarée le"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("installation acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tacit_acceptance = models.BooleanField(_("acceptation tacite"), default=False)
    #: when money was first approved on this order (set by the payments app, never cleared): from
    #: then on only an ANS admin or a payment officer may cancel it, which opens a recovery
    funded_at = models.DateTimeField(_("financement validé le"), null=True, blank=True)
    ended_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    end_reason = models.TextField(_("motif de clôture"), blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bon de commande")
        verbose_name_plural = _("bons de commande")
        constraints = [
            models.UniqueConstraint(
                fields=["establishment", "scheme"],
                condition=Q(state__in=SIGNED_OR_LATER),
                name="order_one_funded_per_establishment_and_scheme",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["scheme", "state"], name="order_scheme_state_idx"),
            models.Index(fields=["vendor", "-created_at"], name="order_vendor_idx"),
            models.Index(fields=["establishment", "-created_at"], name="order_establishment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} · {self.establishment}"

    # --- transitions -------------------------------------------------------------------------
    @transition(field=state, source=OrderState.DRAFT, target=OrderState.SENT)
    def send(self, *, at) -> None:
        self.sent_at = at

    @transition(field=state, source=OrderState.SENT, target=OrderState.SIGNED)
    def sign(self, *, at, by, referencing, dossier) -> None:
        self.signed_at = at
        self.signed_by = by
        self.referencing = referencing
        self.pre_referencing_dossier = dossier

    @transition(field=state, source=OrderState.SENT, target=OrderState.DECLINED)
    def decline(self, *, at, reason: str) -> None:
        self.ended_at = at
        self.end_reason = reason

    @transition(field=state, source=CANCELLABLE, target=OrderState.CANCELLED)
    def cancel(self, *, at, reason: str) -> None:
        self.ended_at = at
        self.end_reason = reason

    @transition(field=state, source=OrderState.SIGNED, target=OrderState.INSTALLATION_DECLARED)
    def declare_installation(self, *, at, version, installed_on, report) -> None:
        self.declared_at = at
        self.installed_version = version
        self.installed_on = installed_on
        self.acceptance_report = report

    @transition(
        field=state,
        source=[OrderState.INSTALLATION_DECLARED, OrderState.RESERVED],
        target=OrderState.INSTALLED,
    )
    def confirm_installation(self, *, at, by) -> None:
        self.accepted_at = at
        self.accepted_by = by

    @transition(field=state, source=OrderState.INSTALLATION_DECLARED, target=OrderState.RESERVED)
    def reserve(self) -> None:
        pass

    @transition(field=state, source=OrderState.RESERVED, target=OrderState.INSTALLATION_DECLARED)
    def lift_reservations(self) -> None:
        pass

    # `lapse` (signed | installation_declared | reserved → lapsed), tacit acceptance
    # (installation_declared → installed) and `void` (signed → void) are set-based sweeps and hooks
    # in orders/sweeps.py and orders/receivers.py, guarded by the same source states.


class Reservation(BaseModel):
    """A reservation (réserve) raised by the customer on a declared installation."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="reservations")
    text = models.TextField(_("réserve"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(_("levée le"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("réserve")
        verbose_name_plural = _("réserves")
        indexes = [
            models.Index(
                fields=["order"], condition=Q(lifted_at__isnull=True), name="reservation_open_idx"
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]
