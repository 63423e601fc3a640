from django.db.models import QuerySet

from core.models import AuditEntry


def audit_entry_list() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.order_by("-seq")


def get_visible(queryset, pk):
    """`queryset.get(pk=pk)`, or the same 404 whether missing, malformed or not visible."""
    from django.core.exceptions import ValidationError

    from core.errors import NotFound

    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound() from exc
