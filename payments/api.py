"""HTTP API of the payments app."""

import django_filters
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from core.permissions import roles
from core.serializers import JobSerializer
from orders import selectors as order_selectors
from payments import eligibility, selectors, services
from payments.models import (
    EligibilityRun,
    PaymentBatch,
    PaymentKind,
    PaymentRequest,
    PaymentState,
    Recovery,
    RecoveryState,
)
from payments.serializers import (
    DeploymentRowSerializer,
    EligibilityRunRequestSerializer,
    EligibilityRunSerializer,
    EligibilitySerializer,
    MarkPaidSerializer,
    PaymentBatchSerializer,
    PaymentRequestSerializer,
    QueueEntrySerializer,
    RecoveredSerializer,
    RecoverySerializer,
    RejectSerializer,
)
from vendors.models import Vendor
from vendors.selectors import vendor_list_for_user
from vendors.serializers import VendorSerializer

OFFICERS = ("payment_officer",)
ANS_AND_OFFICERS = ("ans_admin", "reviewer", "payment_officer")


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PaymentRequestFilter(django_filters.FilterSet):
    purchase_order = django_filters.UUIDFilter(field_name="order_id")
    state = django_filters.MultipleChoiceFilter(choices=PaymentState.choices, distinct=False)
    kind = django_filters.ChoiceFilter(choices=PaymentKind.choices)

    class Meta:
        model = PaymentRequest
        fields = ["purchase_order", "state", "kind"]


class PaymentRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Advance and balance requests. Creation accepts an `Idempotency-Key` header."""

    serializer_class = PaymentRequestSerializer
    queryset = PaymentRequest.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [
        roles(read=("ans_admin", "payment_officer"), write=("vendor", "payment_officer"))
    ]
    filterset_class = PaymentRequestFilter

    def get_queryset(self):
        return selectors.payment_request_list_for_user(self.request.user).order_by(
            "-created_at", "id"
        )

    def get_object(self):
        return selectors.payment_request_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = serializer.validated_data["order"]
        order_selectors.order_get_for_user(request.user, order.pk)  # not theirs: 404
        payment_request, created = services.payment_request_create(
            actor=request.user,
            order=order,
            kind=serializer.validated_data["kind"],
            idempotency_key=(request.headers.get("Idempotency-Key") or "").strip()[:200] or None,
        )
        return Response(
            self.get_serializer(payment_request).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses=PaymentRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        payment_request = services.payment_request_approve(
            actor=request.user, request=self.get_object()
        )
        return Response(self.get_serializer(payment_request).data)

    @extend_schema(request=RejectSerializer, responses=PaymentRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        payment_request = self.get_object()
        reason = _validated(RejectSerializer, request.data)["reason"]
        payment_request = services.payment_request_reject(
            actor=request.user, request=payment_request, reason=reason
        )
        return Response(self.get_serializer(payment_request).data)

    @extend_schema(request=MarkPaidSerializer, responses=PaymentRequestSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        payment_request = self.get_object()
        reference = _validated(MarkPaidSerializer, request.data)["payment_reference"]
        payment_request = services.payment_request_mark_paid(
            actor=request.user, request=payment_request, payment_reference=reference
        )
        return Response(self.get_serializer(payment_request).data)


class EligibilityView(APIView):
    """`purchase-orders/{id}/eligibility/`: is the order payable now, and if not, why."""

    permission_classes = [
        roles(read=("ans_admin", "reviewer", "payment_officer", "vendor", "establishment"))
    ]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                enum=PaymentKind.values,
                description=(
                    "advance ou balance ; par défaut l'avance tant que la commande n'est pas "
                    "installée, puis le solde."
                ),
            )
        ],
        responses=EligibilitySerializer,
    )
    def get(self, request, pk):
        order = order_selectors.order_get_for_user(request.user, pk)
        kind = request.query_params.get("kind")
        if kind is not None and kind not in PaymentKind.values:
            raise InvalidInput(
                "invalid_choice", _("Type de demande inconnu (advance ou balance)."), "kind"
            )
        result = eligibility.order_reasons(order.pk)
        kind = kind or (PaymentKind.BALANCE if order.state == "installed" else PaymentKind.ADVANCE)
        reasons = result.for_kind(kind)
        return Response(
            {
                "eligible": not reasons,
                "reasons": reasons,
                "kind": kind,
                "advance": {"eligible": not result.advance, "reasons": result.advance},
                "balance": {"eligible": not result.balance, "reasons": result.balance},
            }
        )


class EnrolView(APIView):
    """`vendors/{id}/enrol/`: the paying agency registers the vendor (IBAN + active referencing)."""

    permission_classes = [roles(write=OFFICERS)]

    @extend_schema(request=None, responses={200: VendorSerializer})
    def post(self, request, pk):
        try:
            vendor = vendor_list_for_user(request.user).get(pk=pk)
        except (Vendor.DoesNotExist, ValueError) as exc:
            raise NotFound() from exc
        vendor = services.vendor_enrol(actor=request.user, vendor=vendor)
        # as every action: the updated object
        return Response(VendorSerializer(vendor, context={"request": request}).data)


QUEUE_FILTERS = ("kind", "eligible", "reason")


class QueueFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(PaymentKind.values, required=False, allow_blank=True)
    eligible = serializers.ChoiceField(["true", "false"], required=False, allow_blank=True)
    reason = serializers.ChoiceField(eligibility.REASON_CODES, required=False, allow_blank=True)


class PaymentQueueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Orders as of the last eligibility check: eligible ones, and the reasons of the others.
    Filters: `scheme`, `kind` (advance|balance, default balance), `eligible` (true|false), `reason`."""

    serializer_class = QueueEntrySerializer
    permission_classes = [roles(read=("ans_admin", "payment_officer"))]
    filter_backends = []

    def get_queryset(self):
        # a filter value that means nothing is refused (400), not ignored: a typo must not
        # change what is read
        params = self.request.query_params
        data = _validated(
            QueueFilterSerializer, {k: params[k] for k in QUEUE_FILTERS if k in params}
        )
        return selectors.payment_queue(
            scheme=params.get("scheme", "")[:30],
            kind=data.get("kind") or PaymentKind.BALANCE,
            eligible={"true": True, "false": False}.get(data.get("eligible", "")),
            reason=data.get("reason", ""),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("scheme", str),
            OpenApiParameter("kind", str, enum=PaymentKind.values),
            OpenApiParameter("eligible", bool),
            OpenApiParameter("reason", str, enum=eligibility.REASON_CODES),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def reasons(self, request):
        """The reason codes and their French labels."""
        return Response(eligibility.REASON_LABELS)


class EligibilityRunViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Runs of the eligibility batch; POST starts one (all schemes, or those listed)."""

    serializer_class = EligibilityRunSerializer
    permission_classes = [roles(read=ANS_AND_OFFICERS, write=("ans_admin", "payment_officer"))]
    queryset = EligibilityRun.objects.select_related("scheme").order_by("-started_at")

    @extend_schema(request=EligibilityRunRequestSerializer, responses={202: JobSerializer})
    def create(self, request):
        """Recorded as a job and answered at once (202): a worker runs it, even when the broker
        is down at the time (the periodic pickup); `job` and `task` are the job's id."""
        schemes = _validated(EligibilityRunRequestSerializer, request.data)["schemes"]
        job = services.eligibility_check_launch(
            actor=request.user,
            scheme_codes=schemes,
            triggered_by=f"api:{request.user.get_username()}",
        )
        body = {**JobSerializer(job).data, "task": str(job.pk)}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class PaymentBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Payment batches: every approved request not yet batched; CSV and SEPA XML exports."""

    serializer_class = PaymentBatchSerializer
    permission_classes = [roles(read=("ans_admin", "payment_officer"), write=OFFICERS)]
    queryset = PaymentBatch.objects.order_by("-created_at")

    @extend_schema(request=None, responses={201: PaymentBatchSerializer})
    def create(self, request):
        batch = services.payment_batch_create(actor=request.user)
        return Response(PaymentBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=True, methods=["get"], url_path="export.csv")
    def export_csv(self, request, pk=None):
        from payments.exports import batch_csv

        batch = self.get_object()
        response = HttpResponse(batch_csv(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.csv"'
        return response

    @extend_schema(responses={(200, "application/xml"): str})
    @action(detail=True, methods=["get"], url_path="export.xml")
    def export_xml(self, request, pk=None):
        from payments.exports import batch_sepa_xml

        batch = self.get_object()
        response = HttpResponse(batch_sepa_xml(batch), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.xml"'
        return response


class RecoveryFilter(django_filters.FilterSet):
    vendor = django_filters.UUIDFilter(field_name="vendor_id")
    purchase_order = django_filters.UUIDFilter(field_name="purchase_order_id")
    state = django_filters.MultipleChoiceFilter(choices=RecoveryState.choices, distinct=False)

    class Meta:
        model = Recovery
        fields = ["vendor", "purchase_order", "state"]


class RecoveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Recovery orders (*ordres de recouvrement*): opened when an ANS admin or a payment officer
    cancels an order on which money was paid. Read by ANS, the paying agency and the vendor
    concerned; settled by a payment officer."""

    serializer_class = RecoverySerializer
    queryset = Recovery.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [roles(read=("ans_admin", "reviewer", "vendor"), write=OFFICERS)]
    filterset_class = RecoveryFilter

    def get_queryset(self):
        return selectors.recovery_list_for_user(self.request.user).order_by("-created_at", "id")

    def get_object(self):
        return selectors.recovery_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(request=RecoveredSerializer, responses=RecoverySerializer)
    @action(detail=True, methods=["post"], url_path="mark-recovered")
    def mark_recovered(self, request, pk=None):
        recovery = self.get_object()
        reference = _validated(RecoveredSerializer, request.data)["payment_reference"]
        recovery = services.recovery_mark_recovered(
            actor=request.user, recovery=recovery, payment_reference=reference
        )
        return Response(self.get_serializer(recovery).data)

    @extend_schema(request=RejectSerializer, responses=RecoverySerializer)
    @action(detail=True, methods=["post"], url_path="write-off")
    def write_off(self, request, pk=None):
        recovery = self.get_object()
        reason = _validated(RejectSerializer, request.data)["reason"]
        recovery = services.recovery_write_off(actor=request.user, recovery=recovery, reason=reason)
        return Response(self.get_serializer(recovery).data)


class DeploymentStatsView(APIView):
    """`stats/deployment/`: per scheme — ordered, installed, installation rate, installed with and
    without balance request, not installed — and roll-ups per category and sector."""

    permission_classes = [roles(read=ANS_AND_OFFICERS)]

    @extend_schema(responses=DeploymentRowSerializer(many=True))
    def get(self, request):
        rows = selectors.deployment_rows()
        group = request.query_params.get("by")
        if group in ("category", "sector"):
            return Response(selectors.roll_up(rows, group))
        return Response(rows)
