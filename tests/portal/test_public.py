"""The public catalogue, a solution's detail with its referencing history, the open data page."""

import pytest
from django.urls import reverse

from referencing_app.models import Referencing
from tests.factories.referencing import dossier_in

pytestmark = pytest.mark.django_db


def test_catalogue_lists_and_filters(world, client_as):
    dossier = dossier_in(world, "approved")
    referencing = Referencing.objects.get(dossier=dossier)
    client = client_as(None)
    response = client.get(reverse("portal:catalogue"))
    assert response.status_code == 200
    assert [e["reference"] for e in response.context["entries"]] == [referencing.reference]
    response = client.get(reverse("portal:catalogue"), {"q": world.version.solution.name})
    assert len(response.context["entries"]) == 1
    response = client.get(reverse("portal:catalogue"), {"category": "LGO"})
    assert response.context["entries"] == []
    assert "Aucun logiciel" in response.content.decode()
    # export links keep the filters
    assert "export.csv/?category=LGO" in response.content.decode()


def test_catalogue_survives_odd_input(world, client_as):
    response = client_as(None).get(
        reverse("portal:catalogue"), {"q": "a%b", "page": "zz", "wave": "nope"}
    )
    assert response.status_code == 200
    # a control character is refused before the view (docs/decisions/0013)
    response = client_as(None).get(reverse("portal:catalogue"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "Les caractères nuls ne sont pas admis." in response.content.decode()


def test_detail_and_history(world, client_as):
    dossier = dossier_in(world, "approved")
    referencing = Referencing.objects.get(dossier=dossier)
    response = client_as(None).get(reverse("portal:catalogue_detail", args=[referencing.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert referencing.reference in page
    assert list(response.context["history"]) == [referencing]


def test_detail_of_unknown_or_inactive_is_404(world, client_as):
    client = client_as(None)
    assert client.get("/catalogue/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_open_data_page_links_the_exports(client_as, db):
    response = client_as(None).get(reverse("portal:open_data"))
    page = response.content.decode()
    for name in ("catalogue-export-csv", "catalogue-export-json", "catalogue-dictionary"):
        assert reverse(name) in page
    assert "vendor_siren" in page


def test_login_page_is_dsfr_and_logs_in(world, client_as):
    client = client_as(None)
    page = client.get(reverse("login")).content.decode()
    assert 'class="fr-input"' in page
    assert 'id="btn-login"' in page
    world.member.set_password("Motdepasse-long-2026")
    world.member.save()
    response = client.post(
        reverse("login"), {"username": world.member.username, "password": "Motdepasse-long-2026"}
    )
    assert response.status_code == 302
    assert "Tableau de bord" in client.get("/").content.decode()
    response = client_as(None).post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 200
    assert "fr-alert--error" in response.content.decode()


def test_pages_load_no_external_asset(world, client_as):
    for url in (reverse("portal:catalogue"), reverse("portal:open_data"), reverse("login")):
        page = client_as(None).get(url).content.decode()
        assert "https://" not in page.split("<body")[0], url
        assert "<script>" not in page
        assert '<script type="text/javascript">' not in page
