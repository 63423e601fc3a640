"""Dossiers, their statements and evidence, the conformity review, and referencings.

State machines (domain.md §4) are declared here with django-fsm-2; transitions only change the
model's own fields. Permission, audit and side effects live in `services.py`."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from core.models import BaseModel
from sons.models import Requirement, RequirementSet, Scheme
from vendors.models import SolutionVersion, Vendor


class DossierState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Déposé")
    IN_REVIEW = "in_review", _("En instruction")
    CHANGES_REQUESTED = "changes_requested", _("Corrections demandées")
    APPROVED = "approved", _("Référencé")
    REJECTED = "rejected", _("Rejeté")
    WITHDRAWN = "withdrawn", _("Retiré")
    ABANDONED = "abandoned", _("Abandonné")


OPEN_DOSSIER_STATES = [
    DossierState.DRAFT,
    DossierState.SUBMITTED,
    DossierState.IN_REVIEW,
    DossierState.CHANGES_REQUESTED,
]
ENDED_WITHOUT_REFERENCING = [DossierState.REJECTED, DossierState.WITHDRAWN, DossierState.ABANDONED]


def private_storage():
    from django.core.files.storage import storages

    return storages["private"]


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"evidence/{instance.vendor_id}/{instance.id}"


class Evidence(BaseModel):
    """A proof file of a vendor. Stored privately under a random name; served only through a
    permission-checked view."""

    vendor = models.ForeignKey(
        Vendor, verbose_name=_("éditeur"), on_delete=models.PROTECT, related_name="evidence"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(
        _("fichier"), storage=private_storage, upload_to=evidence_path, max_length=200
    )
    filename = models.CharField(_("nom d'origine"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("preuve")
        verbose_name_plural = _("preuves")

    def __str__(self) -> str:
        return self.filename


class Dossier(BaseModel):
    scheme = models.ForeignKey(
        Scheme, verbose_name=_("dispositif"), on_delete=models.PROTECT, related_name="dossiers"
    )
    solution_version = models.ForeignKey(
        SolutionVersion,
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("éditeur"), on_delete=models.PROTECT, related_name="dossiers"
    )
    requirement_set = models.ForeignKey(
        RequirementSet,
        verbose_name=_("version du référentiel"),
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    state = FSMField(
        _("état"),
        max_length=20,
        choices=DossierState.choices,
        default=DossierState.DRAFT,
        protected=True,
        db_index=True,
    )
    claimed_profiles = models.JSONField(_("profils revendiqués"), default=list, blank=True)
    charter_accepted_at = models.DateTimeField(_("charte acceptée le"), null=True, blank=True)
    charter_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("charte acceptée par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    complete = models.BooleanField(_("dépôt complet"), default=False)
    revision = models.PositiveIntegerField(_("révision"), default=0)
    submitted_at = models.DateTimeField(_("premier dépôt le"), null=True, blank=True)
    last_submitted_at = models.DateTimeField(
        _("dernier dépôt le"), null=True, blank=True, db_index=True
    )
    complete_deposit_at = models.DateTimeField(
        _("dépôt complet des preuves le"), null=True, blank=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("instructeur"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_dossiers",
    )
    changes_due_at = models.DateTimeField(
        _("corrections attendues avant le"), null=True, blank=True
    )
    decided_at = models.DateTimeField(_("décidé le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("décidé par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_reason = models.TextField(_("motif de la décision"), blank=True, default="")
    ended_at = models.DateTimeField(_("clos le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dossier de référencement")
        verbose_name_plural = _("dossiers de référencement")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "solution_version"],
                condition=~Q(state__in=["rejected", "withdrawn", "abandoned"]),
                name="dossier_one_live_per_scheme_and_version",
            ),
        ]
        indexes = [
            models.Index(
                fields=["state", "complete", "complete_deposit_at"], name="dossier_queue_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} · {self.solution_version}"

    @property
    def charter_accepted(self) -> bool:
        return self.charter_accepted_at is not None

    # --- transitions (fields of this model only) ----------------------------------------------
    @transition(
        field=state,
        source=[DossierState.DRAFT, DossierState.CHANGES_REQUESTED],
        target=DossierState.SUBMITTED,
    )
    def submit(self, *, at, complete: bool) -> None:
        self.revision += 1
        self.submitted_at = self.submitted_at or at
        self.last_submitted_at = at
        self.complete = complete
        if complete and self.complete_deposit_at is None:
            self.complete_deposit_at = at
        self.changes_due_at = None

    @transition(
        field=state,
        source=[DossierState.DRAFT, DossierState.SUBMITTED, DossierState.CHANGES_REQUESTED],
        target=DossierState.WITHDRAWN,
    )
    def withdraw(self, *, at) -> None:
        self.ended_at = at

    @transition(field=state, source=DossierState.SUBMITTED, target=DossierState.IN_REVIEW)
    def assign(self, *, reviewer) -> None:
        self.reviewer = reviewer

    @transition(field=state, source=DossierState.IN_REVIEW, target=DossierState.CHANGES_REQUESTED)
    def request_changes(self, *, due_at) -> None:
        self.changes_due_at = due_at

    @transition(field=state, source=DossierState.IN_REVIEW, target=DossierState.APPROVED)
    def approve(self, *, at, by) -> None:
        self.decided_at = at
        self.decided_by = by
        self.ended_at = at

    @transition(field=state, source=DossierState.IN_REVIEW, target=DossierState.REJECTED)
    def reject(self, *, at, by, reason: str) -> None:
        self.decided_at = at
        self.decided_by = by
        self.decision_reason = reason
        self.ended_at = at

    @transition(field=state, source=DossierState.CHANGES_REQUESTED, target=DossierState.ABANDONED)
    def abandon(self, *, at) -> None:
        self.ended_at = at


class Claim(models.TextChoices):
    CONFORM = "conform", _("Conforme")
    NOT_APPLICABLE = "not_applicable", _("Non applicable")


class Statement(BaseModel):
    """The vendor's answer to one requirement: claim, justification, evidence."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="statements")
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="statements"
    )
    claim = models.CharField(_("déclaration"), max_length=20, choices=Claim.choices)
    justification = models.TextField(_("justification"), blank=True, default="")
    evidence = models.ManyToManyField(
        Evidence, verbose_name=_("preuves"), blank=True, related_name="statements"
    )

    class Meta:
        ordering = ["requirement__position", "requirement__code"]
        verbose_name = _("déclaration de conformité")
        verbose_name_plural = _("déclarations de conformité")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "requirement"], name="statement_one_per_requirement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} · {self.requirement.code}"


class VerdictValue(models.TextChoices):
    COMPLIANT = "compliant", _("Conforme")
    NON_COMPLIANT = "non_compliant", _("Non conforme")


class Verdict(BaseModel):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="verdicts")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="verdicts")
    verdict = models.CharField(_("avis"), max_length=20, choices=VerdictValue.choices)
    comment = models.TextField(_("commentaire"), blank=True, default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revision = models.PositiveIntegerField(_("révision examinée"))

    class Meta:
        ordering = ["requirement__position", "requirement__code"]
        verbose_name = _("avis d'instruction")
        verbose_name_plural = _("avis d'instruction")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "requirement"], name="verdict_one_per_requirement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requirement.code}: {self.verdict}"


class VerdictRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("L'historique des avis est en ajout seul.")

    def delete(self):
        raise TypeError("L'historique des avis est en ajout seul.")


class VerdictRecord(BaseModel):
    """One verdict as it was given: who, when, on which revision. Append-only: `Verdict` holds
    the current verdict per requirement and is overwritten; these records are never updated,
    and the four-eyes rule reads them (`selectors.took_part_in_instruction`)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="verdict_records")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField(_("révision examinée"))
    verdict = models.CharField(_("avis"), max_length=20, choices=VerdictValue.choices)
    comment = models.TextField(_("commentaire"), blank=True, default="")
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("donné par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    given_at = models.DateTimeField(_("donné le"))

    objects = VerdictRecordQuerySet.as_manager()

    class Meta:
        ordering = ["given_at", "created_at"]
        verbose_name = _("avis donné (historique)")
        verbose_name_plural = _("avis donnés (historique)")
        indexes = [
            models.Index(fields=["dossier", "given_by"], name="verdict_record_author_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} r{self.revision} {self.requirement_id}: {self.verdict}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("L'historique des avis est en ajout seul.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("L'historique des avis est en ajout seul.")


class DossierRevision(BaseModel):
    """What the vendor deposited at one submission; reviewers compare it with the previous."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("numéro"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    complete = models.BooleanField(_("complet"))
    content = models.JSONField(_("contenu déposé"))

    class Meta:
        ordering = ["dossier", "number"]
        verbose_name = _("révision de dossier")
        verbose_name_plural = _("révisions de dossier")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "number"], name="dossier_revision_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id} r{self.number}"


class ChangeRequest(BaseModel):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="change_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("motif"))
    requirement_codes = models.JSONField(_("exigences concernées"), default=list)
    due_at = models.DateTimeField(_("à corriger avant le"))
    answered_at = models.DateTimeField(_("corrigé le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("demande de corrections")
        verbose_name_plural = _("demandes de corrections")

    def __str__(self) -> str:
        return f"{self.dossier_id} · {self.due_at:%Y-%m-%d}"


class Comment(BaseModel):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    internal = models.BooleanField(_("note interne ANS"), default=False)
    requirement_code = models.CharField(_("exigence"), max_length=40, blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("commentaire")
        verbose_name_plural = _("commentaires")

    def __str__(self) -> str:
        return f"{self.dossier_id} · {self.author_id}"


class ReferencingState(models.TextChoices):
    ACTIVE = "active", _("Actif")
    SUSPENDED = "suspended", _("Suspendu")
    REVOKED = "revoked", _("Retiré")
    EXPIRED = "expired", _("Expiré")


class Referencing(BaseModel):
    """The grant: one solution version referenced for one scheme, with a reference number."""

    reference = models.CharField(_("numéro de référencement"), max_length=40, unique=True)
    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="referencing")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="referencings")
    solution_version = models.ForeignKey(
        SolutionVersion, on_delete=models.PROTECT, related_name="referencings"
    )
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="referencings")
    state = FSMField(
        _("état"),
        max_length=20,
        choices=ReferencingState.choices,
        default=ReferencingState.ACTIVE,
        protected=True,
        db_index=True,
    )
    valid_from = models.DateTimeField(_("valide à partir du"))
    valid_until = models.DateTimeField(_("valide jusqu'au"), null=True, blank=True)
    state_reason = models.TextField(_("motif du dernier changement d'état"), blank=True, default="")

    class Meta:
        ordering = ["reference"]
        verbose_name = _("référencement")
        verbose_name_plural = _("référencements")
        indexes = [models.Index(fields=["state", "scheme"], name="referencing_state_scheme_idx")]
        constraints = [
            # one live dossier per version and scheme, and approval ends it: one referencing each
            models.UniqueConstraint(
                fields=["scheme", "solution_version"], name="referencing_one_per_version"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @transition(field=state, source=ReferencingState.ACTIVE, target=ReferencingState.SUSPENDED)
    def suspend(self, *, reason: str) -> None:
        self.state_reason = reason

    @transition(field=state, source=ReferencingState.SUSPENDED, target=ReferencingState.ACTIVE)
    def reinstate(self, *, reason: str = "") -> None:
        self.state_reason = reason

    @transition(
        field=state,
        source=[ReferencingState.ACTIVE, ReferencingState.SUSPENDED],
        target=ReferencingState.REVOKED,
    )
    def revoke(self, *, reason: str) -> None:
        self.state_reason = reason

    @transition(field=state, source=ReferencingState.ACTIVE, target=ReferencingState.EXPIRED)
    def expire(self) -> None:
        self.state_reason = ""


class ReferenceCounter(models.Model):
    """Next reference number per scheme and year (`HOP-DPI-VA2-2025-0042`), locked on use."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year"], name="reference_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.year}: {self.last}"
