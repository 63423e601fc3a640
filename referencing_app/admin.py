"""Read-only admin views: every change of a dossier or referencing goes through its service
(permission, audit, notification), so the admin shows and never edits."""

from django.contrib import admin

from referencing_app.models import (
    ChangeRequest,
    Comment,
    Dossier,
    DossierRevision,
    Evidence,
    Referencing,
    Statement,
    Verdict,
    VerdictRecord,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StatementInline(ReadOnlyInline):
    model = Statement
    fields = ["requirement", "claim", "justification"]


class VerdictInline(ReadOnlyInline):
    model = Verdict
    fields = ["requirement", "verdict", "comment", "reviewer", "revision"]


class VerdictRecordInline(ReadOnlyInline):
    model = VerdictRecord
    fields = ["given_at", "requirement", "revision", "verdict", "comment", "given_by"]
    readonly_fields = fields
    verbose_name_plural = "historique des avis"


class ChangeRequestInline(ReadOnlyInline):
    model = ChangeRequest
    fields = ["created_at", "requested_by", "reason", "requirement_codes", "due_at", "answered_at"]
    readonly_fields = ["created_at"]


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ["created_at", "author", "internal", "requirement_code", "body"]
    readonly_fields = ["created_at"]


@admin.register(Dossier)
class DossierAdmin(ReadOnlyAdmin):
    list_display = [
        "scheme",
        "solution_version",
        "vendor",
        "state",
        "complete",
        "revision",
        "last_submitted_at",
        "reviewer",
    ]
    list_filter = ["state", "complete", "scheme__wave", "scheme__category"]
    list_select_related = ["scheme", "solution_version__solution", "vendor", "reviewer"]
    search_fields = ["vendor__name", "solution_version__solution__name", "scheme__code"]
    inlines = [
        StatementInline,
        VerdictInline,
        VerdictRecordInline,
        ChangeRequestInline,
        CommentInline,
    ]


@admin.register(Referencing)
class ReferencingAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "scheme",
        "vendor",
        "solution_version",
        "state",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["state", "scheme__wave", "scheme__category"]
    list_select_related = ["scheme", "vendor", "solution_version__solution"]
    search_fields = ["reference", "vendor__name", "solution_version__solution__name"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["filename", "vendor", "content_type", "size", "sha256", "created_at"]
    list_select_related = ["vendor"]
    search_fields = ["filename", "sha256", "vendor__name"]
    exclude = ["file"]  # private: served only by the permission-checked API view


@admin.register(DossierRevision)
class DossierRevisionAdmin(ReadOnlyAdmin):
    list_display = ["dossier", "number", "complete", "submitted_by", "created_at"]
    list_select_related = ["dossier__scheme", "dossier__solution_version__solution", "submitted_by"]
