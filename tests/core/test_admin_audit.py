"""Every write of the Django admin is audited, with before/after, and names a superuser as such;
users and vendors are saved through their services; no admin page shows an API token."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.utils import timezone

from accounts.admin import UserAdmin
from accounts.models import ApiToken, Role, User
from accounts.services import api_token_create
from core.admin import AuditedModelAdmin, ServiceModelAdmin
from core.audit import audit_verify
from core.models import AuditEntry
from tests.factories.accounts import PASSWORD, UserFactory, admin_user_form
from tests.factories.vendors import VendorFactory
from vendors.admin import VendorAdmin
from vendors.models import Vendor

NEW_PASSWORD = "Une-phrase-secrete-2026"


@pytest.fixture
def root(db):
    return UserFactory(username="root", role="", is_superuser=True, is_staff=True)


@pytest.fixture
def staff(client, root):
    client.force_login(root)
    return client


def _vendor_form(vendor: Vendor, **overrides) -> dict:
    return {
        "name": vendor.name,
        "siren": vendor.siren,
        "siret": vendor.siret,
        "nie": vendor.nie,
        "iban": vendor.iban,
        "solutions-TOTAL_FORMS": "0",
        "solutions-INITIAL_FORMS": "0",
        "solutions-MIN_NUM_FORMS": "0",
        "solutions-MAX_NUM_FORMS": "1000",
        **overrides,
    }


# --- every registered admin is audited, routed through services, or read-only --------------------
def test_every_registered_admin_is_audited_or_goes_through_services_or_is_read_only(root):
    request = RequestFactory().get("/admin/")
    request.user = root
    unchecked = []
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, ServiceModelAdmin):
            cls = type(model_admin)
            assert cls.service_create is not ServiceModelAdmin.service_create, model
            assert cls.service_update is not ServiceModelAdmin.service_update, model
        elif isinstance(model_admin, AuditedModelAdmin):
            continue
        elif any(
            (
                model_admin.has_add_permission(request),
                model_admin.has_change_permission(request),
                model_admin.has_delete_permission(request),
            )
        ):
            unchecked.append(model._meta.label)
    assert unchecked == []
    assert isinstance(admin.site._registry[User], UserAdmin)
    assert isinstance(admin.site._registry[User], ServiceModelAdmin)
    assert isinstance(admin.site._registry[Vendor], VendorAdmin)
    assert isinstance(admin.site._registry[Vendor], ServiceModelAdmin)
    assert not admin.site.is_registered(Group)


# --- users ---------------------------------------------------------------------------------------
def test_admin_change_of_role_and_superuser_is_audited_with_before_after(staff, root):
    user = UserFactory(username="claire", role=Role.REVIEWER)
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/",
        admin_user_form(user, role=Role.ANS_ADMIN, is_superuser=True, is_staff=True),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert (user.role, user.is_superuser, user.is_staff) == (Role.ANS_ADMIN, True, True)
    entry = AuditEntry.objects.get(action="user.update", object_id=str(user.pk))
    assert entry.changes == {
        "role": [Role.REVIEWER, Role.ANS_ADMIN],
        "is_staff": [False, True],
        "is_superuser": [False, True],
    }
    assert entry.actor_id == root.pk
    assert entry.actor_repr == "root (superutilisateur)"
    assert entry.reason == "admin"
    assert audit_verify().ok


def test_admin_change_of_permissions_is_audited_by_their_names(staff):
    user = UserFactory(role=Role.ANS_ADMIN, is_staff=True)
    permission = Permission.objects.get(codename="view_vendor")
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/",
        admin_user_form(user, user_permissions=[str(permission.pk)]),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(user.user_permissions.all()) == [permission]
    entry = AuditEntry.objects.get(action="user.update", object_id=str(user.pk))
    assert entry.changes == {"user_permissions": [[], ["vendors.view_vendor"]]}


def test_an_unchanged_user_form_writes_no_entry(staff):
    user = UserFactory(role=Role.REVIEWER)
    response = staff.post(f"/admin/accounts/user/{user.pk}/change/", admin_user_form(user))
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="user.update").exists()


def test_a_refusal_of_the_service_is_shown_on_the_form_and_nothing_is_written(staff):
    UserFactory(username="claire")
    user = UserFactory(username="marc", role=Role.REVIEWER)
    # Django's change form checks the username case-sensitively; the service does not.
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/",
        admin_user_form(user, username="Claire", role=Role.PAYMENT_OFFICER),
    )
    assert response.status_code == 200
    assert "Cet identifiant est déjà pris." in response.content.decode()
    user.refresh_from_db()
    assert (user.username, user.role) == ("marc", Role.REVIEWER)
    assert not AuditEntry.objects.filter(action="user.update").exists()


def test_admin_adds_a_user_through_the_service(staff):
    vendor = VendorFactory()
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "username": "nouveau",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "email": "nouveau@editeur.fr",
            "role": Role.VENDOR,
            "vendor": str(vendor.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="nouveau")
    assert (user.vendor, user.check_password(NEW_PASSWORD)) == (vendor, True)
    assert response["Location"].endswith(f"/admin/accounts/user/{user.pk}/change/")
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.changes["role"] == [None, Role.VENDOR]
    assert entry.reason == "admin"
    assert NEW_PASSWORD not in str(entry.changes)
    assert "password" not in entry.changes


def test_admin_password_page_goes_through_the_service_and_revokes_tokens(staff, root):
    user = UserFactory(username="claire")
    key = api_token_create(actor=user, user=user).key
    url = f"/admin/accounts/user/{user.pk}/password/"
    assert staff.get(url).status_code == 200
    response = staff.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not ApiToken.objects.filter(user=user).exists()
    entry = AuditEntry.objects.get(action="user.update", object_id=str(user.pk))
    assert entry.changes == {"password": ["***", "*** (modifié)"], "api_tokens": [1, 0]}
    assert (entry.actor_repr, entry.reason) == ("root (superutilisateur)", "admin")
    assert NEW_PASSWORD not in str(entry.changes)
    assert user.password not in str(entry.changes)
    assert key not in str(entry.changes)
    assert audit_verify().ok


def test_admin_password_page_refuses_to_disable_passwords(staff):
    user = UserFactory()
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "unset-password": "1"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="user.update").exists()


def test_changing_ones_own_password_in_the_admin_keeps_the_session(staff, root):
    url = f"/admin/accounts/user/{root.pk}/password/"
    response = staff.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200


def test_an_ans_admin_who_is_not_superuser_cannot_grant_admin_access(client, db):
    manager = UserFactory(role=Role.ANS_ADMIN, is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename__endswith="_user"))
    client.force_login(manager)
    user = UserFactory(role=Role.REVIEWER)
    response = client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        admin_user_form(user, first_name="Claire", is_superuser=True, is_staff=True),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert (user.first_name, user.is_superuser, user.is_staff) == ("Claire", False, False)
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes == {"first_name": ["", "Claire"]}
    assert entry.actor_repr == manager.username  # not a superuser: no mention


def test_users_are_not_deleted_from_the_admin(staff):
    user = UserFactory()
    assert staff.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}).status_code == (
        403
    )
    assert User.objects.filter(pk=user.pk).exists()


# --- vendors -------------------------------------------------------------------------------------
def test_admin_new_iban_clears_the_enrolment_and_is_audited_masked(staff):
    vendor = VendorFactory(enrolled_at=timezone.now())
    response = staff.post(
        f"/admin/vendors/vendor/{vendor.pk}/change/",
        _vendor_form(vendor, iban="DE89 3704 0044 0532 0130 00"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    vendor.refresh_from_db()
    assert (vendor.iban, vendor.enrolled_at) == ("DE89370400440532013000", None)
    entry = AuditEntry.objects.get(action="vendor.update")
    assert entry.changes["iban"] == ["****0189", "****3000"]
    assert entry.changes["enrolled_at"][1] is None
    assert "DE89370400440532013000" not in str(entry.changes)
    assert entry.reason.startswith("admin — ")
    assert entry.actor_repr == "root (superutilisateur)"
    assert audit_verify().ok


def test_admin_vendor_form_only_respaced_is_no_change(staff):
    vendor = VendorFactory(enrolled_at=timezone.now())
    spaced = " ".join(vendor.iban[i : i + 4] for i in range(0, len(vendor.iban), 4))
    response = staff.post(
        f"/admin/vendors/vendor/{vendor.pk}/change/", _vendor_form(vendor, iban=spaced)
    )
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.enrolled_at is not None
    assert not AuditEntry.objects.filter(action="vendor.update").exists()


def test_other_audited_admins_also_say_admin_and_name_the_superuser(staff):
    response = staff.post("/admin/sons/wave/add/", {"code": "VA9", "name": "Vague 9"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="wave.create")
    assert (entry.actor_repr, entry.reason) == ("root (superutilisateur)", "admin")


# --- no admin page shows a token -----------------------------------------------------------------
def test_no_admin_page_contains_a_token_key_or_its_hash(staff, root):
    holder = UserFactory(username="detenteur")
    issued = [api_token_create(actor=holder, user=holder), api_token_create(actor=root, user=root)]
    secrets = [t.key for t in issued] + [t.token.key_hash for t in issued]
    pages = 0
    for model, model_admin in admin.site._registry.items():
        prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls = [prefix]
        first = model_admin.get_queryset(RequestFactory().get("/")).first()
        if first is not None:
            urls.append(f"{prefix}{first.pk}/change/")
        for url in urls:
            response = staff.get(url)
            assert response.status_code == 200, url
            page = response.content.decode()
            assert not [s for s in secrets if s in page], url
            pages += 1
    tokens = staff.get("/admin/accounts/apitoken/").content.decode()
    assert issued[0].token.prefix in tokens
    assert pages > len(admin.site._registry)
