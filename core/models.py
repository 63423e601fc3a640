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


class EmailState(models.TextChoices):
    PENDING = "pending", _("à envoyer")
    SENT = "sent", _("envoyé")
    SKIPPED = "skipped", _("sans adresse")
    DEAD = "dead", _("abandonné")


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
    # The row is also the outbox entry of its email (docs/decisions/0014): written in the
    # change's transaction, delivered by `core.outbox` with retries, then sent or dead.
    email_state = models.CharField(
        _("état du courriel"),
        max_length=10,
        choices=EmailState.choices,
        default=EmailState.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives d'envoi"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True, default="")
    dead_at = models.DateTimeField(_("abandonnée le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="notification_outbox_idx",
                condition=models.Q(email_state="pending"),
            ),
        ]

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


class SweepRun(models.Model):
    """One run of one sweep: what it moved, which objects failed and why (the others proceed)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("balayage"), max_length=100, db_index=True)
    started_at = models.DateTimeField(_("début"), db_index=True)
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    moved = models.PositiveIntegerField(_("objets traités"), default=0)
    failed = models.PositiveIntegerField(_("échecs"), default=0)
    failed_ids = models.JSONField(_("identifiants en échec"), default=list, blank=True)
    error = models.TextField(_("erreurs"), blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("exécution de balayage")
        verbose_name_plural = _("exécutions de balayages")

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.failed and not self.error


class JobState(models.TextChoices):
    QUEUED = "queued", _("en attente")
    RUNNING = "running", _("en cours")
    DONE = "done", _("terminé")
    FAILED = "failed", _("échoué")


class Job(models.Model):
    """A long launch (eligibility run, import) recorded before anything runs: the request answers
    at once with the job; a worker picks it up (nudged on commit, or by the periodic pickup)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("nature"), max_length=50, db_index=True)
    state = models.CharField(
        _("état"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    params = models.JSONField(_("paramètres"), default=dict, blank=True)
    payload = models.BinaryField(_("fichier"), null=True, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("demandé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    result = models.JSONField(_("résultat"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("travail différé")
        verbose_name_plural = _("travaux différés")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="job_queue_idx",
                condition=models.Q(state__in=["queued", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M} ({self.state})"
