"""Small helpers shared by the portal's views."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.urls import reverse

from accounts.models import Role
from core.files import private_file_response
from orders import selectors as order_selectors
from portal.access import role_required
from referencing_app import selectors as ref_selectors

PAGE_SIZE = 25


def paginate(request, queryset, size: int = PAGE_SIZE) -> dict:
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "rows": page.object_list, "query": query.urlencode()}


def crumbs(*items) -> list:
    return [("Tableau de bord", reverse("home")), *items]


@role_required(Role.VENDOR, Role.REVIEWER, Role.ANS_ADMIN)
def evidence_download(request, pk):
    """A proof file, for the vendor's members and ANS only (404 for anyone else)."""
    evidence = ref_selectors.evidence_get_for_user(request.user, pk)
    return private_file_response(evidence)


@role_required(Role.VENDOR, Role.ESTABLISHMENT, Role.REVIEWER, Role.ANS_ADMIN, Role.PAYMENT_OFFICER)
def acceptance_report_download(request, pk):
    """The acceptance report of an order, for whoever may see the order (404 otherwise)."""
    report = order_selectors.acceptance_report_for_user(request.user, pk)
    return private_file_response(report)
