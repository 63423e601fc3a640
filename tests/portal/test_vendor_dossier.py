"""The vendor's dossier editor: open a dossier, write statements with evidence, see what is
missing, submit; refusals are shown as messages, never as a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referencing_app.models import Dossier, Evidence, Statement
from tests.factories.referencing import PDF, dossier_in, upload
from tests.portal.conftest import messages_of

pytestmark = pytest.mark.django_db


def test_vendor_opens_a_dossier(world, client_as):
    client = client_as(world.signatory)
    response = client.post(
        reverse("portal:vendor_dossier_create"),
        {"scheme": world.scheme.pk, "solution_version": world.version.pk, "charter_accepted": "on"},
    )
    dossier = Dossier.objects.get(vendor=world.vendor)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:vendor_dossier", args=[dossier.pk])
    assert dossier.charter_accepted


def test_opening_a_second_dossier_shows_the_refusal(world, client_as):
    dossier_in(world, "draft")
    response = client_as(world.signatory).post(
        reverse("portal:vendor_dossier_create"),
        {"scheme": world.scheme.pk, "solution_version": world.version.pk},
    )
    assert response.status_code == 200
    assert "DOSSIER_ALREADY_OPEN" in response.content.decode()


def test_editor_shows_completeness_and_missing(world, client_as):
    dossier = dossier_in(world, "draft")
    response = client_as(world.member).get(reverse("portal:vendor_dossier", args=[dossier.pk]))
    assert response.status_code == 200
    progress = response.context["progress"]
    assert (progress.done, progress.total) == (0, 2)
    page = response.content.decode()
    assert 'id="missing-list"' in page
    assert "SC.INS.01" in page
    assert "SC.DMP.01" in page
    assert 'id="btn-submit-dossier"' in page


def test_upload_then_statement_then_submit(world, client_as):
    dossier = dossier_in(world, "draft")
    client = client_as(world.member)
    # upload a proof from the requirement's page
    url = reverse("portal:vendor_evidence_upload", args=[dossier.pk, "SC.INS.01"])
    response = client.post(url, {"file": SimpleUploadedFile("trace.pdf", PDF, "application/pdf")})
    evidence = Evidence.objects.get(vendor=world.vendor, filename="trace.pdf")
    assert response.status_code == 302
    assert f"preuve={evidence.pk}" in response["Location"]
    # the page offers it ticked
    page = client.get(response["Location"])
    assert str(evidence.pk) in page.context["form"].initial["evidence"]
    # save the statements of both mandatory requirements
    for code in ("SC.INS.01", "SC.DMP.01"):
        response = client.post(
            reverse("portal:vendor_statement", args=[dossier.pk, code]),
            {"claim": "conform", "justification": "Recette du 3 mars", "evidence": [evidence.pk]},
        )
        assert response.status_code == 302, response.content
    assert Statement.objects.filter(dossier=dossier).count() == 2
    response = client.get(reverse("portal:vendor_dossier", args=[dossier.pk]))
    assert response.context["progress"].done == 2
    assert 'id="missing-none"' in response.content.decode()
    # submit
    response = client.post(reverse("portal:vendor_dossier_submit", args=[dossier.pk]), follow=True)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == "submitted"
    assert dossier.complete
    assert any("déposé" in m for m in messages_of(response))


def test_submit_refused_shows_reasons_not_500(world, client_as):
    dossier = dossier_in(world, "draft")
    response = client_as(world.member).post(
        reverse("portal:vendor_dossier_submit", args=[dossier.pk]), follow=True
    )
    assert response.status_code == 200
    texts = " ".join(messages_of(response))
    assert "STATEMENT_MISSING" in texts
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == "draft"


def test_not_applicable_without_justification_is_a_form_error(world, client_as):
    dossier = dossier_in(world, "draft")
    response = client_as(world.member).post(
        reverse("portal:vendor_statement", args=[dossier.pk, "SC.INS.01"]),
        {"claim": "not_applicable", "justification": ""},
    )
    assert response.status_code == 200
    assert "justification_required" in response.content.decode()


def test_charter_and_profiles(world, client_as):
    dossier = dossier_in(world, "draft")
    client = client_as(world.signatory)
    client.post(
        reverse("portal:vendor_dossier_settings", args=[dossier.pk]),
        {"claimed_profiles": ["IAM"], "charter_accepted": "on"},
    )
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.claimed_profiles == ["IAM"]
    response = client.get(reverse("portal:vendor_dossier", args=[dossier.pk]))
    assert response.context["progress"].total == 3


def test_withdraw(world, client_as):
    dossier = dossier_in(world, "draft")
    client_as(world.member).post(
        reverse("portal:vendor_dossier_withdraw", args=[dossier.pk]), {"withdraw-reason": "abandon"}
    )
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == "withdrawn"


def test_evidence_download_for_vendor_and_ans_only(world, client_as):
    evidence = upload(world)
    url = reverse("portal:evidence_download", args=[evidence.pk])
    response = client_as(world.member).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_as(world.reviewer).get(url).status_code == 200
    assert client_as(world.other_vendor_member).get(url).status_code == 404
    assert client_as(world.establishment).get(url).status_code == 403


def test_solutions_and_versions(world, client_as):
    client = client_as(world.member)
    response = client.post(
        reverse("portal:vendor_solutions"),
        {"solution-name": "Nouveau DPI", "solution-category": world.scheme.category.pk},
    )
    assert response.status_code == 302
    solution = world.vendor.solutions.get(name="Nouveau DPI")
    client.post(
        reverse("portal:vendor_version_create", args=[solution.pk]),
        {"version-number": "1.0", "version-released_on": "2026-01-15"},
    )
    assert solution.versions.filter(number="1.0").exists()
    # a duplicate version is refused with a message
    response = client.post(
        reverse("portal:vendor_version_create", args=[solution.pk]),
        {"version-number": "1.0"},
        follow=True,
    )
    assert response.status_code == 200
    assert any("existe déjà" in m for m in messages_of(response))
