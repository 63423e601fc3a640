"""Each page answers 200 to its role, 403 to the other roles, a redirect to the login page to
anonymous visitors, and 404 for an object that is not theirs."""

import pytest
from django.urls import reverse

from tests.factories.accounts import UserFactory
from tests.factories.orders import order_in

pytestmark = pytest.mark.django_db

ROLES = ("member", "reviewer", "admin", "officer", "signatory_est")


def _users(ow):
    return {
        "member": ow.member,
        "reviewer": ow.reviewer,
        "admin": ow.admin,
        "officer": ow.officer,
        "signatory_est": ow.signatory,
    }


@pytest.fixture
def pages(order_world):
    ow = order_world
    order = order_in(ow, "installation_declared")
    from payments.services import payment_request_create

    payment, _ = payment_request_create(actor=ow.member, order=order, kind="advance")
    dossier = ow.referencing.dossier
    code = "SC.INS.01"
    return {
        "member": [
            reverse("portal:vendor_solutions"),
            reverse("portal:vendor_dossiers"),
            reverse("portal:vendor_dossier_create"),
            reverse("portal:vendor_dossier", args=[dossier.pk]),
            reverse("portal:vendor_statement", args=[dossier.pk, code]),
            reverse("portal:vendor_orders"),
            reverse("portal:vendor_order_create"),
            reverse("portal:vendor_order", args=[order.pk]),
            reverse("portal:vendor_payments"),
        ],
        "reviewer": [
            reverse("portal:review_queue"),
            reverse("portal:review_dossier", args=[dossier.pk]),
        ],
        "admin": [
            reverse("portal:ans_dossiers"),
            reverse("portal:ans_referencings"),
            reverse("portal:ans_referencing", args=[ow.referencing.pk]),
            reverse("portal:ans_schemes"),
            reverse("portal:ans_scheme", args=[ow.scheme.code]),
        ],
        "officer": [
            reverse("portal:payment_requests"),
            reverse("portal:payment_request", args=[payment.pk]),
            reverse("portal:payment_batches"),
            reverse("portal:payment_vendors"),
        ],
        "signatory_est": [
            reverse("portal:establishment_orders"),
            reverse("portal:establishment_order", args=[order.pk]),
        ],
    }


def test_home_renders_for_every_role_and_anonymous(order_world, client_as):
    for user in [None, *_users(order_world).values()]:
        response = client_as(user).get("/")
        assert response.status_code == 200
        assert b"fr-header" in response.content


def test_each_page_renders_for_its_role(order_world, pages, client_as):
    users = _users(order_world)
    for role, urls in pages.items():
        client = client_as(users[role])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.status_code)


def test_other_roles_get_403(order_world, pages, client_as):
    users = _users(order_world)
    for role, urls in pages.items():
        for other in ROLES:
            if other == role or (other == "admin" and role == "reviewer"):
                continue
            if role == "officer" and other == "admin":
                continue  # ANS admins read the payment pages
            client = client_as(users[other])
            for url in urls:
                assert client.get(url).status_code == 403, (other, url)


def test_anonymous_is_sent_to_login(pages, client_as):
    client = client_as(None)
    for urls in pages.values():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))


def test_objects_of_another_vendor_or_establishment_are_404(order_world, pages, client_as):
    ow = order_world
    other_vendor = client_as(ow.other_vendor_member)
    for url in (pages["member"][3], pages["member"][4], pages["member"][7]):
        assert other_vendor.get(url).status_code == 404, url
    other_est = client_as(ow.other_establishment_signatory)
    assert other_est.get(pages["signatory_est"][1]).status_code == 404


def test_user_without_role_gets_403(client_as, db):
    user = UserFactory(role="")
    assert client_as(user).get(reverse("portal:vendor_dossiers")).status_code == 403
    assert client_as(user).get("/").status_code == 200


def test_unknown_page_is_an_html_404(client_as, db):
    response = client_as(None).get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
