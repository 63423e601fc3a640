"""The rules of the game: waves, sectors, categories, schemes and their calendars, requirement
sets, and the eligible-establishment base. Every date, cap, rate and delay is data here."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.identifiers import validate_establishment_identifier
from core.models import BaseModel
from sons.validators import validate_requirement_code, validate_scheme_code, validate_wave_code

DEFAULT_EVIDENCE_MAX_BYTES = 25 * 1024 * 1024


class Wave(BaseModel):
    code = models.CharField(_("code"), max_length=10, unique=True, validators=[validate_wave_code])
    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("vague")
        verbose_name_plural = _("vagues")

    def __str__(self) -> str:
        return self.code


class Sector(BaseModel):
    """A customer population (couloir): HOP, MDV, BIO, RAD, OFF, MSS."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("couloir")
        verbose_name_plural = _("couloirs")

    def __str__(self) -> str:
        return self.code


class Category(BaseModel):
    """A type of software: DPI, RI, PFI, LGC, SIR, SGL, LGO, MSS."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    sector = models.ForeignKey(
        Sector, verbose_name=_("couloir"), on_delete=models.PROTECT, related_name="categories"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("type de logiciel")
        verbose_name_plural = _("types de logiciel")

    def __str__(self) -> str:
        return self.code


class Acceptance(models.TextChoices):
    VA = "VA", _("Vérification d'aptitude signée par le client")
    MOM = "MOM", _("Mise en ordre de marche déclarée par l'éditeur")


class Scheme(BaseModel):
    """A dispositif: one sector × category × wave, with its calendar and parameters."""

    code = models.CharField(
        _("code"), max_length=30, unique=True, validators=[validate_scheme_code]
    )
    name = models.CharField(_("nom"), max_length=300, blank=True, default="")
    wave = models.ForeignKey(
        Wave, verbose_name=_("vague"), on_delete=models.PROTECT, related_name="schemes"
    )
    sector = models.ForeignKey(
        Sector, verbose_name=_("couloir"), on_delete=models.PROTECT, related_name="schemes"
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("type de logiciel"),
        on_delete=models.PROTECT,
        related_name="schemes",
    )
    # Calendar: instants (UTC), interpreted in Europe/Paris. A date means the end of that day.
    submission_opens = models.DateTimeField(_("ouverture des dépôts"))
    submission_closes = models.DateTimeField(_("clôture des dépôts"))
    order_deadline = models.DateTimeField(_("date limite de commande"))
    installation_deadline = models.DateTimeField(_("date limite d'installation"))
    payment_deadline = models.DateTimeField(_("date limite de demande de paiement"))
    # Parameters
    price_cap = models.DecimalField(
        _("plafond de prix (€ HT)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    advance_rate = models.DecimalField(
        _("taux d'avance"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.30"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    changes_due_days = models.PositiveIntegerField(_("délai de correction (jours)"), default=15)
    pre_referencing_days = models.PositiveIntegerField(
        _("délai de pré-référencement (jours)"), default=120
    )
    tacit_acceptance_days = models.PositiveIntegerField(
        _("délai d'acceptation tacite (jours)"), null=True, blank=True
    )
    acceptance = models.CharField(
        _("preuve d'installation"), max_length=3, choices=Acceptance.choices, default=Acceptance.VA
    )
    uses_eligible_base = models.BooleanField(_("base d'éligibilité"), default=False)
    allows_incomplete_submission = models.BooleanField(_("dépôt incomplet admis"), default=True)
    evidence_max_bytes = models.PositiveBigIntegerField(
        _("taille maximale d'une preuve (octets)"), default=DEFAULT_EVIDENCE_MAX_BYTES
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("dispositif")
        verbose_name_plural = _("dispositifs")
        constraints = [
            models.CheckConstraint(
                name="scheme_submission_window_ordered",
                condition=Q(submission_opens__lt=F("submission_closes")),
            ),
            models.CheckConstraint(
                name="scheme_installation_after_order",
                condition=Q(installation_deadline__gte=F("order_deadline")),
            ),
            models.CheckConstraint(
                name="scheme_advance_rate_0_1",
                condition=Q(advance_rate__gte=0, advance_rate__lte=1),
            ),
            models.CheckConstraint(name="scheme_price_cap_positive", condition=Q(price_cap__gte=0)),
        ]

    def __str__(self) -> str:
        return self.code


class RequirementSet(BaseModel):
    """One version of a scheme's requirement list (REM). Published versions never change;
    a dossier is judged against the version it was filed on."""

    scheme = models.ForeignKey(
        Scheme,
        verbose_name=_("dispositif"),
        on_delete=models.PROTECT,
        related_name="requirement_sets",
    )
    version = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    notes = models.TextField(_("notes de version"), blank=True, default="")

    class Meta:
        ordering = ["scheme", "-version"]
        verbose_name = _("version du référentiel d'exigences")
        verbose_name_plural = _("versions des référentiels d'exigences")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "version"], name="requirement_set_version_unique"
            ),
            models.UniqueConstraint(
                fields=["scheme"],
                condition=Q(published_at__isnull=True),
                name="requirement_set_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Nature(models.TextChoices):
    MANDATORY = "mandatory", _("Exigence (DOIT)")
    RECOMMENDED = "recommended", _("Préconisation (PEUT)")


GENERAL_PROFILE = "general"


class Requirement(BaseModel):
    requirement_set = models.ForeignKey(
        RequirementSet,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="requirements",
    )
    code = models.CharField(_("code"), max_length=40, validators=[validate_requirement_code])
    section = models.CharField(_("section"), max_length=100, blank=True, default="")
    title = models.CharField(_("titre"), max_length=300)
    statement = models.TextField(_("énoncé"))
    nature = models.CharField(
        _("nature"), max_length=12, choices=Nature.choices, default=Nature.MANDATORY
    )
    profile = models.CharField(_("profil"), max_length=60, default=GENERAL_PROFILE)
    evidence_required = models.BooleanField(_("preuve exigée"), default=True)
    position = models.PositiveIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ["requirement_set", "position", "code"]
        verbose_name = _("exigence")
        verbose_name_plural = _("exigences")
        constraints = [
            models.UniqueConstraint(
                fields=["requirement_set", "code"], name="requirement_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Scenario(BaseModel):
    requirement = models.ForeignKey(
        Requirement, verbose_name=_("exigence"), on_delete=models.CASCADE, related_name="scenarios"
    )
    code = models.CharField(_("code"), max_length=50, validators=[validate_requirement_code])
    description = models.TextField(_("description"))
    position = models.PositiveIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ["requirement", "position", "code"]
        verbose_name = _("scénario")
        verbose_name_plural = _("scénarios")
        constraints = [
            models.UniqueConstraint(fields=["requirement", "code"], name="scenario_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class ExpectedProof(BaseModel):
    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scénario"), on_delete=models.CASCADE, related_name="proofs"
    )
    code = models.CharField(_("code"), max_length=60, validators=[validate_requirement_code])
    nature = models.CharField(_("nature"), max_length=100)
    text = models.TextField(_("preuve attendue"))
    position = models.PositiveIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ["scenario", "position", "code"]
        verbose_name = _("preuve attendue")
        verbose_name_plural = _("preuves attendues")
        constraints = [
            models.UniqueConstraint(fields=["scenario", "code"], name="expected_proof_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class EligibleEstablishment(BaseModel):
    """The eligible base of a scheme: which customers may be funded, and their own cap.

    Customers are named by their national identifier (FINESS, RPPS or SIRET) so that the base can
    be loaded before the establishments have accounts."""

    scheme = models.ForeignKey(
        Scheme,
        verbose_name=_("dispositif"),
        on_delete=models.CASCADE,
        related_name="eligible_establishments",
    )
    establishment = models.CharField(
        _("identifiant de l'établissement"),
        max_length=14,
        validators=[validate_establishment_identifier],
        help_text=_("FINESS (9 caractères), RPPS (11 chiffres) ou SIRET (14 chiffres)."),
    )
    name = models.CharField(_("nom"), max_length=300, blank=True, default="")
    max_amount = models.DecimalField(
        _("montant maximal (€ HT)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        ordering = ["scheme", "establishment"]
        verbose_name = _("établissement éligible")
        verbose_name_plural = _("base des établissements éligibles")
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "establishment"], name="eligible_establishment_unique"
            ),
            models.CheckConstraint(
                name="eligible_max_amount_positive",
                condition=Q(max_amount__isnull=True) | Q(max_amount__gte=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.code} · {self.establishment}"
