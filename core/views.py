import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core import selectors, services
from core.api import UTCIsoDateTimeFilter
from core.models import AuditEntry, Job, Notification
from core.permissions import IsAnsAdmin
from core.selectors import get_visible
from core.serializers import AuditEntrySerializer, JobSerializer, NotificationSerializer


class AuditEntryFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    at_after = UTCIsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = UTCIsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["object_id", "object_type", "action", "actor"]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first. Read-only for ANS admins; nobody can edit or delete it."""

    serializer_class = AuditEntrySerializer
    permission_classes = [IsAnsAdmin]
    filterset_class = AuditEntryFilter

    def get_queryset(self):
        return selectors.audit_entry_list()


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The current user's in-app notifications, newest first (`?unread=true` for unread ones)."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [IsAuthenticated]
    filterset_fields = ["event"]

    def get_queryset(self):
        qs = Notification.objects.filter(recipient=self.request.user).order_by("-created_at")
        if self.request.query_params.get("unread") in ("1", "true", "yes"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    def get_object(self):
        return get_visible(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(actor=request.user)})


class JobViewSet(viewsets.GenericViewSet):
    """A long launch (eligibility run, import) answered 202: follow it here until `done` or
    `failed`. Visible to whoever launched it and to ANS admins."""

    serializer_class = JobSerializer
    queryset = Job.objects.none()  # for the schema; get_queryset() decides
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        qs = Job.objects.all()
        if not getattr(self.request.user, "is_ans_admin", False):
            qs = qs.filter(requested_by=self.request.user)
        return qs

    def retrieve(self, request, pk=None):
        return Response(JobSerializer(get_visible(self.get_queryset(), pk)).data)
