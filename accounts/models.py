import hashlib
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ANS_ADMIN = "ans_admin", _("Administrateur ANS")
    REVIEWER = "reviewer", _("Instructeur ANS")
    PAYMENT_OFFICER = "payment_officer", _("Agent payeur (ASP)")
    VENDOR = "vendor", _("Éditeur")
    ESTABLISHMENT = "establishment", _("Établissement")


class User(AbstractUser):
    """A person using the service. Belongs to at most one organisation (a vendor for now;
    establishments join with the orders app), as its `role` says."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, blank=True, default="")
    signatory = models.BooleanField(
        _("signataire"),
        default=False,
        help_text=_(
            "Établissement : peut signer les bons de commande et les procès-verbaux d'installation. "
            "Éditeur : représentant légal, peut accepter la charte du dossier de référencement."
        ),
    )
    vendor = models.ForeignKey(
        "vendors.Vendor",
        verbose_name=_("éditeur"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    establishment = models.ForeignKey(
        "orders.Establishment",
        verbose_name=_("établissement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        constraints = [
            models.CheckConstraint(
                name="user_vendor_iff_vendor_role",
                condition=Q(role="vendor", vendor__isnull=False)
                | (~Q(role="vendor") & Q(vendor__isnull=True)),
            ),
            models.CheckConstraint(
                name="user_establishment_only_for_establishment_role",
                condition=Q(establishment__isnull=True) | Q(role="establishment"),
            ),
            models.CheckConstraint(
                name="user_signatory_only_for_organisations",
                condition=Q(signatory=False) | Q(role__in=["establishment", "vendor"]),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_ans_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ANS_ADMIN

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser and Role.ANS_ADMIN in roles:
            return True
        return self.role in roles


class LoginFailure(models.Model):
    """One failed login: the record login throttling counts, and a security log."""

    at = models.DateTimeField(_("instant"), auto_now_add=True, db_index=True)
    username = models.CharField(_("identifiant saisi"), max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True, db_index=True)
    channel = models.CharField(_("canal"), max_length=20, default="api")

    class Meta:
        verbose_name = _("échec de connexion")
        verbose_name_plural = _("échecs de connexion")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} @ {self.ip_address} ({self.at:%Y-%m-%d %H:%M})"


class ApiToken(models.Model):
    """An API key of a user. Only its SHA-256 is stored: the key itself is shown once, when
    `accounts.services.token_obtain` creates it, and cannot be read back by anyone (a superuser
    included). `prefix` (its first characters) lets a person recognise a key they hold."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        User,
        verbose_name=_("utilisateur"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    key_hash = models.CharField(_("empreinte SHA-256 de la clé"), max_length=64, unique=True)
    prefix = models.CharField(_("début de la clé"), max_length=8)
    name = models.CharField(_("nom"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        """What is stored and looked up: the key's SHA-256, in hex. Keys are 160 random bits, so
        a plain hash is enough (no salt, no slow hash) and lets the lookup use the index."""
        return hashlib.sha256(key.encode()).hexdigest()
