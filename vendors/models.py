"""Vendors (éditeurs), their solutions and versions. Members are users with the vendor role."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core import identifiers
from core.models import BaseModel
from sons.models import Category


class Vendor(BaseModel):
    name = models.CharField(_("raison sociale"), max_length=300)
    siren = models.CharField(
        _("SIREN"), max_length=9, unique=True, validators=[identifiers.validate_siren]
    )
    siret = models.CharField(_("SIRET"), max_length=14, validators=[identifiers.validate_siret])
    nie = models.CharField(
        _("numéro d'éditeur CNDA (NIE)"),
        max_length=20,
        blank=True,
        default="",
        validators=[identifiers.validate_nie],
    )
    iban = models.CharField(
        _("IBAN"), max_length=34, blank=True, default="", validators=[identifiers.validate_iban]
    )
    enrolled_at = models.DateTimeField(_("enrôlé auprès de l'ASP le"), null=True, blank=True)
    #: the IBAN the paying agency verified at enrolment: the only one a payment file carries. A
    #: new `iban` clears `enrolled_at` and leaves this one as it was, until the next enrolment.
    enrolled_iban = models.CharField(
        _("IBAN vérifié à l'enrôlement"), max_length=34, blank=True, default=""
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("éditeur")
        verbose_name_plural = _("éditeurs")
        constraints = [
            models.CheckConstraint(
                name="vendor_siret_of_siren",
                condition=Q(siret__startswith=F("siren")),
                violation_error_message=_("Le SIRET doit commencer par le SIREN de l'entreprise."),
            ),
            models.UniqueConstraint(
                fields=["nie"],
                condition=~Q(nie=""),
                name="vendor_nie_unique",
                violation_error_message=_("Un éditeur portant ce numéro CNDA (NIE) existe déjà."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Solution(BaseModel):
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("éditeur"), on_delete=models.PROTECT, related_name="solutions"
    )
    name = models.CharField(_("nom"), max_length=300)
    category = models.ForeignKey(
        Category,
        verbose_name=_("type de logiciel"),
        on_delete=models.PROTECT,
        related_name="solutions",
    )

    class Meta:
        ordering = ["vendor__name", "name"]
        verbose_name = _("logiciel")
        verbose_name_plural = _("logiciels")
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "name", "category"], name="solution_unique_per_vendor"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SolutionVersion(BaseModel):
    solution = models.ForeignKey(
        Solution, verbose_name=_("logiciel"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.CharField(_("numéro de version"), max_length=50)
    released_on = models.DateField(_("date de publication"), null=True, blank=True)

    class Meta:
        ordering = ["solution", "-created_at"]
        verbose_name = _("version de logiciel")
        verbose_name_plural = _("versions de logiciel")
        constraints = [
            models.UniqueConstraint(fields=["solution", "number"], name="solution_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.solution.name} {self.number}"
