from referencing_app.models import Dossier, Referencing
from tests.factories.accounts import UserFactory
from tests.factories.referencing import dossier_in, make_world


def test_admin_shows_dossiers_and_referencings_read_only(client, db):
    world = make_world()
    dossier = dossier_in(world, "approved")
    referencing = Referencing.objects.get(dossier=dossier)
    root = UserFactory(role="", is_superuser=True, is_staff=True)
    client.force_login(root)
    for url in (
        "/admin/referencing/dossier/",
        f"/admin/referencing/dossier/{dossier.pk}/change/",
        "/admin/referencing/referencing/",
        f"/admin/referencing/referencing/{referencing.pk}/change/",
        "/admin/referencing/evidence/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/referencing/dossier/add/").status_code == 403
    assert (
        client.post(f"/admin/referencing/dossier/{dossier.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Dossier.objects.filter(pk=dossier.pk).exists()
