import django_filters
from rest_framework import viewsets

from core import selectors
from core.models import AuditEntry
from core.permissions import IsAnsAdmin
from core.serializers import AuditEntrySerializer


class AuditEntryFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

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
