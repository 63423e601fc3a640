import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Every object of the service: a UUID public identifier and its creation/update instants."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):  # pragma: no cover - guarded on purpose
        raise TypeError("The audit trail is append-only.")

    def delete(self):
        raise TypeError("The audit trail is append-only.")


class AuditEntry(models.Model):
    """One write of the service: who, when, what, from/to state, why, before/after.

    Entries form a hash chain: `hash = sha256(prev_hash + canonical content)`, `seq` gapless.
    See docs/decisions/0003-audit-trail.md and `python manage.py verify_audit`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.PositiveBigIntegerField(_("numéro"), unique=True, editable=False)
    at = models.DateTimeField(_("instant"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        db_constraint=False,
    )
    actor_repr = models.CharField(_("auteur (libellé)"), max_length=200)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("type d'objet"), max_length=100)
    object_id = models.CharField(_("identifiant d'objet"), max_length=64, db_index=True)
    object_repr = models.CharField(_("objet (libellé)"), max_length=300, blank=True, default="")
    from_state = models.CharField(_("état avant"), max_length=50, blank=True, default="")
    to_state = models.CharField(_("état après"), max_length=50, blank=True, default="")
    reason = models.TextField(_("motif"), blank=True, default="")
    changes = models.JSONField(_("modifications"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("entrée du journal d'audit")
        verbose_name_plural = _("journal d'audit")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit trail is append-only.")


class JobLock(models.Model):
    """Rows used as portable locks for periodic jobs (sweeps, batches): one row per job name."""

    name = models.CharField(primary_key=True, max_length=100)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An in-app notice to one user about a transition; also sent by email."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("destinataire"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.CharField(_("évènement"), max_length=100)
    subject = models.CharField(_("objet"), max_length=300)
    body = models.TextField(_("message"))
    object_type = models.CharField(_("type d'objet"), max_length=100, blank=True, default="")
    object_id = models.CharField(_("identifiant d'objet"), max_length=64, blank=True, default="")
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("envoyée par courriel le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.recipient_id} · {self.subject}"


class SentReminder(models.Model):
    """Remembers each reminder sent, so a sweep run twice never reminds twice."""

    key = models.CharField(max_length=200, primary_key=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rappel envoyé")
        verbose_name_plural = _("rappels envoyés")

    def __str__(self) -> str:
        return self.key
