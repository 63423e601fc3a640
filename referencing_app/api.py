"""HTTP API of the referencing app: parse, call one service, render."""

import csv

import django_filters
from django.core.paginator import Page
from django.db.models import Count, Window
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.models import User
from core.api import Pagination, csv_safe
from core.errors import InvalidInput, NotAllowed, NotFound
from core.files import ACCEPTED_TYPES, private_file_response
from core.permissions import roles
from referencing_app import selectors, services
from referencing_app.models import Dossier, DossierState, Evidence, Referencing, ReferencingState
from referencing_app.serializers import (
    AssignSerializer,
    CatalogueEntrySerializer,
    CommentSerializer,
    DossierSerializer,
    DossierUpdateSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    MissingSerializer,
    ReasonSerializer,
    ReferencingSerializer,
    RequestChangesSerializer,
    RequiredReasonSerializer,
    RevisionSerializer,
    StatementSerializer,
    VerdictRecordSerializer,
    VerdictSerializer,
)

DOSSIER_ROLES = ("ans_admin", "reviewer", "vendor")


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- evidence ------------------------------------------------------------------------------------
class EvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Proof files. Uploads are `multipart/form-data` with `file` (and optionally `dossier`)."""

    serializer_class = EvidenceSerializer
    queryset = Evidence.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [roles(read=("ans_admin", "reviewer"), write=("vendor",))]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.evidence_list_for_user(self.request.user).order_by("-created_at")

    def get_object(self):
        return selectors.evidence_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={201: EvidenceSerializer},
    )
    def create(self, request):
        data = _validated(EvidenceUploadSerializer, request.data)
        dossier = None
        if data.get("dossier"):
            dossier = selectors.dossier_get_for_user(request.user, data["dossier"])
        evidence = services.evidence_upload(
            actor=request.user, upload=data["file"], dossier=dossier
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, *ACCEPTED_TYPES): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file itself, only for the vendor's members and ANS."""
        evidence = self.get_object()
        return private_file_response(evidence)


# --- dossiers ------------------------------------------------------------------------------------
class DossierFilter(django_filters.FilterSet):
    scheme = django_filters.CharFilter(field_name="scheme__code")
    state = django_filters.MultipleChoiceFilter(choices=DossierState.choices, distinct=False)

    class Meta:
        model = Dossier
        fields = ["scheme", "state", "complete"]


class DossierViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Referencing dossiers: vendors create, fill and submit; ANS instructs and decides."""

    serializer_class = DossierSerializer
    queryset = Dossier.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [roles(read=DOSSIER_ROLES, write=DOSSIER_ROLES)]
    filterset_class = DossierFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        return selectors.with_instruction_part(selectors.dossier_list_for_user(user), user)

    def get_object(self) -> Dossier:
        return selectors.dossier_get_for_user(self.request.user, self.kwargs["pk"])

    def _render(self, dossier):
        """The updated object, as every transition returns it."""
        return Response(self.get_serializer(selectors.dossier_queryset().get(pk=dossier.pk)).data)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.dossier_create(
            actor=self.request.user,
            scheme=data["scheme"],
            solution_version=data["solution_version"],
            claimed_profiles=data.get("claimed_profiles", []),
            charter_accepted=data.get("charter_accepted", False),
        )

    @extend_schema(request=DossierUpdateSerializer, responses=DossierSerializer)
    def partial_update(self, request, pk=None):
        data = _validated(DossierUpdateSerializer, request.data)
        dossier = services.dossier_update(
            actor=request.user,
            dossier=self.get_object(),
            claimed_profiles=data.get("claimed_profiles"),
            charter_accepted=data.get("charter_accepted"),
        )
        return self._render(dossier)

    @extend_schema(responses=DossierSerializer(many=True))
    @action(detail=False, methods=["get"])
    def queue(self, request):
        """The instruction queue: complete dossiers first, then first-in first-out."""
        if not selectors.is_ans(request.user):
            raise NotFound()
        queue = selectors.with_instruction_part(
            selectors.reviewer_queue(request.user), request.user
        )
        page = self.paginate_queryset(queue)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=MissingSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def missing(self, request, pk=None):
        """What is still missing before submission (statements, proofs)."""
        dossier = self.get_object()
        missing = selectors.dossier_missing(dossier)
        return Response(MissingSerializer([m.__dict__ for m in missing], many=True).data)

    # transitions ------------------------------------------------------------------------------
    @extend_schema(request=None, responses=DossierSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._render(services.dossier_submit(actor=request.user, dossier=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses=DossierSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = _validated(ReasonSerializer, request.data)
        return self._render(
            services.dossier_withdraw(
                actor=request.user, dossier=self.get_object(), reason=data["reason"]
            )
        )

    @extend_schema(request=AssignSerializer, responses=DossierSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        dossier = self.get_object()
        data = _validated(AssignSerializer, request.data)
        reviewer = User.objects.filter(pk=data["reviewer"]).first()
        if reviewer is None:
            raise InvalidInput("does_not_exist", "Instructeur introuvable.", "reviewer")
        return self._render(
            services.dossier_assign(actor=request.user, dossier=dossier, reviewer=reviewer)
        )

    @extend_schema(request=RequestChangesSerializer, responses=DossierSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        dossier = self.get_object()
        data = _validated(RequestChangesSerializer, request.data)
        return self._render(
            services.dossier_request_changes(
                actor=request.user,
                dossier=dossier,
                reason=data["reason"],
                requirement_codes=data["requirements"],
            )
        )

    @extend_schema(request=None, responses=DossierSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._render(services.dossier_approve(actor=request.user, dossier=self.get_object()))

    @extend_schema(request=RequiredReasonSerializer, responses=DossierSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        dossier = self.get_object()
        data = _validated(RequiredReasonSerializer, request.data)
        return self._render(
            services.dossier_reject(actor=request.user, dossier=dossier, reason=data["reason"])
        )

    # statements, verdicts, revisions, comments -----------------------------------------------------
    @extend_schema(responses=StatementSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def statements(self, request, pk=None):
        dossier = self.get_object()
        statements = dossier.statements.select_related("requirement").prefetch_related("evidence")
        return Response(StatementSerializer(statements, many=True).data)

    @extend_schema(methods=["GET"], responses=StatementSerializer)
    @extend_schema(methods=["PUT"], request=StatementSerializer, responses=StatementSerializer)
    @action(detail=True, methods=["get", "put"], url_path=r"statements/(?P<requirement_code>[^/]+)")
    def statement(self, request, pk=None, requirement_code=None):
        dossier = self.get_object()
        if request.method == "GET":
            statement = (
                dossier.statements.filter(requirement__code=requirement_code)
                .select_related("requirement")
                .first()
            )
            if statement is None:
                raise NotFound()
            return Response(StatementSerializer(statement).data)
        data = _validated(StatementSerializer, request.data)
        statement = services.statement_put(
            actor=request.user,
            dossier=dossier,
            requirement_code=requirement_code,
            claim=data["claim"],
            justification=data.get("justification", ""),
            evidence_ids=data.get("evidence", []),
        )
        return Response(StatementSerializer(statement).data)

    @extend_schema(responses=VerdictSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def verdicts(self, request, pk=None):
        dossier = self.get_object()
        if not selectors.is_ans(request.user) and dossier.state not in (
            DossierState.CHANGES_REQUESTED,
            DossierState.APPROVED,
            DossierState.REJECTED,
        ):
            return Response([])
        return Response(
            VerdictSerializer(dossier.verdicts.select_related("requirement"), many=True).data
        )

    @extend_schema(
        parameters=[OpenApiParameter("requirement", str, description="code d'une exigence")],
        responses=VerdictRecordSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="verdict-history", pagination_class=None)
    def verdict_history(self, request, pk=None):
        """Every verdict given on the dossier, oldest first, each with its author and the
        revision it judged (append-only; ANS only)."""
        dossier = self.get_object()
        if not selectors.is_ans(request.user):
            raise NotAllowed("L'historique des avis est réservé à l'ANS.")
        records = selectors.verdict_history(
            dossier, request.query_params.get("requirement", "").replace("\x00", "")[:40]
        )
        return Response(VerdictRecordSerializer(records, many=True).data)

    @extend_schema(request=VerdictSerializer, responses=VerdictSerializer)
    @action(detail=True, methods=["put"], url_path=r"verdicts/(?P<requirement_code>[^/]+)")
    def verdict(self, request, pk=None, requirement_code=None):
        dossier = self.get_object()
        data = _validated(VerdictSerializer, request.data)
        verdict = services.verdict_put(
            actor=request.user,
            dossier=dossier,
            requirement_code=requirement_code,
            verdict=data["verdict"],
            comment=data.get("comment", ""),
        )
        return Response(VerdictSerializer(verdict).data)

    @extend_schema(responses=RevisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def revisions(self, request, pk=None):
        """Each submission, with what changed since the previous one."""
        revisions = list(selectors.revision_list(self.get_object()))
        changes, previous = {}, None
        for revision in revisions:
            changes[revision.number] = selectors.revision_changes(previous, revision.content)
            previous = revision.content
        return Response(RevisionSerializer(revisions, many=True, context={"changes": changes}).data)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, pk=None):
        """Messages between vendor and ANS; internal notes are never shown to the vendor."""
        dossier = self.get_object()
        if request.method == "GET":
            return Response(
                CommentSerializer(
                    selectors.comment_list_for_user(request.user, dossier), many=True
                ).data
            )
        data = _validated(CommentSerializer, request.data)
        comment = services.comment_create(
            actor=request.user,
            dossier=dossier,
            body=data["body"],
            internal=data.get("internal", False),
            requirement_code=data.get("requirement_code", ""),
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


# --- referencings ---------------------------------------------------------------------------------
class ReferencingFilter(django_filters.FilterSet):
    scheme = django_filters.CharFilter(field_name="scheme__code")
    vendor = django_filters.UUIDFilter(field_name="vendor_id")
    state = django_filters.MultipleChoiceFilter(choices=ReferencingState.choices, distinct=False)

    class Meta:
        model = Referencing
        fields = ["reference", "scheme", "vendor", "state"]


class ReferencingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Referencings, created by approval. ANS admins suspend, reinstate, revoke, set validity."""

    serializer_class = ReferencingSerializer
    queryset = Referencing.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [
        roles(read=("reviewer", "payment_officer", "vendor", "establishment"), write=("ans_admin",))
    ]
    filterset_class = ReferencingFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.referencing_list_for_user(self.request.user)

    def get_object(self) -> Referencing:
        return selectors.referencing_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(request=ReferencingSerializer, responses=ReferencingSerializer)
    def partial_update(self, request, pk=None):
        referencing = self.get_object()
        serializer = ReferencingSerializer(referencing, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "valid_until" not in serializer.validated_data:
            return Response(ReferencingSerializer(referencing).data)
        referencing = services.referencing_set_validity(
            actor=request.user,
            referencing=referencing,
            valid_until=serializer.validated_data["valid_until"],
        )
        return Response(ReferencingSerializer(referencing).data)

    @extend_schema(request=RequiredReasonSerializer, responses=ReferencingSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        referencing = self.get_object()
        data = _validated(RequiredReasonSerializer, request.data)
        referencing = services.referencing_suspend(
            actor=request.user, referencing=referencing, reason=data["reason"]
        )
        return Response(ReferencingSerializer(referencing).data)

    @extend_schema(request=ReasonSerializer, responses=ReferencingSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        referencing = self.get_object()
        data = _validated(ReasonSerializer, request.data)
        referencing = services.referencing_reinstate(
            actor=request.user, referencing=referencing, reason=data["reason"]
        )
        return Response(ReferencingSerializer(referencing).data)

    @extend_schema(request=RequiredReasonSerializer, responses=ReferencingSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        referencing = self.get_object()
        data = _validated(RequiredReasonSerializer, request.data)
        referencing = services.referencing_revoke(
            actor=request.user, referencing=referencing, reason=data["reason"]
        )
        return Response(ReferencingSerializer(referencing).data)


# --- public catalogue ---------------------------------------------------------------------------
CATALOGUE_PARAMETERS = [
    OpenApiParameter("scheme", str, description="code du dispositif (HOP-DPI-VA2)"),
    OpenApiParameter("category", str, description="type de logiciel (DPI, LGC, …)"),
    OpenApiParameter("wave", str, description="vague (VA1, VA2)"),
    OpenApiParameter("vendor", str, description="éditeur : identifiant, SIREN ou nom"),
    OpenApiParameter("q", str, description="recherche libre : logiciel, éditeur, référence"),
]

DATA_DICTIONARY = [
    {"field": "id", "type": "uuid", "description": "Identifiant du référencement."},
    {
        "field": "reference",
        "type": "string",
        "description": "Numéro de référencement (ex. HOP-DPI-VA2-2025-0042).",
    },
    {
        "field": "scheme",
        "type": "string",
        "description": "Code du dispositif (couloir-type-vague).",
    },
    {
        "field": "category",
        "type": "string",
        "description": "Type de logiciel : DPI, RI, PFI, LGC, SIR, SGL, LGO, MSS.",
    },
    {"field": "sector", "type": "string", "description": "Couloir : HOP, MDV, BIO, RAD, OFF, MSS."},
    {"field": "wave", "type": "string", "description": "Vague du programme : VA1, VA2."},
    {"field": "vendor", "type": "uuid", "description": "Identifiant de l'éditeur."},
    {"field": "vendor_name", "type": "string", "description": "Raison sociale de l'éditeur."},
    {"field": "vendor_siren", "type": "string", "description": "SIREN de l'éditeur (9 chiffres)."},
    {"field": "solution", "type": "string", "description": "Nom du logiciel."},
    {
        "field": "solution_version",
        "type": "uuid",
        "description": "Identifiant de la version référencée.",
    },
    {"field": "version", "type": "string", "description": "Numéro de la version référencée."},
    {
        "field": "state",
        "type": "string",
        "description": "État du référencement (toujours « active » au catalogue).",
    },
    {
        "field": "valid_from",
        "type": "datetime",
        "description": "Début de validité (ISO 8601, heure de Paris).",
    },
    {
        "field": "valid_until",
        "type": "datetime",
        "description": "Fin de validité (ISO 8601, heure de Paris), vide si aucune.",
    },
]


class _Echo:
    def write(self, value):
        return value


class CataloguePagination(Pagination):
    """Page numbers, `count`, `next` and `previous` as everywhere, but the page's ids and the
    total come from one query (`COUNT(*) OVER ()`): the filters, a free-text search above all,
    are evaluated once instead of once for the count and again for the page."""

    def _not_found(self, number, exc) -> NotFound:
        return NotFound(str(self.invalid_page_message.format(page_number=number, message=exc)))

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, size)
        number = self.get_page_number(request, paginator)  # "last" counts first
        try:
            number = int(number)
            if number < 1:
                raise ValueError(number)
        except (TypeError, ValueError) as exc:
            raise self._not_found(number, exc) from exc
        if number * size >= 2**62:  # past any table, and past the database's 64-bit OFFSET
            raise self._not_found(number, "page vide")
        window = slice((number - 1) * size, number * size)
        if "count" in paginator.__dict__:
            ids = list(queryset.values_list("pk", flat=True)[window])
        else:
            rows = list(
                queryset.annotate(total=Window(Count("pk"))).values_list("pk", "total")[window]
            )
            if not rows and number > 1:
                raise self._not_found(number, "page vide")
            paginator.count = rows[0][1] if rows else 0
            ids = [pk for pk, _total in rows]
        # `number` is valid here: at most the last page ("last", counted first), or a page the
        # window found rows on, or page 1 of an empty list.
        self.page = Page(ids, number, paginator)
        self.display_page_controls = paginator.num_pages > 1
        return ids


class CatalogueViewSet(viewsets.GenericViewSet):
    """The public catalogue of referenced solutions, and its open-data exports."""

    serializer_class = CatalogueEntrySerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    filter_backends = []
    pagination_class = CataloguePagination

    def _param(self, name: str, max_length: int) -> str:
        """A filter value, trimmed and bounded; NUL bytes (PostgreSQL refuses them) dropped."""
        value = self.request.query_params.get(name, "")
        return value.replace("\x00", "").strip()[:max_length]

    def get_queryset(self):
        return selectors.catalogue(
            scheme=self._param("scheme", 40),
            category=self._param("category", 10),
            wave=self._param("wave", 10),
            vendor=self._param("vendor", 200),
            q=self._param("q", 200),
        )

    @extend_schema(parameters=CATALOGUE_PARAMETERS)
    def list(self, request):
        # Late row lookup: the page is cut on the narrow, filtered query, and only its rows are
        # joined to their names.
        ids = self.paginate_queryset(self.get_queryset())
        entries = selectors.catalogue_entries(selectors.catalogue().filter(pk__in=ids))
        return self.get_paginated_response(self.get_serializer(entries, many=True).data)

    @extend_schema(parameters=CATALOGUE_PARAMETERS, responses={(200, "text/csv"): str})
    @action(detail=False, methods=["get"], url_path="export.csv")
    def export_csv(self, request):
        """Open data, CSV (UTF-8, `;`), every active referencing matching the filters."""
        fields = [f["field"] for f in DATA_DICTIONARY]
        writer = csv.writer(_Echo(), delimiter=";")

        def rows():
            yield "\ufeff" + writer.writerow(fields)
            serializer = CatalogueEntrySerializer()
            for entry in selectors.catalogue_entries(self.get_queryset(), stream=True):
                data = serializer.to_representation(entry)
                yield writer.writerow([csv_safe(data[f]) for f in fields])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="catalogue-sons.csv"'
        return response

    @extend_schema(parameters=CATALOGUE_PARAMETERS, responses=CatalogueEntrySerializer(many=True))
    @action(detail=False, methods=["get"], url_path="export.json", pagination_class=None)
    def export_json(self, request):
        """Open data, JSON: every active referencing matching the filters."""
        data = CatalogueEntrySerializer(
            selectors.catalogue_entries(self.get_queryset()), many=True
        ).data
        response = Response(data)
        response["Content-Disposition"] = 'attachment; filename="catalogue-sons.json"'
        return response

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def dictionary(self, request):
        """The data dictionary of the exports."""
        return Response(
            {"dataset": "Catalogue des logiciels référencés SONS", "fields": DATA_DICTIONARY}
        )
