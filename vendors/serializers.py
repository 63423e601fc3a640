"""Shapes of the vendors API. Input is parsed here; identifiers are normalised and validated by
the services (so that "732 829 320" is accepted and stored as "732829320")."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from core.api import StrictSerializerMixin
from sons.models import Category
from vendors import selectors
from vendors.models import Solution, SolutionVersion, Vendor
from vendors.services import mask_iban


class VendorSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    # Generous lengths: spaces and dots are allowed in input and removed by the service.
    name = serializers.CharField(max_length=300)
    siren = serializers.CharField(max_length=30, help_text=_("9 chiffres, clé de Luhn."))
    siret = serializers.CharField(
        max_length=40, help_text=_("14 chiffres, clé de Luhn ; commence par le SIREN.")
    )
    nie = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=_("Numéro d'éditeur CNDA (NIE) : 3 à 20 lettres ou chiffres."),
    )
    iban = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text=_(
            "En clair pour les administrateurs ANS, les agents payeurs et les membres de "
            "l'éditeur ; masqué (****1234) pour les autres lecteurs."
        ),
    )

    class Meta:
        model = Vendor
        fields = ["id", "siren", "siret", "name", "nie", "iban", "enrolled_at"]
        read_only_fields = ["id", "enrolled_at"]
        validators = []  # uniqueness is checked by the services, after normalisation

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not selectors.can_read_iban(user, instance):
            data["iban"] = mask_iban(instance.iban)
        return data


class VendorMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "signatory", "is_active"]
        read_only_fields = fields


class SolutionSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        help_text=_("Code du type de logiciel : DPI, RI, PFI, LGC, SIR, SGL, LGO, MSS."),
    )
    name = serializers.CharField(max_length=300)
    vendor = serializers.UUIDField(
        source="vendor_id",
        read_only=True,
        help_text=_("L'éditeur de l'utilisateur qui crée le logiciel."),
    )
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)

    class Meta:
        model = Solution
        fields = ["id", "name", "category", "vendor", "vendor_name", "created_at"]
        read_only_fields = ["id", "vendor", "vendor_name", "created_at"]
        validators = []  # uniqueness is checked by the services


class SolutionVersionSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    number = serializers.CharField(max_length=50)
    released_on = serializers.DateField(required=False, allow_null=True)
    solution = serializers.UUIDField(source="solution_id", read_only=True)

    class Meta:
        model = SolutionVersion
        fields = ["id", "solution", "number", "released_on", "created_at"]
        read_only_fields = ["id", "solution", "created_at"]
        validators = []  # uniqueness is checked by the services
