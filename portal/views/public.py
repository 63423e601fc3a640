"""Public pages: the catalogue of referenced solutions, a solution's detail and history, the
open-data downloads. No login."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from core.errors import NotFound
from core.selectors import get_visible
from portal.forms import CatalogueFilterForm
from portal.selectors import solution_history
from referencing_app import selectors
from referencing_app.api import DATA_DICTIONARY

PAGE_SIZE = 20


def catalogue(request):
    form = CatalogueFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    queryset = selectors.catalogue(**filters)
    paginator = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    entries = list(selectors.catalogue_entries(selectors.catalogue().filter(pk__in=list(page))))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/public/catalogue.html",
        {
            "form": form,
            "entries": entries,
            "page": page,
            "query": query.urlencode(),
            "breadcrumb": [("Accueil", reverse("home")), ("Catalogue", None)],
        },
    )


def catalogue_detail(request, pk):
    public = selectors.referencing_queryset().filter(state="active")
    try:
        referencing = get_visible(public, pk)
    except NotFound as exc:
        raise Http404 from exc
    return render(
        request,
        "portal/public/detail.html",
        {
            "referencing": referencing,
            "history": solution_history(referencing),
            "breadcrumb": [
                ("Accueil", reverse("home")),
                ("Catalogue", reverse("portal:catalogue")),
                (str(referencing.solution_version), None),
            ],
        },
    )


def open_data(request):
    return render(
        request,
        "portal/public/open_data.html",
        {
            "dictionary": DATA_DICTIONARY,
            "breadcrumb": [("Accueil", reverse("home")), ("Données ouvertes", None)],
        },
    )
