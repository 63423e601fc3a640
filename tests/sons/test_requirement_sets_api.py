"""Versioned requirement sets through the API: reads default to the current published version,
writes go to a draft copied from it, publishing freezes the draft as the next version."""

from core.models import AuditEntry
from tests.factories.sons import SchemeFactory
from tests.sons.conftest import API, assert_error

S = f"{API}/schemes/HOP-DPI-X1"


def _codes(response):
    assert response.status_code == 200, response.content
    return [r["code"] for r in response.json()["results"]]


def test_reads_show_the_current_published_version(admin_client, scheme):
    body = admin_client.get(f"{S}/requirements/").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert first["code"] == "SC.INS.01"
    assert first["version"] == 1
    assert first["scenarios"][0]["code"] == "SC.INS.01.01"
    assert [p["code"] for p in first["scenarios"][0]["proofs"]] == [
        "SC.INS.01.01.01",
        "SC.INS.01.01.02",
    ]
    assert set(first) == {
        "id",
        "code",
        "section",
        "title",
        "statement",
        "nature",
        "profile",
        "evidence_required",
        "position",
        "scenarios",
        "version",
    }


def test_a_scheme_without_published_version_lists_nothing(admin_client, db):
    SchemeFactory(code="HOP-DPI-X9")
    response = admin_client.get(f"{API}/schemes/HOP-DPI-X9/requirements/")
    assert response.json()["count"] == 0
    assert (
        admin_client.get(f"{API}/schemes/HOP-DPI-X9/").json()["current_requirement_set_version"]
        is None
    )
    assert_error(admin_client.get(f"{API}/schemes/HOP-DPI-X9/requirements/SC.INS.01/"), 404)


def test_full_versioning_cycle(admin_client, client_for, scheme):
    vendor = client_for("vendor")
    # 1. a write creates the draft (v2), copy of v1; v1 and the default read do not move
    response = admin_client.post(
        f"{S}/requirements/",
        {
            "code": "SC.NEW.01",
            "title": "Nouvelle",
            "statement": "Le logiciel DOIT…",
            "nature": "recommended",
            "profile": "ville",
            "section": "NEW",
            "scenarios": [{"code": "SC.NEW.01.01", "description": "d", "proofs": []}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2
    assert response.json()["profile"] == "ville"
    patched = admin_client.patch(
        f"{S}/requirements/SC.INS.01/",
        {"scenarios": [{"code": "X.01", "description": "nouveau", "proofs": []}]},
        format="json",
    )
    assert patched.json()["scenarios"] == [{"code": "X.01", "description": "nouveau", "proofs": []}]
    assert patched.json()["title"]  # untouched fields kept
    assert admin_client.delete(f"{S}/requirements/SC.DMP.01/").status_code == 204
    assert _codes(vendor.get(f"{S}/requirements/")) == ["SC.INS.01", "SC.DMP.01", "SC.MSS.03"]
    assert _codes(admin_client.get(f"{S}/requirements/?version=draft")) == [
        "SC.INS.01",
        "SC.MSS.03",
        "SC.NEW.01",
    ]
    v1_ins = vendor.get(f"{S}/requirements/SC.INS.01/?version=1").json()
    assert v1_ins["scenarios"][0]["code"] == "SC.INS.01.01"
    versions = admin_client.get(f"{S}/requirement-sets/").json()["results"]
    assert [(v["version"], v["state"], v["requirements_count"]) for v in versions] == [
        (2, "draft", 3),
        (1, "published", 3),
    ]
    assert (versions[0]["mandatory_count"], versions[0]["recommended_count"]) == (1, 2)
    # 2. publish: v2 becomes current, the vendor sees it
    published = admin_client.post(
        f"{S}/requirement-sets/publish/", {"notes": "Ajout SC.NEW.01"}, format="json"
    )
    assert published.status_code == 200, published.content
    assert (published.json()["version"], published.json()["state"]) == (2, "published")
    assert published.json()["notes"] == "Ajout SC.NEW.01"
    assert published.json()["requirements_count"] == 3
    assert _codes(vendor.get(f"{S}/requirements/")) == ["SC.INS.01", "SC.MSS.03", "SC.NEW.01"]
    assert vendor.get(f"{S}/").json()["current_requirement_set_version"] == 2
    assert vendor.get(f"{S}/requirement-sets/2/").json()["state"] == "published"
    # 3. nothing left to publish
    assert_error(admin_client.post(f"{S}/requirement-sets/publish/"), 409, "NO_DRAFT")
    # 4. the next write opens v3 from v2; v1 is still readable as it was
    admin_client.patch(f"{S}/requirements/SC.NEW.01/", {"title": "Renommée"}, format="json")
    assert admin_client.get(f"{S}/requirements/SC.NEW.01/?version=draft").json()["version"] == 3
    assert _codes(vendor.get(f"{S}/requirements/?version=1")) == [
        "SC.INS.01",
        "SC.DMP.01",
        "SC.MSS.03",
    ]


def test_publish_refusals_are_409_with_a_clear_code(admin_client, scheme):
    assert_error(admin_client.post(f"{S}/requirement-sets/publish/"), 409, "NO_DRAFT")
    for code in ("SC.INS.01", "SC.DMP.01", "SC.MSS.03"):
        assert admin_client.delete(f"{S}/requirements/{code}/").status_code == 204
    body = assert_error(admin_client.post(f"{S}/requirement-sets/publish/"), 409, "EMPTY_DRAFT")
    assert body["type"] == "client_error"
    assert admin_client.post(f"{S}/requirement-sets/discard/").status_code == 204
    admin_client.patch(f"{S}/requirements/SC.INS.01/", {"position": 1}, format="json")
    assert_error(admin_client.post(f"{S}/requirement-sets/publish/"), 409, "DRAFT_UNCHANGED")


def test_requirement_code_can_be_renamed_in_the_draft(admin_client, scheme):
    response = admin_client.patch(
        f"{S}/requirements/SC.INS.01/", {"code": "SC.INS.09"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["code"] == "SC.INS.09"
    assert admin_client.get(f"{S}/requirements/SC.INS.09/?version=draft").status_code == 200
    assert admin_client.get(f"{S}/requirements/SC.INS.01/").status_code == 200  # v1 unchanged


def test_each_api_write_is_one_audit_entry(admin_client, scheme):
    before = AuditEntry.objects.count()
    admin_client.patch(f"{S}/requirements/SC.INS.01/", {"title": "a"}, format="json")
    admin_client.patch(f"{S}/requirements/SC.INS.01/", {"title": "b"}, format="json")
    admin_client.post(f"{S}/requirement-sets/publish/")
    actions = list(
        AuditEntry.objects.filter(seq__gt=before).order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["requirement.update", "requirement.update", "requirementset.publish"]


def test_filters_on_requirements(admin_client, scheme):
    assert _codes(admin_client.get(f"{S}/requirements/?nature=recommended")) == ["SC.MSS.03"]
    assert_error(admin_client.get(f"{S}/requirements/?nature=peut-etre"), 400)
