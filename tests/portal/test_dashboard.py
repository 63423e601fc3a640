"""The deployment dashboard (SVG charts with data tables, CSV exports) and the eligibility runs
page (launch, progress polled with htmx)."""

import pytest
from django.urls import reverse

from payments.models import EligibilityRun
from tests.factories.orders import order_in

pytestmark = pytest.mark.django_db


def test_deployment_dashboard_charts_and_tables(order_world, client_as):
    ow = order_world
    order_in(ow, "installed")
    order_in(ow, "signed", establishment=ow.other_establishment_signatory.establishment)
    response = client_as(ow.admin).get(reverse("portal:deployment"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="portal-chart"') == 3
    assert 'role="img"' in page
    assert "50,0 %" in page  # one of two ordered updates installed
    assert response.context["months"][0]["count"] == 1
    assert 'id="deployment-category"' in page


def test_deployment_csv(order_world, client_as):
    ow = order_world
    order_in(ow, "installed")
    client = client_as(ow.officer)
    response = client.get(reverse("portal:deployment_csv"))
    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    header, *lines = text.strip().splitlines()
    assert header.split(";")[:2] == ["scheme", "category"]
    assert any(line.startswith(f"{ow.scheme.code};") for line in lines)
    by_category = client.get(reverse("portal:deployment_csv"), {"by": "category"})
    assert by_category.content.decode("utf-8-sig").startswith("category;wave;ordered")


def test_deployment_is_not_for_vendors(order_world, client_as):
    assert client_as(order_world.member).get(reverse("portal:deployment")).status_code == 403


def test_launch_eligibility_run_and_follow_it(order_world, client_as):
    ow = order_world
    order_in(ow, "signed")
    client = client_as(ow.officer)
    response = client.post(
        reverse("portal:eligibility_runs"), {"schemes": [ow.scheme.code]}, follow=True
    )
    assert response.status_code == 200
    run = EligibilityRun.objects.get(scheme=ow.scheme)
    assert run.finished_at is not None
    assert run.triggered_by == f"portail:{ow.officer.username}"
    assert not response.context["running"]
    # a run still going on makes the table poll itself
    EligibilityRun.objects.create(scheme=ow.scheme, started_at=run.started_at, triggered_by="x")
    partial = client.get(reverse("portal:eligibility_runs_status"), HTTP_HX_REQUEST="true")
    page = partial.content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "En cours" in page
    assert "<html" not in page


def test_establishments_import_reports_bad_lines(order_world, client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.models import Establishment
    from tests.factories.sons import finess

    good = finess(4242, "33")
    content = (
        f"finess;rpps;name;kind;siret\n{good};;Clinique test;hospital;\n123;;Mauvais;hospital;\n"
    )
    response = client_as(order_world.admin).post(
        reverse("portal:ans_import"),
        {"file": SimpleUploadedFile("etab.csv", content.encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert Establishment.objects.filter(finess=good).exists()
    report = response.context["report"]
    assert report.created == 1
    assert [e["line"] for e in report.errors] == [3]
    assert client_as(order_world.member).get(reverse("portal:ans_import")).status_code == 403


def test_runs_page_polls_until_a_launched_run_starts(order_world, client_as):
    import time

    client = client_as(order_world.officer)
    since = int(time.time()) + 5  # launched "after" every existing run
    page = client.get(reverse("portal:eligibility_runs_status"), {"depuis": since})
    assert 'hx-trigger="every 2s"' in page.content.decode()
    assert page.context["waiting"]
    page = client.get(reverse("portal:eligibility_runs_status"), {"depuis": "1"})
    assert not page.context["waiting"]
