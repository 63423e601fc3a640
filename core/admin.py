"""Admin pieces shared by every app: the read-only audit trail, and audited editing.

Every ModelAdmin registered is one of three kinds (tests/core/test_admin_audit.py checks it):
- `ServiceModelAdmin`: add and change call the app's services, which check, write and audit;
- `AuditedModelAdmin`: the admin saves, and writes the audit entry itself (before/after);
- read-only: no add, change nor delete permission.
Every audit entry written from the admin has the reason `admin` (`core.audit.audit_channel`).
"""

from __future__ import annotations

from typing import Any

import dsfr.admin  # noqa: F401 - registers DsfrConfig now, so that it can be unregistered below
from django.contrib import admin
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from dsfr.models import DsfrConfig

from core.audit import ADMIN_CHANNEL, audit_channel, audit_record
from core.errors import ApplicationError
from core.models import AuditEntry, Job, Notification, SweepRun

SECRET_FIELDS = {"password", "password1", "password2", "iban"}


class AuditedModelAdmin(admin.ModelAdmin):
    """Admin saves and deletions land in the audit trail like any other write."""

    def changeform_view(self, request, *args, **kwargs):
        with audit_channel(ADMIN_CHANNEL):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):  # actions: deletion of a selection
        with audit_channel(ADMIN_CHANNEL):
            return super().changelist_view(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        with audit_channel(ADMIN_CHANNEL):
            return super().delete_view(request, *args, **kwargs)

    def _changes(self, form, change):
        changes = {}
        for name in form.changed_data:
            before = form.initial.get(name) if change else None
            after = form.cleaned_data.get(name)
            if name in SECRET_FIELDS:
                before, after = ("***" if before else None), "*** (modifié)"
            changes[name] = [
                str(before) if before is not None else None,
                str(after) if after is not None else None,
            ]
        return changes

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        action = f"{obj._meta.model_name}.{'update' if change else 'create'}"
        audit_record(
            actor=request.user,
            action=action,
            obj=obj,
            changes=self._changes(form, change),
            reason="admin",
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, reason="admin"
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(
                actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, reason="admin"
            )
        super().delete_queryset(request, queryset)


def form_errors(exc: ValidationError | ApplicationError) -> dict[str, list[ValidationError]]:
    """A service's refusal as form errors by field name (`NON_FIELD_ERRORS` when none)."""
    if isinstance(exc, ApplicationError):
        errors: dict[str, list[ValidationError]] = {}
        for item in exc.errors:
            errors.setdefault(item.attr or NON_FIELD_ERRORS, []).append(
                ValidationError(item.detail, code=item.code)
            )
        return errors
    if hasattr(exc, "error_dict"):
        return {field: list(errors) for field, errors in exc.error_dict.items()}
    return {NON_FIELD_ERRORS: list(exc.error_list)}


class ServiceRefused(Exception):
    """Raised by `ServiceModelAdmin.save_model` when the service refused the write."""

    def __init__(self, errors: dict[str, list[ValidationError]]) -> None:
        self.errors = errors
        super().__init__(errors)


class ServiceModelAdmin(AuditedModelAdmin):
    """An admin whose add and change go through the app's services (HackSoft's
    `users/admin.py`: `save_model` calls the service), so that no rule is bypassable from
    `/admin/` and the service writes the one audit entry, before/after included.

    Subclasses implement `service_create(request, form)` and `service_update(request, obj,
    form)`, each returning the saved object. The admin's own transaction around the form is
    dropped (a service owns a durable one); inline rows are saved afterwards, in their own
    transaction (`save_formset` audits them). When the service refuses what the form accepted,
    the page is shown again from the same POST, with the service's errors on their fields.
    Deletions stay those of `AuditedModelAdmin` (audited) unless the subclass forbids them."""

    def service_create(self, request, form) -> Any:
        raise NotImplementedError

    def service_update(self, request, obj, form) -> Any:
        raise NotImplementedError

    @staticmethod
    def changed_values(form, fields) -> dict[str, Any]:
        """The form's cleaned values of the `fields` it changed: what a `*_update` takes."""
        return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with audit_channel(ADMIN_CHANNEL):
            try:
                return self._changeform_view(request, object_id, form_url, extra_context)
            except ServiceRefused as refused:  # nothing was written: show the form again
                request.service_refusal = refused.errors
                return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if not refusal:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                for field, errors in refusal.items():
                    self.add_error(field if field in self.fields else None, errors)
                return cleaned

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm

    def save_model(self, request, obj, form, change):
        try:
            if change:
                saved = self.service_update(request, obj, form)
            else:
                saved = self.service_create(request, form)
        except (ValidationError, ApplicationError) as exc:
            raise ServiceRefused(form_errors(exc)) from exc
        # the admin goes on with `obj` (inline rows, messages, redirect): make it the saved row
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db
        obj._state.fields_cache = {}

    def save_related(self, request, form, formsets, change):
        # The service saved the object's own fields, many-to-many included.
        with transaction.atomic():
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Readable by ANS admins; never editable nor deletable."""

    list_display = [
        "seq",
        "at",
        "actor_repr",
        "action",
        "object_type",
        "object_repr",
        "from_state",
        "to_state",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor_repr", "object_repr", "reason"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    ordering = ["-seq"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to ANS admins; written only by the service's own code."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox of notification emails: dead letters filtered by `email_state`, and retried by
    the action (through `core.services.notification_email_retry`, audited)."""

    list_display = ["created_at", "recipient", "event", "subject", "email_state", "attempts"]
    list_filter = ["email_state", "event"]
    search_fields = ["subject", "object_id", "recipient__username", "last_error"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ["recipient"]
    ordering = ["-created_at"]
    actions = ["retry_emails"]

    @admin.action(description="Renvoyer les courriels sélectionnés (abandonnés ou en attente)")
    def retry_emails(self, request, queryset):
        from core.services import notification_email_retry

        try:
            count = notification_email_retry(actor=request.user, notifications=list(queryset))
        except ApplicationError as exc:
            self.message_user(request, str(exc), level="error")
            return
        self.message_user(request, f"{count} courriel(s) remis en file d'envoi.")


class FailedFilter(admin.SimpleListFilter):
    title = "échecs"
    parameter_name = "en_echec"

    def lookups(self, request, model_admin):
        return [("oui", "avec échecs ou erreur"), ("non", "sans échec")]

    def queryset(self, request, queryset):
        from django.db.models import Q

        failing = Q(failed__gt=0) | ~Q(error="")
        if self.value() == "oui":
            return queryset.filter(failing)
        if self.value() == "non":
            return queryset.exclude(failing)
        return queryset


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    """Each run of each sweep, with the objects that failed (the others proceeded)."""

    list_display = ["started_at", "name", "moved", "failed", "finished_at"]
    list_filter = ["name", FailedFilter]
    readonly_fields = [f.name for f in SweepRun._meta.fields]
    search_fields = ["name", "error"]
    ordering = ["-started_at"]


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Long launches (eligibility runs, imports): queued, running, done or failed."""

    list_display = ["created_at", "kind", "state", "requested_by", "started_at", "finished_at"]
    list_filter = ["state", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields if f.name != "payload"]
    exclude = ["payload"]
    ordering = ["-created_at"]


# django-dsfr's site settings (title, notice banner written in HTML) are not used here (no
# `dsfr.context_processors.site_config`): not offered as an unaudited form either.
if admin.site.is_registered(DsfrConfig):
    admin.site.unregister(DsfrConfig)
