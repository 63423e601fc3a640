"""Back office of the programme. Every save lands in the audit trail (AuditedModelAdmin, plus the
inlines below); published requirement sets are read-only here as everywhere."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedModelAdmin
from core.audit import audit_record
from core.errors import ApplicationError
from sons import services
from sons.models import (
    Category,
    EligibleEstablishment,
    ExpectedProof,
    Requirement,
    RequirementSet,
    Scenario,
    Scheme,
    Sector,
    Wave,
)


class AuditedInlinesMixin:
    """Inline rows added, changed or deleted are audited one entry per row."""

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.delete",
                obj=obj,
                reason="admin",
            )
            obj.delete()
        for obj in instances:
            adding = obj._state.adding
            obj.save()
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'create' if adding else 'update'}",
                obj=obj,
                reason="admin",
            )
        formset.save_m2m()


def _frozen(requirement_set: RequirementSet | None) -> bool:
    return requirement_set is not None and requirement_set.is_published


@admin.register(Wave)
class WaveAdmin(AuditedModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Sector)
class SectorAdmin(AuditedModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Category)
class CategoryAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "sector"]
    list_filter = ["sector"]
    list_select_related = ["sector"]
    search_fields = ["code", "name"]


@admin.register(Scheme)
class SchemeAdmin(AuditedModelAdmin):
    list_display = [
        "code",
        "name",
        "wave",
        "sector",
        "category",
        "submission_opens",
        "submission_closes",
        "order_deadline",
        "installation_deadline",
        "price_cap",
    ]
    list_filter = ["wave", "sector", "category", "acceptance", "uses_eligible_base"]
    list_select_related = ["wave", "sector", "category"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "wave", "sector", "category"]}),
        (
            _("Calendrier (heure de Paris)"),
            {
                "fields": [
                    "submission_opens",
                    "submission_closes",
                    "order_deadline",
                    "installation_deadline",
                    "payment_deadline",
                ]
            },
        ),
        (
            _("Paramètres"),
            {
                "fields": [
                    "price_cap",
                    "advance_rate",
                    "changes_due_days",
                    "pre_referencing_days",
                    "tacit_acceptance_days",
                    "acceptance",
                    "uses_eligible_base",
                    "allows_incomplete_submission",
                    "evidence_max_bytes",
                ]
            },
        ),
    ]


class RequirementInline(admin.TabularInline):
    model = Requirement
    fields = ["position", "code", "section", "title", "nature", "profile", "evidence_required"]
    show_change_link = True
    extra = 0

    def _editable(self, obj) -> bool:
        return not _frozen(obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(RequirementSet)
class RequirementSetAdmin(AuditedInlinesMixin, AuditedModelAdmin):
    """A version of a scheme's requirements. Drafts are edited (or published with the action);
    published versions are shown read-only."""

    list_display = ["scheme", "version", "published_at", "created_at"]
    list_filter = ["scheme__wave", "scheme__category"]
    list_select_related = ["scheme"]
    search_fields = ["scheme__code"]
    readonly_fields = ["published_at"]
    inlines = [RequirementInline]
    actions = ["publish_drafts"]

    def get_readonly_fields(self, request, obj=None):
        if _frozen(obj):
            return ["scheme", "version", "published_at", "notes"]
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_delete_permission(request, obj)

    @admin.action(description=_("Publier les brouillons sélectionnés"))
    def publish_drafts(self, request, queryset):
        for requirement_set in queryset.select_related("scheme"):
            if requirement_set.is_published:
                continue
            try:
                services.requirement_set_publish(actor=request.user, scheme=requirement_set.scheme)
            except ApplicationError as exc:
                self.message_user(request, f"{requirement_set}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(s)s publiée.") % {"s": requirement_set})


class ScenarioInline(admin.StackedInline):
    model = Scenario
    fields = ["position", "code", "description"]
    show_change_link = True
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or not _frozen(obj.requirement_set)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Requirement)
class RequirementAdmin(AuditedInlinesMixin, AuditedModelAdmin):
    list_display = ["code", "title", "requirement_set", "section", "nature", "profile"]
    list_filter = ["nature", "section", "requirement_set__scheme"]
    list_select_related = ["requirement_set__scheme"]
    search_fields = ["code", "title", "statement"]
    inlines = [ScenarioInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and _frozen(obj.requirement_set):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _frozen(obj.requirement_set):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "requirement_set":
            kwargs["queryset"] = RequirementSet.objects.filter(
                published_at__isnull=True
            ).select_related("scheme")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ExpectedProofInline(admin.TabularInline):
    model = ExpectedProof
    fields = ["position", "code", "nature", "text"]
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or not _frozen(obj.requirement.requirement_set)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Scenario)
class ScenarioAdmin(AuditedInlinesMixin, AuditedModelAdmin):
    list_display = ["code", "requirement", "description"]
    list_select_related = ["requirement__requirement_set__scheme"]
    search_fields = ["code", "description", "requirement__code"]
    inlines = [ExpectedProofInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and _frozen(obj.requirement.requirement_set):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _frozen(obj.requirement.requirement_set):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "requirement":
            kwargs["queryset"] = Requirement.objects.filter(
                requirement_set__published_at__isnull=True
            ).select_related("requirement_set__scheme")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(EligibleEstablishment)
class EligibleEstablishmentAdmin(AuditedModelAdmin):
    list_display = ["establishment", "name", "max_amount", "scheme"]
    list_filter = ["scheme"]
    list_select_related = ["scheme"]
    search_fields = ["establishment", "name"]
