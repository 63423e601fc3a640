import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from core.models import AuditEntry
from sons.models import RequirementSet, Wave
from tests.factories.accounts import UserFactory
from tests.factories.sons import EligibleEstablishmentFactory


@pytest.fixture
def root_client(client, db):
    client.force_login(UserFactory(role="", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "wave",
        "sector",
        "category",
        "scheme",
        "requirementset",
        "requirement",
        "scenario",
        "eligibleestablishment",
    ],
)
def test_admin_pages_open_in_french(root_client, scheme, model):
    EligibleEstablishmentFactory(scheme=scheme)
    listing = root_client.get(f"/admin/sons/{model}/")
    assert listing.status_code == 200
    assert root_client.get(f"/admin/sons/{model}/add/").status_code == 200
    index = root_client.get("/admin/").content.decode()
    assert "Dispositifs" in index
    assert "Base des établissements éligibles" in index


def test_admin_saves_are_audited(root_client, db):
    response = root_client.post("/admin/sons/wave/add/", {"code": "VA5", "name": "Vague 5"})
    assert response.status_code == 302
    wave = Wave.objects.get(code="VA5")
    entry = AuditEntry.objects.get(action="wave.create")
    assert entry.object_id == str(wave.pk)


def test_published_requirement_sets_are_read_only_in_admin(root_client, scheme):
    published = scheme.requirement_sets.get()
    requirement = published.requirements.get(code="SC.INS.01")
    page = root_client.get(f"/admin/sons/requirement/{requirement.pk}/change/")
    assert page.status_code == 200
    root_client.post(
        f"/admin/sons/requirement/{requirement.pk}/change/",
        {"code": "HACK", "title": "x", "statement": "x", "nature": "mandatory"},
    )
    requirement.refresh_from_db()
    assert requirement.code == "SC.INS.01"
    delete = root_client.post(f"/admin/sons/requirementset/{published.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert RequirementSet.objects.filter(pk=published.pk).exists()


def test_admin_action_publishes_a_draft_through_the_service(root_client, scheme):
    from sons import services

    services.requirement_update(
        actor="test", scheme=scheme, requirement_code="SC.INS.01", title="v2"
    )
    draft = scheme.requirement_sets.get(published_at__isnull=True)
    root_client.post(
        "/admin/sons/requirementset/",
        {"action": "publish_drafts", "_selected_action": [str(draft.pk)]},
    )
    draft.refresh_from_db()
    assert draft.is_published
    assert AuditEntry.objects.filter(action="requirementset.publish").count() == 1


def test_openapi_schema_of_the_programme_views_has_no_warning(db):
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("sons.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache, GENERATOR_STATS._error_cache
    paths = schema["paths"]
    assert "/api/v1/schemes/{code}/" in paths
    assert "/api/v1/schemes/{scheme_code}/requirements/{requirement_code}/" in paths
    assert "/api/v1/schemes/{scheme_code}/requirement-sets/publish/" in paths
    upload = paths["/api/v1/schemes/{scheme_code}/eligible-establishments/upload/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert (
        "409"
        in paths["/api/v1/schemes/{scheme_code}/requirement-sets/publish/"]["post"]["responses"]
    )
