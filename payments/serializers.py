from rest_framework import serializers

from core.api import StrictSerializerMixin
from orders.models import PurchaseOrder
from payments.eligibility import REASON_LABELS
from payments.models import (
    EligibilityResult,
    EligibilityRun,
    PaymentBatch,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    Recovery,
)
from payments.services import payment_request_actions, recovery_actions


def _codes(value: str) -> list[str]:
    return [c for c in (value or "").split(",") if c]


class PaymentRequestSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    purchase_order = serializers.PrimaryKeyRelatedField(
        source="order", queryset=PurchaseOrder.objects.all()
    )
    kind = serializers.ChoiceField(choices=PaymentKind.choices)
    reasons = serializers.ListField(
        source="rejection_codes", child=serializers.CharField(), read_only=True
    )
    scheme = serializers.CharField(source="order.scheme.code", read_only=True)
    establishment_name = serializers.CharField(source="order.establishment.name", read_only=True)
    vendor_name = serializers.CharField(source="order.vendor.name", read_only=True)
    on_hold = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = PaymentRequest
        fields = [
            "id",
            "purchase_order",
            "kind",
            "amount",
            "state",
            "reasons",
            "scheme",
            "establishment_name",
            "vendor_name",
            "created_at",
            "approved_at",
            "decided_at",
            "rejected_reason",
            "paid_at",
            "payment_reference",
            "batch",
            "on_hold",
            "actions",
        ]
        read_only_fields = [
            "amount",
            "state",
            "created_at",
            "approved_at",
            "decided_at",
            "rejected_reason",
            "paid_at",
            "payment_reference",
            "batch",
        ]
        validators = []

    def get_on_hold(self, request) -> bool:
        """Approved, but its vendor is not enrolled (or changed its IBAN since): no batch
        carries it until a payment officer enrols the vendor again."""
        vendor = request.order.vendor
        return request.state == PaymentState.APPROVED and (
            vendor.enrolled_at is None or vendor.enrolled_iban != vendor.iban
        )

    def get_actions(self, request) -> list[str]:
        return payment_request_actions(request, self.context["request"].user)


class RejectSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class MarkPaidSerializer(StrictSerializerMixin, serializers.Serializer):
    payment_reference = serializers.CharField(max_length=100)


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    kind = serializers.CharField()
    advance = serializers.DictField()
    balance = serializers.DictField()


class QueueEntrySerializer(serializers.ModelSerializer):
    purchase_order = serializers.UUIDField(source="order_id")
    scheme = serializers.CharField(source="order.scheme.code")
    establishment = serializers.CharField(source="order.establishment.name")
    vendor = serializers.CharField(source="order.vendor.name")
    solution = serializers.CharField(source="order.solution_version.solution.name")
    amount = serializers.DecimalField(source="order.amount", max_digits=12, decimal_places=2)
    state = serializers.CharField(source="order.state")
    advance_reasons = serializers.SerializerMethodField()
    balance_reasons = serializers.SerializerMethodField()

    class Meta:
        model = EligibilityResult
        fields = [
            "purchase_order",
            "scheme",
            "establishment",
            "vendor",
            "solution",
            "amount",
            "state",
            "advance_reasons",
            "balance_reasons",
            "checked_at",
        ]

    def get_advance_reasons(self, result) -> list[str]:
        return _codes(result.advance_reasons)

    def get_balance_reasons(self, result) -> list[str]:
        return _codes(result.balance_reasons)


class EligibilityRunSerializer(serializers.ModelSerializer):
    scheme = serializers.CharField(source="scheme.code")

    class Meta:
        model = EligibilityRun
        fields = [
            "id",
            "scheme",
            "started_at",
            "finished_at",
            "orders",
            "eligible_advance",
            "eligible_balance",
            "triggered_by",
        ]


class EligibilityRunRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    schemes = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, default=list
    )


class PaymentBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentBatch
        fields = ["id", "reference", "total", "count", "created_at"]


class RecoverySerializer(serializers.ModelSerializer):
    purchase_order = serializers.UUIDField(source="purchase_order_id", read_only=True)
    vendor = serializers.UUIDField(source="vendor_id", read_only=True)
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    establishment_name = serializers.CharField(source="establishment.name", read_only=True)
    scheme = serializers.CharField(source="scheme.code", read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Recovery
        fields = [
            "id",
            "purchase_order",
            "vendor",
            "vendor_name",
            "establishment_name",
            "scheme",
            "amount",
            "due_on",
            "state",
            "reason",
            "created_at",
            "recovered_at",
            "payment_reference",
            "written_off_at",
            "write_off_reason",
            "actions",
        ]
        read_only_fields = fields

    def get_actions(self, recovery) -> list[str]:
        return recovery_actions(recovery, self.context["request"].user)


class RecoveredSerializer(StrictSerializerMixin, serializers.Serializer):
    payment_reference = serializers.CharField(max_length=100)


class DeploymentRowSerializer(serializers.Serializer):
    scheme = serializers.CharField()
    category = serializers.CharField()
    sector = serializers.CharField()
    wave = serializers.CharField()
    ordered = serializers.IntegerField()
    installed = serializers.IntegerField()
    installation_rate = serializers.FloatField(allow_null=True)
    with_balance_request = serializers.IntegerField()
    without_balance_request = serializers.IntegerField()
    not_installed = serializers.IntegerField()


REASONS_DOC = REASON_LABELS
