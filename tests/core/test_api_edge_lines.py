"""Edge branches of the API layer that the rest of the suite never reached (CI's coverage gate):
each one answers its documented status and api.md's error shape, through HTTP where a request
can reach it, else through a DRF view's own exception handling (a raising view) or the Django
error handler as Django calls it."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.test import RequestFactory
from django.utils import translation
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.models import Role, User
from accounts.services import api_token_create
from core.api import handler500
from referencing_app.models import DossierState, Referencing
from tests.factories.accounts import UserFactory
from tests.factories.orders import make_order_world, order_in
from tests.factories.referencing import dossier_in, make_world

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(actor=user, user=user).key}")
    return client


def _errors(response, status: int) -> list[tuple[str, str | None]]:
    """The (code, attr) pairs of a refusal, after checking its status and api.md's shape."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = json.loads(response.content)
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == ("validation_error" if status == 400 else "client_error"), body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
        assert error["detail"], error
    return [(e["code"], e["attr"]) for e in body["errors"]]


# --- request bodies a DRF parser refuses while the view reads them -------------------------------
@pytest.fixture
def draft(db):
    world = make_world()
    dossier = dossier_in(world, DossierState.DRAFT)
    return world, f"{API}/dossiers/{dossier.pk}/"


def test_a_multipart_patch_past_the_body_limit_is_a_413(draft, settings):
    """A PATCH's multipart fields are parsed by DRF, not by the middleware (which reads a POST's):
    Django's RequestDataTooBig there is the same 413 `request_too_large`."""
    world, url = draft
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    client = _client(world.signatory)
    response = client.patch(url, {"charter_accepted": "x" * 4096}, format="multipart")
    assert _errors(response, 413) == [("request_too_large", None)]
    english = client.patch(url, {"charter_accepted": "x" * 4096}, format="multipart", **EN)
    assert _errors(english, 413) == [("request_too_large", None)]
    assert (
        json.loads(english.content)["errors"][0]["detail"]
        != json.loads(response.content)["errors"][0]["detail"]
    )
    small = client.patch(url, {"charter_accepted": "true"}, format="multipart")
    assert small.status_code == 200, small.content[:500]


def test_a_form_patch_with_too_many_fields_is_a_400(draft, settings):
    world, url = draft
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{i}=1" for i in range(10))
    response = _client(world.signatory).generic(
        "PATCH", url, body, content_type="application/x-www-form-urlencoded"
    )
    assert _errors(response, 400) == [("too_many_fields", None)]


# --- values the fields and filters refuse --------------------------------------------------------
def test_a_deadline_that_is_no_calendar_day_is_refused(db):
    """`2026-02-30T12:00:00` has the shape of an instant but is no date (parse_datetime raises):
    the field's own `invalid`, not a 500 nor `offset_required`."""
    world = make_world()
    client = _client(world.admin)
    url = f"{API}/schemes/{world.scheme.code}/"
    for value in ("2026-02-30T12:00:00", "2026-02-30T12:00:00+01:00", "2026-13-01T00:00"):
        response = client.patch(url, {"submission_closes": value})
        assert _errors(response, 400) == [("invalid", "submission_closes")], value


def test_an_audit_instant_out_of_range_in_utc_is_refused(db):
    """0001-01-01 at +01:00 is before year 1 in UTC: a 400 on the query parameter, not a 500."""
    client = _client(UserFactory(role=Role.ANS_ADMIN))
    for name in ("at_after", "at_before"):
        response = client.get(f"{API}/audit/", {name: "0001-01-01T00:00:00+01:00"})
        assert _errors(response, 400) == [("invalid", name)], name
        assert json.loads(response.content)["errors"][0]["detail"] == "Instant hors limites."
        english = client.get(f"{API}/audit/", {name: "0001-01-01T00:00:00+01:00"}, **EN)
        assert json.loads(english.content)["errors"][0]["detail"] == "Instant out of range."
    fine = client.get(f"{API}/audit/", {"at_after": "2001-01-01T00:00:00+01:00"})
    assert fine.status_code == 200


# --- payments ------------------------------------------------------------------------------------
def test_eligibility_of_an_unknown_kind_is_refused(db):
    ow = make_order_world()
    order = order_in(ow, "signed")
    client = _client(ow.world.officer)
    url = f"{API}/purchase-orders/{order.pk}/eligibility/"
    assert _errors(client.get(url, {"kind": "deposit"}), 400) == [("invalid_choice", "kind")]
    assert client.get(url, {"kind": "advance"}).json()["kind"] == "advance"


def test_enrolling_an_unknown_vendor_is_a_404(db):
    officer = make_world().officer
    response = _client(officer).post(f"{API}/vendors/{uuid.uuid4()}/enrol/")
    assert _errors(response, 404) == [("not_found", None)]


# --- accounts ------------------------------------------------------------------------------------
def test_creating_a_user_without_a_password_is_refused(db):
    client = _client(UserFactory(role=Role.ANS_ADMIN))
    response = client.post(
        f"{API}/users/",
        {"username": "sans-mot-de-passe", "email": "a@example.org", "role": Role.REVIEWER},
    )
    assert _errors(response, 400) == [("required", "password")]
    assert not User.objects.filter(username="sans-mot-de-passe").exists()


def test_an_establishment_user_without_an_establishment_is_refused(db):
    client = _client(UserFactory(role=Role.ANS_ADMIN))
    response = client.post(
        f"{API}/users/",
        {
            "username": "sans-etablissement",
            "password": "Une-phrase-de-passe-2026",
            "role": Role.ESTABLISHMENT,
        },
        **EN,
    )
    assert _errors(response, 400) == [("required", "establishment")]
    assert json.loads(response.content)["errors"][0]["detail"] == (
        "An establishment user must belong to an establishment."
    )
    assert not User.objects.filter(username="sans-etablissement").exists()


# --- catalogue -----------------------------------------------------------------------------------
def test_a_catalogue_entry_without_an_end_of_validity_shows_null(db):
    ow = make_order_world()
    Referencing.objects.filter(pk=ow.referencing.pk).update(valid_until=None)
    body = APIClient().get(f"{API}/catalogue/").json()
    entries = [e for e in body["results"] if e["reference"] == ow.referencing.reference]
    assert len(entries) == 1, body
    assert entries[0]["valid_until"] is None
    assert entries[0]["valid_from"].startswith(str(ow.referencing.valid_from.year))


def test_the_last_page_of_an_empty_catalogue_is_its_empty_first_page(db):
    """Past the rows a page is a 404; the last page of nothing is page 1, empty."""
    client = APIClient()
    last = client.get(f"{API}/catalogue/", {"page": "last"})
    assert last.status_code == 200, last.content[:500]
    assert (last.json()["count"], last.json()["results"]) == (0, [])
    assert _errors(client.get(f"{API}/catalogue/", {"page": 2}), 404) == [("not_found", None)]


# --- the schema ----------------------------------------------------------------------------------
def test_the_schema_documents_the_vendor_paths(db):
    """drf-spectacular reads each viewset's class `queryset` (an empty one) for the model, and
    never calls `get_queryset()` (which needs a user): the vendor paths are documented."""
    client = _client(UserFactory(role=Role.REVIEWER))
    response = client.get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:500]
    paths = response.json()["paths"]
    for path in (
        "/api/v1/vendors/{id}/",
        "/api/v1/vendors/{vendor_pk}/members/",
        "/api/v1/solutions/{id}/",
        "/api/v1/solutions/{solution_pk}/versions/",
    ):
        assert path in paths, sorted(paths)


# --- exceptions no request provokes, through a DRF view's own handling ---------------------------
class _Raising(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    exception: Exception | None = None

    def get(self, request):
        raise self.exception


def _raise(exception):
    """The view's answer, in French (no LocaleMiddleware here: the default language)."""
    view = _Raising.as_view(exception=exception)
    with translation.override("fr"):
        response = view(APIRequestFactory().get("/api/v1/anything/"))
        response.render()
    return response


def test_an_integrity_error_in_a_view_is_a_409_conflict(db):
    response = _raise(IntegrityError('duplicate key value violates unique constraint "x"'))
    assert _errors(response, 409) == [("conflict", None)]
    assert (
        json.loads(response.content)["errors"][0]["detail"] == "Conflit avec une donnée existante."
    )
    assert "duplicate" not in response.content.decode()


def test_a_django_permission_denied_in_a_view_is_a_403():
    response = _raise(PermissionDenied("internal reason"))
    assert _errors(response, 403) == [("permission_denied", None)]
    assert "internal reason" not in response.content.decode()


def test_a_django_validation_error_without_fields_is_a_400_on_no_attr():
    response = _raise(
        DjangoValidationError(
            [
                DjangoValidationError("Premier %(n)s.", code="first", params={"n": 1}),
                DjangoValidationError("Second."),
            ]
        )
    )
    assert _errors(response, 400) == [("first", None), ("invalid", None)]
    assert [e["detail"] for e in json.loads(response.content)["errors"]] == [
        "Premier 1.",
        "Second.",
    ]


def test_errors_of_list_items_are_addressed_by_index():
    detail = {"lines": [{"code": ["Requis."]}, "Illisible.", [{"amount": ["Négatif."]}]]}
    response = _raise(exceptions.ValidationError(detail))
    assert _errors(response, 400) == [
        ("invalid", "lines.0.code"),
        ("invalid", "lines"),
        ("invalid", "lines.2.0.amount"),
    ]
    top = _raise(exceptions.ValidationError([{"code": ["Requis."]}]))
    assert _errors(top, 400) == [("invalid", "0.code")]


def test_an_exception_drf_does_not_handle_reaches_django():
    """Anything else is no refusal: the handler leaves it to Django (the 500 below)."""
    with pytest.raises(ZeroDivisionError):
        _raise(ZeroDivisionError("boom"))


# --- Django's 500 handler ------------------------------------------------------------------------
def test_the_500_handler_answers_json_under_api_and_the_html_page_elsewhere():
    """Django calls it with the request's language active (LocaleMiddleware ran)."""
    for language, detail in (("fr", "Erreur interne."), ("en", "Internal error.")):
        with translation.override(language):
            api = handler500(RequestFactory().get("/api/v1/dossiers/"))
        assert api.status_code == 500
        assert api["Content-Type"].startswith("application/json")
        assert json.loads(api.content) == {
            "type": "server_error",
            "errors": [{"code": "server_error", "detail": detail, "attr": None}],
        }
    page = handler500(RequestFactory().get("/portail/"))
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
    assert b"server_error" not in page.content


def test_the_500_handler_is_the_one_django_uses():
    from django.urls import get_resolver

    assert get_resolver().resolve_error_handler(500) is handler500
