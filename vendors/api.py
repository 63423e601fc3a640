"""HTTP API of the vendors app: parse, call one service, render.

Who may do what (see also `vendors.selectors`):

| endpoint                          | read                                   | write          |
|-----------------------------------|----------------------------------------|----------------|
| `vendors/`                        | ANS, payment officers, establishments; | ANS admins     |
|                                   | a vendor member: their own vendor only |                |
| `vendors/{id}/members/`           | ANS admins, the vendor's own members   | —              |
| `solutions/`                      | ANS, payment officers; a vendor        | vendor members |
|                                   | member: their own vendor's only        | (own vendor)   |
| `solutions/{id}/versions/`        | as `solutions/`                        | vendor members |

Another vendor's object is a 404, the same answer as a missing one. The IBAN is shown in clear
to ANS admins, payment officers and the vendor's own members, masked (`****1234`) otherwise.
Nothing is deleted through the API (405): vendors, solutions and versions are referenced by
dossiers, orders and payments.
"""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from accounts.models import User
from core.errors import NotAllowed
from core.permissions import roles
from vendors import selectors, services
from vendors.models import Solution, SolutionVersion, Vendor
from vendors.serializers import (
    SolutionSerializer,
    SolutionVersionSerializer,
    VendorMemberSerializer,
    VendorSerializer,
)

ALL_ROLES = ("ans_admin", "reviewer", "payment_officer", "vendor", "establishment")
SEE_ALL = ("ans_admin", "reviewer", "payment_officer")


def _schema_only(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


# --- vendors -------------------------------------------------------------------------------------
class VendorFilter(django_filters.FilterSet):
    siren = django_filters.CharFilter(field_name="siren")

    class Meta:
        model = Vendor
        fields = ["siren"]


class VendorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Vendors (éditeurs), registered by ANS admins. A vendor member sees their own vendor only."""

    queryset = Vendor.objects.none()
    serializer_class = VendorSerializer
    permission_classes = [
        roles(read=("reviewer", "payment_officer", "vendor", "establishment"), write=("ans_admin",))
    ]
    filterset_class = VendorFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.vendor_list_for_user(self.request.user)

    def get_object(self) -> Vendor:
        vendor = selectors.vendor_get_for_user(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, vendor)
        return vendor

    def perform_create(self, serializer):
        serializer.instance = services.vendor_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.vendor_update(
            actor=self.request.user, vendor=serializer.instance, **serializer.validated_data
        )


VENDOR_PATH = OpenApiParameter(
    "vendor_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Identifiant de l'éditeur."
)


@extend_schema_view(list=extend_schema(parameters=[VENDOR_PATH]))
class VendorMemberViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The users of a vendor: for ANS admins and the vendor's own members."""

    queryset = User.objects.none()
    serializer_class = VendorMemberSerializer
    permission_classes = [roles(read=ALL_ROLES)]
    filter_backends = []

    def get_queryset(self):
        vendor = selectors.vendor_get_for_user(self.request.user, self.kwargs["vendor_pk"])
        if not selectors.can_list_members(self.request.user, vendor):
            raise NotAllowed()
        return selectors.vendor_member_list(vendor)


# --- solutions -----------------------------------------------------------------------------------
class SolutionFilter(django_filters.FilterSet):
    vendor = django_filters.UUIDFilter(field_name="vendor_id")
    category = django_filters.CharFilter(field_name="category__code")

    class Meta:
        model = Solution
        fields = ["vendor", "category"]


class SolutionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Solutions (logiciels): declared by the vendor's members for their own vendor."""

    queryset = Solution.objects.none()
    serializer_class = SolutionSerializer
    permission_classes = [roles(read=SEE_ALL, write=("vendor",))]
    filterset_class = SolutionFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.solution_list_for_user(self.request.user)

    def get_object(self) -> Solution:
        solution = selectors.solution_get_for_user(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, solution)
        return solution

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.solution_create(
            actor=self.request.user,
            vendor=self.request.user.vendor,
            name=data["name"],
            category=data["category"],
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.solution_update(
            actor=self.request.user,
            solution=serializer.instance,
            name=data.get("name"),
            category=data.get("category"),
        )


SOLUTION_PATH = OpenApiParameter(
    "solution_pk",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="Identifiant du logiciel.",
)


@extend_schema_view(
    list=extend_schema(parameters=[SOLUTION_PATH]),
    retrieve=extend_schema(parameters=[SOLUTION_PATH]),
    create=extend_schema(parameters=[SOLUTION_PATH]),
)
class SolutionVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of a solution; `number` is unique per solution. Written by the vendor's members."""

    queryset = SolutionVersion.objects.none()
    serializer_class = SolutionVersionSerializer
    permission_classes = [roles(read=SEE_ALL, write=("vendor",))]
    filter_backends = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not _schema_only(self):
            self.get_solution()  # 404 before anything else when the solution is not visible

    def get_solution(self) -> Solution:
        if not hasattr(self, "_solution"):
            self._solution = selectors.solution_get_for_user(
                self.request.user, self.kwargs["solution_pk"]
            )
        return self._solution

    def get_queryset(self):
        return selectors.solution_version_list(self.get_solution())

    def get_object(self) -> SolutionVersion:
        version = selectors.solution_version_get(self.get_solution(), self.kwargs["pk"])
        self.check_object_permissions(self.request, version)
        return version

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.solution_version_create(
            actor=self.request.user,
            solution=self.get_solution(),
            number=data["number"],
            released_on=data.get("released_on"),
        )
