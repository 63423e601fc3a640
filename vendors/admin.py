"""Django admin of vendors, solutions and versions, for ANS admins. Every save is audited:
vendors through their services (core.admin.ServiceModelAdmin), solutions and versions by
core.admin.AuditedModelAdmin, inline rows one by one by `save_formset` below."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import identifiers
from core.admin import AuditedModelAdmin, ServiceModelAdmin
from core.audit import audit_record
from vendors.models import Solution, SolutionVersion, Vendor
from vendors.services import VENDOR_EDITABLE_FIELDS, mask_iban, vendor_create, vendor_update


class InlineAuditMixin:
    """Inline rows (solutions of a vendor, versions of a solution) are audited one by one."""

    def save_formset(self, request, form, formset, change):
        forms_by_instance = {id(f.instance): f for f in formset.forms}
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit_record(
                actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj, reason="admin"
            )
            obj.delete()
        for obj in instances:
            created = obj._state.adding
            row = forms_by_instance.get(id(obj))
            obj.save()
            changes = {}
            for name in row.changed_data if row is not None else []:
                before = None if created else row.initial.get(name)
                after = row.cleaned_data.get(name)
                after = getattr(after, "pk", after)  # a related object by its id, like `initial`
                changes[name] = [
                    str(before) if before is not None else None,
                    str(after) if after is not None else None,
                ]
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'create' if created else 'update'}",
                obj=obj,
                changes=changes,
                reason="admin",
            )
        formset.save_m2m()


class VendorAdminForm(forms.ModelForm):
    """Identifiers normalised (spaces out) and checked together, as the API does."""

    # Wider than the stored values: "732 829 320" is accepted and stored as "732829320".
    siren = forms.CharField(label=_("SIREN"), max_length=30)
    siret = forms.CharField(label=_("SIRET"), max_length=40)
    nie = forms.CharField(label=_("numéro d'éditeur CNDA (NIE)"), max_length=40, required=False)
    iban = forms.CharField(label=_("IBAN"), max_length=60, required=False)

    class Meta:
        model = Vendor
        fields = ["name", "siren", "siret", "nie", "iban"]

    def _field(self, name, validate, *, optional=False):
        value = self.cleaned_data.get(name, "")
        if optional and not str(value or "").strip():
            return ""
        return validate(value)

    def clean_siren(self):
        return self._field("siren", identifiers.validate_siren)

    def clean_siret(self):
        return self._field("siret", identifiers.validate_siret)

    def clean_nie(self):
        return self._field("nie", identifiers.validate_nie, optional=True)

    def clean_iban(self):
        return self._field("iban", identifiers.validate_iban, optional=True)

    def clean(self):
        cleaned = super().clean()
        siren, siret = cleaned.get("siren"), cleaned.get("siret")
        if siren and siret:
            try:
                identifiers.validate_siret_of_siren(siret, siren)
            except ValidationError as exc:
                self.add_error("siret", exc)
        return cleaned


class SolutionInline(admin.TabularInline):
    model = Solution
    fields = ["name", "category"]
    extra = 0
    show_change_link = True


class SolutionVersionInline(admin.TabularInline):
    model = SolutionVersion
    fields = ["number", "released_on"]
    extra = 0


@admin.register(Vendor)
class VendorAdmin(InlineAuditMixin, ServiceModelAdmin):
    """Saved through `vendor_create` / `vendor_update`: identifiers checked and normalised, the
    IBAN masked in the audit, a new IBAN voiding the enrolment with the paying agency."""

    form = VendorAdminForm
    list_display = ["name", "siren", "siret", "nie", "iban_masked", "enrolled_at"]
    search_fields = ["name", "siren", "siret", "nie"]
    list_filter = [("enrolled_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["enrolled_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "siren", "siret", "nie"]}),
        (_("Paiement"), {"fields": ["iban", "enrolled_at"]}),
        (_("Suivi"), {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [SolutionInline]

    @admin.display(description=_("IBAN"))
    def iban_masked(self, obj):
        return mask_iban(obj.iban)

    def service_create(self, request, form):
        fields = {name: form.cleaned_data.get(name, "") for name in VENDOR_EDITABLE_FIELDS}
        return vendor_create(actor=request.user, **fields)

    def service_update(self, request, obj, form):
        return vendor_update(
            actor=request.user, vendor=obj, **self.changed_values(form, VENDOR_EDITABLE_FIELDS)
        )


@admin.register(Solution)
class SolutionAdmin(InlineAuditMixin, AuditedModelAdmin):
    list_display = ["name", "vendor", "category", "created_at"]
    list_select_related = ["vendor", "category"]
    list_filter = ["category"]
    search_fields = ["name", "vendor__name", "vendor__siren"]
    autocomplete_fields = ["vendor"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [SolutionVersionInline]


@admin.register(SolutionVersion)
class SolutionVersionAdmin(AuditedModelAdmin):
    list_display = ["number", "solution", "vendor_name", "released_on", "created_at"]
    list_select_related = ["solution", "solution__vendor"]
    list_filter = ["solution__category"]
    search_fields = ["number", "solution__name", "solution__vendor__name"]
    autocomplete_fields = ["solution"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("éditeur"), ordering="solution__vendor__name")
    def vendor_name(self, obj):
        return obj.solution.vendor.name
