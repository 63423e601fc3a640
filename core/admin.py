"""Admin pieces shared by every app: the read-only audit trail, and audited editing."""

from django.contrib import admin

from core.audit import audit_record
from core.models import AuditEntry

SECRET_FIELDS = {"password", "password1", "password2", "iban"}


class AuditedModelAdmin(admin.ModelAdmin):
    """Admin saves and deletions land in the audit trail like any other write."""

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
