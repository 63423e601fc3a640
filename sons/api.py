"""The programme API: waves, sectors, categories, schemes, versioned requirement sets and the
eligible-establishment base. Views parse input, call one service (or selector), and render."""

from __future__ import annotations

from functools import cached_property

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.errors import Conflict, FileTooLarge
from core.outbox import job_enqueue, job_response
from core.permissions import ALL_ROLES, roles
from core.serializers import JobSerializer
from sons import selectors, services
from sons.errors import ERROR_CODES_DOC, SonsErrorCode
from sons.jobs import ELIGIBLE_BASE_IMPORT
from sons.models import EligibleEstablishment, Requirement, RequirementSet, Scheme
from sons.serializers import (
    CategorySerializer,
    EligibleEstablishmentSerializer,
    EligibleImportReportSerializer,
    EligibleUploadSerializer,
    PublishSerializer,
    RequirementSerializer,
    RequirementSetSerializer,
    SchemeSerializer,
    SectorSerializer,
    WaveSerializer,
)

ELIGIBLE_CSV_MAX_BYTES = 5 * 1024 * 1024

# Programme data is readable by every role (a vendor needs the calendar and the requirements);
# only ANS admins write it. The eligible base names customers: ANS admins and the paying agency.
ProgrammePermission = roles(read=ALL_ROLES, write=("ans_admin",))
ReadOnlyProgramme = roles(read=ALL_ROLES)
EligibleBasePermission = roles(read=("payment_officer",), write=("ans_admin",))

ERROR_RESPONSE = inline_serializer(
    name="ProgrammeError",
    fields={
        "type": serializers.CharField(),
        "errors": inline_serializer(
            name="ProgrammeErrorItem",
            fields={
                "code": serializers.CharField(),
                "detail": serializers.CharField(),
                "attr": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
    },
)


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ERROR_RESPONSE, description=ERROR_CODES_DOC) for code in codes}


SCHEME_CODE = OpenApiParameter(
    "scheme_code",
    str,
    OpenApiParameter.PATH,
    description="Code du dispositif (ex. HOP-DPI-VA2) ou son id.",
)
VERSION = OpenApiParameter(
    "version",
    str,
    OpenApiParameter.QUERY,
    required=False,
    description=(
        "Version du référentiel lue : un numéro (1, 2…) ou « draft » (ANS seulement). "
        "Par défaut, la dernière version publiée."
    ),
)
REQUIREMENT_CODE = OpenApiParameter(
    "requirement_code", str, OpenApiParameter.PATH, description="Code de l'exigence."
)
SET_VERSION = OpenApiParameter(
    "set_version", str, OpenApiParameter.PATH, description="Numéro de version, ou « draft »."
)
ESTABLISHMENT = OpenApiParameter(
    "establishment",
    str,
    OpenApiParameter.PATH,
    description="Identifiant national (FINESS, RPPS, SIRET) de l'établissement, ou l'id.",
)
CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="Code, ou id.")


class _SchemeScopedMixin:
    """Views under `schemes/{scheme_code}/`."""

    @cached_property
    def scheme(self) -> Scheme:
        return selectors.scheme_get(self.kwargs["scheme_code"])

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and permissions first
        if not self._fake():
            self.scheme  # noqa: B018 - an unknown scheme is a 404 before any input is read

    def _fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)


# --- waves, sectors, categories ------------------------------------------------------------------
@extend_schema_view(
    retrieve=extend_schema(parameters=[CODE]),
    update=extend_schema(parameters=[CODE], responses={200: WaveSerializer, **_errors(400, 409)}),
    partial_update=extend_schema(
        parameters=[CODE], responses={200: WaveSerializer, **_errors(400, 409)}
    ),
    create=extend_schema(responses={201: WaveSerializer, **_errors(400)}),
)
class WaveViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Waves of the programme (VA1, VA2). ANS admins write; every role reads."""

    serializer_class = WaveSerializer
    permission_classes = [ProgrammePermission]
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    queryset = selectors.wave_list()

    def get_queryset(self):
        return selectors.wave_list()

    def get_object(self):
        return selectors.wave_get(self.kwargs["code"])

    def perform_create(self, serializer):
        serializer.instance = services.wave_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.wave_update(
            actor=self.request.user, wave=serializer.instance, **serializer.validated_data
        )


@extend_schema_view(retrieve=extend_schema(parameters=[CODE]))
class SectorViewSet(viewsets.ReadOnlyModelViewSet):
    """Sectors (couloirs): HOP, MDV, BIO, RAD, OFF, MSS. Present after migrate; read-only."""

    serializer_class = SectorSerializer
    permission_classes = [ReadOnlyProgramme]
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    queryset = selectors.sector_list()

    def get_queryset(self):
        return selectors.sector_list()

    def get_object(self):
        return selectors.sector_get(self.kwargs["code"])


@extend_schema_view(retrieve=extend_schema(parameters=[CODE]))
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Software categories (DPI, PFI, RI, LGC, SIR, SGL, LGO, MSS) and their sector. Read-only."""

    serializer_class = CategorySerializer
    permission_classes = [ReadOnlyProgramme]
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    queryset = selectors.category_list()

    def get_queryset(self):
        return selectors.category_list()

    def get_object(self):
        return selectors.category_get(self.kwargs["code"])


# --- schemes -------------------------------------------------------------------------------------
class SchemeFilter(django_filters.FilterSet):
    wave = django_filters.CharFilter(field_name="wave__code", help_text="Code de vague.")
    sector = django_filters.CharFilter(field_name="sector__code", help_text="Code de couloir.")
    category = django_filters.CharFilter(
        field_name="category__code", help_text="Code de type de logiciel."
    )

    class Meta:
        model = Scheme
        fields = ["wave", "sector", "category", "uses_eligible_base"]


@extend_schema_view(
    retrieve=extend_schema(parameters=[CODE]),
    create=extend_schema(responses={201: SchemeSerializer, **_errors(400)}),
    update=extend_schema(parameters=[CODE], responses={200: SchemeSerializer, **_errors(400, 409)}),
    partial_update=extend_schema(
        parameters=[CODE], responses={200: SchemeSerializer, **_errors(400, 409)}
    ),
)
class SchemeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Schemes (dispositifs): one sector × category × wave, with calendar and parameters.

    Deadlines are instants with offset, or plain dates meaning the end of that day in
    Europe/Paris (`submission_opens`: the start of that day). The calendar must read
    opens < closes and opens ≤ order ≤ installation ≤ payment deadline. The sector defaults to
    the category's. Code, wave, sector and category are frozen once a requirement set is
    published. ANS admins write; every role reads."""

    serializer_class = SchemeSerializer
    permission_classes = [ProgrammePermission]
    filterset_class = SchemeFilter
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    queryset = selectors.scheme_list()

    def get_queryset(self):
        return selectors.scheme_list()

    def get_object(self):
        return selectors.scheme_get(self.kwargs["code"])

    def perform_create(self, serializer):
        scheme = services.scheme_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = selectors.scheme_get(scheme.pk)

    def perform_update(self, serializer):
        scheme = services.scheme_update(
            actor=self.request.user, scheme=serializer.instance, **serializer.validated_data
        )
        serializer.instance = selectors.scheme_get(scheme.pk)


# --- requirements --------------------------------------------------------------------------------
class RequirementFilter(django_filters.FilterSet):
    class Meta:
        model = Requirement
        fields = ["nature", "profile", "section"]


_REQ_WRITE_ERRORS = _errors(400, 404, 409)


@extend_schema(parameters=[SCHEME_CODE, VERSION])
@extend_schema_view(
    retrieve=extend_schema(parameters=[REQUIREMENT_CODE]),
    create=extend_schema(responses={201: RequirementSerializer, **_REQ_WRITE_ERRORS}),
    update=extend_schema(
        parameters=[REQUIREMENT_CODE],
        responses={200: RequirementSerializer, **_REQ_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        parameters=[REQUIREMENT_CODE],
        responses={200: RequirementSerializer, **_REQ_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        parameters=[REQUIREMENT_CODE], responses={204: None, **_REQ_WRITE_ERRORS}
    ),
)
class RequirementViewSet(_SchemeScopedMixin, viewsets.ModelViewSet):
    """Requirements of a scheme, versioned.

    Reads show the current published version, or `?version=N`, or `?version=draft` (ANS).
    Writes (ANS admins) always go to the scheme's draft, created on the first write as a copy of
    the latest published version; published versions never change (`VERSION_FROZEN`).
    `scenarios` (with their `proofs`), when given, replace the old ones as a whole."""

    serializer_class = RequirementSerializer
    permission_classes = [ProgrammePermission]
    filterset_class = RequirementFilter
    lookup_field = "code"
    lookup_url_kwarg = "requirement_code"
    lookup_value_regex = r"[^/]+"

    def _read_set(self) -> RequirementSet | None:
        version = selectors.parse_version(self.request.query_params.get("version"))
        return selectors.requirement_set_resolve(
            scheme=self.scheme, version=version, user=self.request.user
        )

    def _check_write_target(self) -> None:
        version = selectors.parse_version(self.request.query_params.get("version"))
        if version not in (None, selectors.DRAFT):
            raise Conflict(
                SonsErrorCode.VERSION_FROZEN,
                _("Une version publiée ne change plus : les écritures vont au brouillon."),
                "version",
            )

    def get_queryset(self):
        if self._fake():
            return Requirement.objects.none()
        return selectors.requirement_list(self._read_set())

    def get_object(self):
        return selectors.requirement_get(self._read_set(), self.kwargs["requirement_code"])

    def create(self, request, *args, **kwargs):
        self._check_write_target()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        requirement = services.requirement_create(
            actor=request.user, scheme=self.scheme, **serializer.validated_data
        )
        return Response(self.get_serializer(requirement).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        self._check_write_target()
        serializer = self.get_serializer(data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        requirement = services.requirement_update(
            actor=request.user,
            scheme=self.scheme,
            requirement_code=self.kwargs["requirement_code"],
            **serializer.validated_data,
        )
        return Response(self.get_serializer(requirement).data)

    def destroy(self, request, *args, **kwargs):
        self._check_write_target()
        services.requirement_delete(
            actor=request.user,
            scheme=self.scheme,
            requirement_code=self.kwargs["requirement_code"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[SCHEME_CODE])
@extend_schema_view(
    retrieve=extend_schema(parameters=[SET_VERSION]),
    publish=extend_schema(
        request=PublishSerializer,
        responses={200: RequirementSetSerializer, **_errors(400, 404, 409)},
    ),
    discard=extend_schema(request=None, responses={204: None, **_errors(404, 409)}),
)
class RequirementSetViewSet(_SchemeScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Versions of a scheme's requirement set, newest first, with their counts (drafts: ANS only).

    `publish/` (ANS admins) turns the draft into the new current version, frozen for good;
    refused with 409 `NO_DRAFT`, `EMPTY_DRAFT` or `DRAFT_UNCHANGED`. `discard/` drops the draft."""

    serializer_class = RequirementSetSerializer
    permission_classes = [ProgrammePermission]
    lookup_field = "version"
    lookup_url_kwarg = "set_version"
    lookup_value_regex = r"[0-9]{1,9}|draft"

    def get_queryset(self):
        if self._fake():
            return RequirementSet.objects.none()
        return selectors.requirement_set_list(scheme=self.scheme, user=self.request.user)

    def get_object(self):
        version = selectors.parse_version(self.kwargs["set_version"])
        return selectors.requirement_set_get(
            scheme=self.scheme, version=version, user=self.request.user
        )

    @action(detail=False, methods=["post"])
    def publish(self, request, *args, **kwargs):
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        published = services.requirement_set_publish(
            actor=request.user, scheme=self.scheme, **serializer.validated_data
        )
        found = selectors.requirement_set_get(
            scheme=self.scheme, version=published.version, user=request.user
        )
        return Response(RequirementSetSerializer(found).data)

    @action(detail=False, methods=["post"])
    def discard(self, request, *args, **kwargs):
        services.requirement_set_discard_draft(actor=request.user, scheme=self.scheme)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- eligible base -------------------------------------------------------------------------------
class EligibleFilter(django_filters.FilterSet):
    establishment = django_filters.CharFilter(lookup_expr="startswith")

    class Meta:
        model = EligibleEstablishment
        fields = ["establishment"]


_ELIGIBLE_WRITE_ERRORS = _errors(400, 404)


@extend_schema(parameters=[SCHEME_CODE])
@extend_schema_view(
    retrieve=extend_schema(parameters=[ESTABLISHMENT]),
    create=extend_schema(responses={201: EligibleEstablishmentSerializer, **_errors(400, 404)}),
    update=extend_schema(
        parameters=[ESTABLISHMENT],
        responses={200: EligibleEstablishmentSerializer, **_ELIGIBLE_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        parameters=[ESTABLISHMENT],
        responses={200: EligibleEstablishmentSerializer, **_ELIGIBLE_WRITE_ERRORS},
    ),
    destroy=extend_schema(parameters=[ESTABLISHMENT], responses={204: None, **_errors(404)}),
    upload=extend_schema(
        request={"multipart/form-data": EligibleUploadSerializer},
        responses={
            200: EligibleImportReportSerializer,
            202: JobSerializer,
            **_errors(400, 404, 413, 415),
        },
    ),
)
class EligibleEstablishmentViewSet(_SchemeScopedMixin, viewsets.ModelViewSet):
    """The scheme's eligible base: which customers may be funded, and their own cap.

    ANS admins write (one by one, or `upload/` a CSV file: columns `establishment`,
    `max_amount`[, `name`], `;` or `,`, UTF-8 with or without BOM; good lines are upserted by
    identifier, bad lines reported with their line numbers). The paying agency reads."""

    serializer_class = EligibleEstablishmentSerializer
    permission_classes = [EligibleBasePermission]
    filterset_class = EligibleFilter
    lookup_field = "establishment"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        if self._fake():
            return EligibleEstablishment.objects.none()
        return selectors.eligible_establishment_list(self.scheme)

    def get_object(self):
        return selectors.eligible_establishment_get(self.scheme, self.kwargs["establishment"])

    def perform_create(self, serializer):
        serializer.instance = services.eligible_establishment_create(
            actor=self.request.user, scheme=self.scheme, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.eligible_establishment_update(
            actor=self.request.user, eligible=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.eligible_establishment_delete(actor=self.request.user, eligible=instance)

    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request, *args, **kwargs):
        serializer = EligibleUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > ELIGIBLE_CSV_MAX_BYTES:
            raise FileTooLarge(
                SonsErrorCode.FILE_TOO_LARGE,
                _("Fichier trop volumineux : %(max)s Mo au plus.")
                % {"max": ELIGIBLE_CSV_MAX_BYTES // (1024 * 1024)},
                "file",
            )
        # recorded first (docs/decisions/0014): the report when it ran at once (eager), else
        # 202 with the job to follow at `jobs/{id}/`
        job = job_enqueue(
            kind=ELIGIBLE_BASE_IMPORT,
            actor=request.user,
            params={"scheme": str(self.scheme.pk), "source": upload.name or ""},
            payload=upload.read(),
        )
        return job_response(job, serialize=lambda r: EligibleImportReportSerializer(r).data)
