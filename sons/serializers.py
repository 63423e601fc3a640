"""Input and output shapes of the programme API (api.md). No logic: services decide."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import DeadlineField, StrictSerializerMixin
from core.timeutils import start_of_day_paris
from sons.models import (
    Category,
    EligibleEstablishment,
    Nature,
    Requirement,
    RequirementSet,
    Scheme,
    Sector,
    Wave,
)
from sons.validators import establishment_identifier, validate_requirement_code

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,60}")
MAX_EVIDENCE_BYTES = 2 * 1024 * 1024 * 1024


class OpeningField(DeadlineField):
    """An instant with offset, or a plain date meaning the START of that day in Europe/Paris
    (a window that "opens on 1 April" opens at 00:00 Paris)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
            try:
                return start_of_day_paris(dt.date.fromisoformat(value.strip()))
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class CodeRelatedField(serializers.SlugRelatedField):
    """A related object given by its code. Values that cannot be a code never reach the
    database (PostgreSQL refuses NUL characters with an error, not a miss)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not _CODE.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data[:50])
        return super().to_internal_value(data)


# --- waves, sectors, categories ------------------------------------------------------------------
class WaveSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Wave
        fields = ["id", "code", "name"]


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["id", "code", "name"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "sector"]
        read_only_fields = fields


# --- schemes -------------------------------------------------------------------------------------
class SchemeSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    wave = CodeRelatedField(slug_field="code", queryset=Wave.objects.all())
    category = CodeRelatedField(slug_field="code", queryset=Category.objects.all())
    sector = CodeRelatedField(
        slug_field="code",
        queryset=Sector.objects.all(),
        required=False,
        help_text=_("Par défaut, le couloir du type de logiciel."),
    )
    submission_opens = OpeningField(
        help_text=_("Instant avec décalage, ou date seule (début de ce jour, heure de Paris).")
    )
    submission_closes = DeadlineField(
        help_text=_("Instant avec décalage, ou date seule (fin de ce jour, heure de Paris).")
    )
    order_deadline = DeadlineField(
        help_text=_("Instant avec décalage, ou date seule (fin de ce jour, heure de Paris).")
    )
    installation_deadline = DeadlineField(
        help_text=_("Instant avec décalage, ou date seule (fin de ce jour, heure de Paris).")
    )
    payment_deadline = DeadlineField(
        help_text=_("Instant avec décalage, ou date seule (fin de ce jour, heure de Paris).")
    )
    price_cap = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    advance_rate = serializers.DecimalField(
        max_digits=3, decimal_places=2, min_value=0, max_value=1, required=False
    )
    changes_due_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    pre_referencing_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    tacit_acceptance_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True
    )
    evidence_max_bytes = serializers.IntegerField(
        min_value=1024, max_value=MAX_EVIDENCE_BYTES, required=False
    )
    current_requirement_set_version = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=_("Dernière version publiée du référentiel d'exigences (null : aucune)."),
    )

    class Meta:
        model = Scheme
        fields = [
            "id",
            "code",
            "name",
            "wave",
            "sector",
            "category",
            "submission_opens",
            "submission_closes",
            "order_deadline",
            "installation_deadline",
            "payment_deadline",
            "price_cap",
            "advance_rate",
            "changes_due_days",
            "pre_referencing_days",
            "tacit_acceptance_days",
            "acceptance",
            "uses_eligible_base",
            "allows_incomplete_submission",
            "evidence_max_bytes",
            "current_requirement_set_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


# --- requirements --------------------------------------------------------------------------------
class ExpectedProofSerializer(StrictSerializerMixin, serializers.Serializer):
    code = serializers.CharField(max_length=60, validators=[validate_requirement_code])
    nature = serializers.CharField(max_length=100)
    text = serializers.CharField()


class ScenarioSerializer(StrictSerializerMixin, serializers.Serializer):
    code = serializers.CharField(max_length=50, validators=[validate_requirement_code])
    description = serializers.CharField()
    proofs = ExpectedProofSerializer(many=True, required=False)


class RequirementSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    code = serializers.CharField(max_length=40, validators=[validate_requirement_code])
    nature = serializers.ChoiceField(choices=Nature.choices, required=False)
    profile = serializers.CharField(
        max_length=60,
        required=False,
        help_text=_("« general » (toujours applicable) ou le nom d'un profil (ex. « ville »)."),
    )
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    scenarios = ScenarioSerializer(
        many=True,
        required=False,
        help_text=_("Remplacés en bloc à chaque écriture qui les fournit."),
    )
    version = serializers.IntegerField(source="requirement_set.version", read_only=True)

    class Meta:
        model = Requirement
        fields = [
            "id",
            "code",
            "section",
            "title",
            "statement",
            "nature",
            "profile",
            "evidence_required",
            "position",
            "scenarios",
            "version",
        ]


class RequirementSetSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(help_text=_("« draft » ou « published »."))
    requirements_count = serializers.IntegerField(read_only=True)
    mandatory_count = serializers.IntegerField(read_only=True)
    recommended_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = RequirementSet
        fields = [
            "id",
            "version",
            "state",
            "published_at",
            "notes",
            "requirements_count",
            "mandatory_count",
            "recommended_count",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_state(self, obj: RequirementSet) -> str:
        return "published" if obj.is_published else "draft"


class PublishSerializer(StrictSerializerMixin, serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


# --- eligible base -------------------------------------------------------------------------------
class EligibleEstablishmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    establishment = serializers.CharField(
        max_length=30, help_text=_("FINESS (9 caractères), RPPS (11 chiffres) ou SIRET (14).")
    )
    max_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        required=False,
        help_text=_("Plafond propre à l'établissement (€ HT) ; null : le plafond du dispositif."),
    )

    class Meta:
        model = EligibleEstablishment
        fields = ["id", "establishment", "name", "max_amount", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_establishment(self, value: str) -> str:
        try:
            return establishment_identifier(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code=exc.code) from exc


class EligibleUploadSerializer(StrictSerializerMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text=_(
            "CSV UTF-8 (BOM admis), séparateur « ; » ou « , », colonnes establishment, "
            "max_amount et, facultative, name."
        )
    )


class ImportLineErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)
    value = serializers.CharField()


class EligibleImportReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text=_("Nombre de lignes refusées."))
    errors = ImportLineErrorSerializer(many=True)
