"""HTTP API of the orders app: parse, call one service, render."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.errors import FileTooLarge, InvalidInput
from core.files import ACCEPTED_TYPES, private_file_response
from core.outbox import job_enqueue, job_response
from core.permissions import roles
from core.serializers import JobSerializer
from orders import selectors, services
from orders.jobs import IMPORT_ESTABLISHMENTS
from orders.models import Establishment, OrderState, PurchaseOrder
from orders.serializers import (
    DeclareInstallationSerializer,
    EstablishmentImportSerializer,
    EstablishmentSerializer,
    OrderReasonSerializer,
    PurchaseOrderSerializer,
    ReserveSerializer,
)
from referencing_app.models import Evidence
from vendors.models import SolutionVersion

IMPORT_MAX_BYTES = 50 * 1024 * 1024
ALL = ("ans_admin", "reviewer", "payment_officer", "vendor", "establishment")


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EstablishmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Establishments (customers), managed by ANS admins; CSV bulk import at `import/`."""

    serializer_class = EstablishmentSerializer
    queryset = Establishment.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [
        roles(read=("reviewer", "payment_officer", "vendor", "establishment"), write=("ans_admin",))
    ]
    filterset_fields = ["kind", "finess", "rpps"]

    def get_queryset(self):
        return selectors.establishment_list_for_user(self.request.user).order_by("name", "id")

    def get_object(self):
        return selectors.establishment_get_for_user(self.request.user, self.kwargs["pk"])

    def perform_create(self, serializer):
        serializer.instance = services.establishment_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.establishment_update(
            actor=self.request.user, establishment=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request={"multipart/form-data": EstablishmentImportSerializer},
        responses={200: dict, 202: JobSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request):
        """CSV (`finess;rpps;name;kind;siret`): good rows imported, bad rows reported by line."""
        upload = _validated(EstablishmentImportSerializer, request.data)["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise FileTooLarge("file_too_large", "Fichier trop volumineux (50 Mo au plus).", "file")
        # recorded first (docs/decisions/0014): answered with the report when it ran at once
        # (eager), else 202 with the job to follow at `jobs/{id}/`
        return job_response(
            job_enqueue(kind=IMPORT_ESTABLISHMENTS, actor=request.user, payload=upload.read())
        )


class PurchaseOrderFilter(django_filters.FilterSet):
    scheme = django_filters.CharFilter(field_name="scheme__code")
    state = django_filters.MultipleChoiceFilter(choices=OrderState.choices, distinct=False)
    establishment = django_filters.UUIDFilter(field_name="establishment_id")
    vendor = django_filters.UUIDFilter(field_name="vendor_id")

    class Meta:
        model = PurchaseOrder
        fields = ["scheme", "state", "establishment", "vendor"]


class PurchaseOrderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Purchase orders: drafted and sent by the vendor, signed by the establishment's signatory,
    installed by the vendor, accepted (or reserved) by the establishment."""

    serializer_class = PurchaseOrderSerializer
    queryset = PurchaseOrder.objects.none()  # for the schema; get_queryset() decides
    # ANS admins and payment officers write only `cancel/` (a funded order: recovery)
    permission_classes = [
        roles(read=ALL, write=("vendor", "establishment", "ans_admin", "payment_officer"))
    ]
    filterset_class = PurchaseOrderFilter

    def get_queryset(self):
        qs = selectors.order_list_for_user(self.request.user).order_by("-created_at", "id")
        if self.action == "list":
            # of the joined rows, only what a list shows (a scheme row alone carries a dozen
            # instants to parse): a third less Python per page
            qs = qs.only(
                *(field.name for field in PurchaseOrder._meta.concrete_fields),
                "establishment__name",
                "vendor__name",
                "scheme__code",
            )
        return qs

    def get_object(self) -> PurchaseOrder:
        return selectors.order_get_for_user(self.request.user, self.kwargs["pk"])

    def _render(self, order, code=status.HTTP_200_OK):
        return Response(
            self.get_serializer(selectors.order_queryset().get(pk=order.pk)).data, status=code
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.purchase_order_create(
            actor=request.user,
            establishment=data["establishment"],
            scheme=data["scheme"],
            solution_version=data["solution_version"],
            amount=data["amount"],
        )
        return self._render(order, status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, *ACCEPTED_TYPES): OpenApiTypes.BINARY},
        description="The installation's acceptance report (the file), for whoever may see "
        "the order; 404 when it has none.",
    )
    @action(detail=True, methods=["get"], url_path="acceptance-report")
    def acceptance_report(self, request, pk=None):
        report = selectors.acceptance_report_for_user(request.user, pk)
        return private_file_response(report)

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return self._render(
            services.purchase_order_send(actor=request.user, order=self.get_object())
        )

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        return self._render(
            services.purchase_order_sign(actor=request.user, order=self.get_object())
        )

    @extend_schema(request=OrderReasonSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        order = self.get_object()
        reason = _validated(OrderReasonSerializer, request.data)["reason"]
        return self._render(
            services.purchase_order_decline(actor=request.user, order=order, reason=reason)
        )

    @extend_schema(request=OrderReasonSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        reason = _validated(OrderReasonSerializer, request.data)["reason"]
        return self._render(
            services.purchase_order_cancel(actor=request.user, order=order, reason=reason)
        )

    @extend_schema(request=DeclareInstallationSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"], url_path="declare-installation")
    def declare_installation(self, request, pk=None):
        order = self.get_object()
        data = _validated(DeclareInstallationSerializer, request.data)
        version = SolutionVersion.objects.filter(
            pk=data["version"], solution__vendor_id=order.vendor_id
        ).first()
        if version is None:
            raise InvalidInput("does_not_exist", "Version introuvable.", "version")
        report = Evidence.objects.filter(pk=data["report"], vendor_id=order.vendor_id).first()
        if report is None:
            raise InvalidInput(
                "does_not_exist", "Procès-verbal introuvable (déposez-le via evidence/).", "report"
            )
        return self._render(
            services.purchase_order_declare_installation(
                actor=request.user,
                order=order,
                installed_on=data["installed_on"],
                version=version,
                report=report,
            )
        )

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-installation")
    def confirm_installation(self, request, pk=None):
        return self._render(
            services.purchase_order_confirm_installation(
                actor=request.user, order=self.get_object()
            )
        )

    @extend_schema(request=ReserveSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def reserve(self, request, pk=None):
        order = self.get_object()
        data = _validated(ReserveSerializer, request.data)
        return self._render(
            services.purchase_order_reserve(
                actor=request.user, order=order, reservations=data["reservations"]
            )
        )

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"], url_path="lift-reservations")
    def lift_reservations(self, request, pk=None):
        return self._render(
            services.purchase_order_lift_reservations(actor=request.user, order=self.get_object())
        )
