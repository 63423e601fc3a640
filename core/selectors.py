from django.db.models import QuerySet

from core.models import AuditEntry


def audit_entry_list() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.order_by("-seq")
