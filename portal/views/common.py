"""Small helpers shared by the portal's views."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse
from django.urls import reverse

from accounts.models import Role
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
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.filename,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
