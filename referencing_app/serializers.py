from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Role
from core.api import DeadlineField, StrictSerializerMixin
from referencing_app import selectors
from referencing_app.models import (
    Claim,
    Comment,
    Dossier,
    DossierRevision,
    DossierState,
    Evidence,
    Referencing,
    Statement,
    Verdict,
    VerdictRecord,
    VerdictValue,
)
from sons.models import Scheme
from vendors.models import SolutionVersion


class EvidenceSerializer(serializers.ModelSerializer):
    vendor = serializers.UUIDField(source="vendor_id", read_only=True)

    class Meta:
        model = Evidence
        fields = ["id", "filename", "content_type", "size", "sha256", "vendor", "created_at"]
        read_only_fields = fields


class EvidenceUploadSerializer(StrictSerializerMixin, serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    dossier = serializers.UUIDField(
        required=False, help_text="Applique la limite de taille du dispositif."
    )


def dossier_actions(dossier: Dossier, user) -> list[str]:
    """The actions this user may try now (the UI builds its buttons from it)."""
    state = dossier.state
    actions = []
    if user.role == Role.VENDOR and user.vendor_id == dossier.vendor_id:
        if state in (DossierState.DRAFT, DossierState.CHANGES_REQUESTED):
            actions.append("submit")
        if state in (DossierState.DRAFT, DossierState.SUBMITTED, DossierState.CHANGES_REQUESTED):
            actions.append("withdraw")
    if user.is_ans_admin:
        if state == DossierState.SUBMITTED:
            actions.append("assign")
        if state == DossierState.IN_REVIEW and not selectors.four_eyes_excludes(dossier, user):
            actions += ["approve", "reject"]
    if (
        state == DossierState.IN_REVIEW
        and dossier.reviewer_id == user.pk
        and user.role == Role.REVIEWER
    ):
        actions.append("request-changes")
    return actions


class DossierSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    scheme = serializers.SlugRelatedField(slug_field="code", queryset=Scheme.objects.all())
    solution_version = serializers.PrimaryKeyRelatedField(
        queryset=SolutionVersion.objects.select_related("solution__vendor", "solution__category")
    )
    claimed_profiles = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    charter_accepted = serializers.BooleanField(required=False)
    vendor = serializers.UUIDField(source="vendor_id", read_only=True)
    reviewer = serializers.UUIDField(source="reviewer_id", read_only=True, allow_null=True)
    requirement_set_version = serializers.IntegerField(
        source="requirement_set.version", read_only=True
    )
    reference = serializers.SerializerMethodField()
    solution_name = serializers.CharField(source="solution_version.solution.name", read_only=True)
    version_number = serializers.CharField(source="solution_version.number", read_only=True)
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "id",
            "scheme",
            "solution_version",
            "claimed_profiles",
            "charter_accepted",
            "state",
            "vendor",
            "vendor_name",
            "solution_name",
            "version_number",
            "requirement_set_version",
            "complete",
            "revision",
            "submitted_at",
            "last_submitted_at",
            "complete_deposit_at",
            "reviewer",
            "changes_due_at",
            "decided_at",
            "decision_reason",
            "reference",
            "charter_accepted_at",
            "created_at",
            "actions",
        ]
        read_only_fields = [
            "state",
            "complete",
            "revision",
            "submitted_at",
            "last_submitted_at",
            "complete_deposit_at",
            "changes_due_at",
            "decided_at",
            "decision_reason",
            "charter_accepted_at",
            "created_at",
        ]
        validators = []  # one live dossier per version: the service answers 409

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reference(self, dossier) -> str | None:
        referencing = (
            getattr(dossier, "referencing", None)
            if dossier.state == DossierState.APPROVED
            else None
        )
        return referencing.reference if referencing else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, dossier) -> list[str]:
        return dossier_actions(dossier, self.context["request"].user)


class DossierUpdateSerializer(StrictSerializerMixin, serializers.Serializer):
    claimed_profiles = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    charter_accepted = serializers.BooleanField(required=False)


class EvidenceIdsField(serializers.ListField):
    """Evidence ids in, evidence ids out (the model side is a many-to-many manager)."""

    def to_representation(self, data):
        return [str(evidence.pk) for evidence in data.all()]


class StatementSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    requirement_code = serializers.CharField(source="requirement.code", read_only=True)
    claim = serializers.ChoiceField(choices=Claim.choices)
    justification = serializers.CharField(
        required=False, allow_blank=True, max_length=20000, default=""
    )
    evidence = EvidenceIdsField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )

    class Meta:
        model = Statement
        fields = ["requirement_code", "claim", "justification", "evidence", "updated_at"]
        read_only_fields = ["updated_at"]


class VerdictSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    requirement_code = serializers.CharField(source="requirement.code", read_only=True)
    verdict = serializers.ChoiceField(choices=VerdictValue.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=20000, default="")
    reviewer = serializers.UUIDField(source="reviewer_id", read_only=True)

    class Meta:
        model = Verdict
        fields = ["requirement_code", "verdict", "comment", "reviewer", "revision", "updated_at"]
        read_only_fields = ["revision", "updated_at"]


class VerdictRecordSerializer(serializers.ModelSerializer):
    """One verdict as it was given (the history is append-only; ANS only)."""

    requirement_code = serializers.CharField(source="requirement.code", read_only=True)
    given_by = serializers.UUIDField(source="given_by_id", read_only=True)
    given_by_username = serializers.CharField(source="given_by.username", read_only=True)

    class Meta:
        model = VerdictRecord
        fields = [
            "id",
            "requirement_code",
            "revision",
            "verdict",
            "comment",
            "given_by",
            "given_by_username",
            "given_at",
        ]
        read_only_fields = fields


class ReasonSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")


class RequiredReasonSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class AssignSerializer(StrictSerializerMixin, serializers.Serializer):
    reviewer = serializers.UUIDField()


class RequestChangesSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
    requirements = serializers.ListField(
        child=serializers.CharField(max_length=40), min_length=1, max_length=500
    )


class RevisionSerializer(serializers.ModelSerializer):
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True)
    changes_since_previous = serializers.SerializerMethodField()

    class Meta:
        model = DossierRevision
        fields = [
            "number",
            "created_at",
            "submitted_by",
            "complete",
            "content",
            "changes_since_previous",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField())
    def get_changes_since_previous(self, revision) -> dict:
        return self.context["changes"].get(revision.number, {})


class CommentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    internal = serializers.BooleanField(required=False, default=False)
    requirement_code = serializers.CharField(
        required=False, allow_blank=True, max_length=40, default=""
    )

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "internal", "requirement_code", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class MissingSerializer(serializers.Serializer):
    code = serializers.CharField()
    requirement_code = serializers.CharField()
    detail = serializers.CharField()


class ReferencingSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    scheme = serializers.CharField(source="scheme.code", read_only=True)
    vendor = serializers.UUIDField(source="vendor_id", read_only=True)
    solution_version = serializers.UUIDField(source="solution_version_id", read_only=True)
    dossier = serializers.UUIDField(source="dossier_id", read_only=True)
    valid_until = DeadlineField(required=False, allow_null=True)

    class Meta:
        model = Referencing
        fields = [
            "id",
            "reference",
            "scheme",
            "solution_version",
            "vendor",
            "dossier",
            "state",
            "valid_from",
            "valid_until",
            "state_reason",
        ]
        read_only_fields = ["id", "reference", "state", "valid_from", "state_reason"]


class CatalogueEntrySerializer(serializers.ModelSerializer):
    """One public row of the catalogue and its exports (see `selectors.catalogue_entries`)."""

    scheme = serializers.CharField(source="scheme.code")
    category = serializers.CharField(source="scheme.category.code")
    sector = serializers.CharField(source="scheme.sector.code")
    wave = serializers.CharField(source="scheme.wave.code")
    vendor = serializers.UUIDField(source="vendor_id")
    vendor_name = serializers.CharField(source="vendor.name")
    vendor_siren = serializers.CharField(source="vendor.siren")
    solution = serializers.CharField(source="solution_version.solution.name")
    solution_version = serializers.UUIDField(source="solution_version_id")
    version = serializers.CharField(source="solution_version.number")

    class Meta:
        model = Referencing
        fields = [
            "id",
            "reference",
            "scheme",
            "category",
            "sector",
            "wave",
            "vendor",
            "vendor_name",
            "vendor_siren",
            "solution",
            "solution_version",
            "version",
            "state",
            "valid_from",
            "valid_until",
        ]
        read_only_fields = fields

    def to_representation(self, entry: dict) -> dict:
        """A row of `selectors.catalogue_entries`, written out directly: the catalogue is the
        busiest public page, and field-by-field serialisation was most of its cost. The fields
        above still describe it (OpenAPI schema, data dictionary)."""
        zone = timezone.get_current_timezone()
        return {
            "id": str(entry["id"]),
            "reference": entry["reference"],
            "scheme": entry["scheme"],
            "category": entry["category"],
            "sector": entry["sector"],
            "wave": entry["wave"],
            "vendor": str(entry["vendor"]),
            "vendor_name": entry["vendor_name"],
            "vendor_siren": entry["vendor_siren"],
            "solution": entry["solution"],
            "solution_version": str(entry["solution_version"]),
            "version": entry["version"],
            "state": entry["state"],
            "valid_from": _instant(entry["valid_from"], zone),
            "valid_until": _instant(entry["valid_until"], zone),
        }


def _instant(value, zone):
    """As DRF's DateTimeField renders it (ISO 8601 in the current time zone, `Z` for UTC),
    without building the field."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
