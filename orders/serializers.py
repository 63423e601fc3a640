from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Role
from core import identifiers
from core.api import StrictSerializerMixin
from orders.models import Establishment, EstablishmentKind, OrderState, PurchaseOrder, Reservation
from orders.services import cancel_refusal
from sons.models import Scheme
from vendors.models import SolutionVersion


class EstablishmentSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=EstablishmentKind.choices)

    class Meta:
        model = Establishment
        fields = ["id", "finess", "rpps", "name", "kind", "siret"]
        validators = []  # uniqueness and identifiers are checked by the service (model full_clean)

    # the field validators check the identifiers; store them in their normal form too (a Corsican
    # FINESS in upper case), so that uniqueness and the eligible base match whatever was typed
    def validate_finess(self, value: str) -> str:
        return identifiers.validate_finess(value) if value else value

    def validate_rpps(self, value: str) -> str:
        return identifiers.validate_rpps(value) if value else value

    def validate_siret(self, value: str) -> str:
        return identifiers.validate_siret(value) if value else value


class ReservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reservation
        fields = ["id", "text", "created_at", "lifted_at"]
        read_only_fields = fields


def order_actions(order: PurchaseOrder, user) -> list[str]:
    state = order.state
    actions = []
    if user.role == Role.VENDOR and user.vendor_id == order.vendor_id:
        actions += {
            OrderState.DRAFT: ["send"],
            OrderState.SIGNED: ["declare-installation"],
            OrderState.RESERVED: ["lift-reservations"],
        }.get(state, [])
    if user.role == Role.ESTABLISHMENT and user.establishment_id == order.establishment_id:
        signatory = user.signatory
        if state == OrderState.SENT:
            actions += (["sign"] if signatory else []) + ["decline"]
        if state == OrderState.INSTALLATION_DECLARED and signatory:
            actions += ["confirm-installation", "reserve"]
        if state == OrderState.RESERVED and signatory:
            actions.append("confirm-installation")
    if cancel_refusal(order, user) is None:
        actions.append("cancel")
    return actions


class PurchaseOrderSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    establishment = serializers.PrimaryKeyRelatedField(queryset=Establishment.objects.all())
    scheme = serializers.SlugRelatedField(
        slug_field="code", queryset=Scheme.objects.select_related("category")
    )
    solution_version = serializers.PrimaryKeyRelatedField(
        queryset=SolutionVersion.objects.select_related("solution")
    )
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    referencing = serializers.UUIDField(source="referencing_id", read_only=True, allow_null=True)
    vendor = serializers.UUIDField(source="vendor_id", read_only=True)
    establishment_name = serializers.CharField(source="establishment.name", read_only=True)
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    solution_name = serializers.CharField(source="solution_version.solution.name", read_only=True)
    reservations = ReservationSerializer(many=True, read_only=True)
    installed_version = serializers.UUIDField(
        source="installed_version_id", read_only=True, allow_null=True
    )
    acceptance_report = serializers.UUIDField(
        source="acceptance_report_id", read_only=True, allow_null=True
    )
    actions = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "establishment",
            "establishment_name",
            "scheme",
            "solution_version",
            "solution_name",
            "vendor",
            "vendor_name",
            "amount",
            "state",
            "referencing",
            "sent_at",
            "signed_at",
            "declared_at",
            "installed_on",
            "installed_version",
            "acceptance_report",
            "accepted_at",
            "tacit_acceptance",
            "funded_at",
            "reservations",
            "end_reason",
            "created_at",
            "actions",
        ]
        read_only_fields = [
            "state",
            "sent_at",
            "signed_at",
            "declared_at",
            "installed_on",
            "accepted_at",
            "tacit_acceptance",
            "funded_at",
            "end_reason",
            "created_at",
        ]
        validators = []

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, order) -> list[str]:
        return order_actions(order, self.context["request"].user)


class OrderReasonSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class DeclareInstallationSerializer(StrictSerializerMixin, serializers.Serializer):
    installed_on = serializers.DateField()
    version = serializers.UUIDField()
    report = serializers.UUIDField()


class ReserveSerializer(StrictSerializerMixin, serializers.Serializer):
    reservations = serializers.ListField(
        child=serializers.CharField(max_length=2000), min_length=1, max_length=50
    )


class EstablishmentImportSerializer(StrictSerializerMixin, serializers.Serializer):
    file = serializers.FileField(use_url=False)
