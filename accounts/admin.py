"""Django admin of accounts. Users are created and changed through `accounts.services` (the
same checks and audit entries as the API, the admin's password page included); API tokens and
login failures are read-only; `django.contrib.auth`'s groups are not used, so not shown."""

from contextvars import ContextVar

from django.contrib import admin
from django.contrib.admin.options import csrf_protect_m
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts import services
from accounts.models import ApiToken, LoginFailure, User
from core.admin import ServiceModelAdmin
from core.audit import ADMIN_CHANNEL, audit_channel

sensitive_post_parameters_m = method_decorator(sensitive_post_parameters())

# Who is changing a password on the admin's password page (its form is built by Django
# without the request).
_password_actor: ContextVar[User | None] = ContextVar("password_actor", default=None)


class UserCreationAdminForm(AdminUserCreationForm):
    """A password is required: accounts without one (Django's "password-based authentication:
    disabled") are not offered; deactivate an account instead."""

    usable_password = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].required = True
        self.fields["password2"].required = True


class PasswordChangeAdminForm(AdminPasswordChangeForm):
    """The admin's "change password" page: the new password goes through `user_update`
    (audited without the password, API tokens revoked)."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = True
        self.fields["password2"].required = True

    def clean(self):
        if "unset-password" in self.data:  # Django's page still shows that button
            raise ValidationError(
                _(
                    "Désactiver l'authentification par mot de passe n'est pas proposé : "
                    "décochez « Actif » sur la fiche de l'utilisateur pour fermer son compte."
                ),
                code="unusable_password",
            )
        return super().clean()

    def save(self, commit=True):
        actor = _password_actor.get()
        if actor is None:
            raise RuntimeError("PasswordChangeAdminForm is saved by UserAdmin only")
        saved = services.user_update(
            actor=actor, user=self.user, password=self.cleaned_data["password1"]
        )
        self.user.password = saved.password  # keeps the admin's own session when it is theirs
        return saved


@admin.register(User)
class UserAdmin(ServiceModelAdmin, BaseUserAdmin):
    """HackSoft's users/admin.py: `save_model` calls `user_create` / `user_update`. Users are
    deactivated, never deleted. Admin access (staff, superuser, permissions) is changed by
    superusers only, as the service requires."""

    add_form = UserCreationAdminForm
    change_password_form = PasswordChangeAdminForm
    list_display = ["username", "email", "role", "vendor", "signatory", "is_active"]
    list_filter = ["role", "signatory", "is_active", "is_superuser"]
    list_select_related = ["vendor"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Programme"), {"fields": ["role", "vendor", "signatory"]}),
        (
            _("Accès"),
            {"fields": ["is_active", "is_staff", "is_superuser", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        (_("Programme"), {"fields": ["email", "role", "vendor", "signatory"]}),
    ]
    filter_horizontal = ["user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly += [f for f in services.PRIVILEGE_FIELDS if f != "groups"]
        return readonly

    def has_add_permission(self, request):
        return request.user.is_ans_admin and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_ans_admin and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def service_create(self, request, form):
        fields = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in services.USER_EDITABLE_FIELDS
        }
        return services.user_create(
            actor=request.user, password=form.cleaned_data["password1"], **fields
        )

    def service_update(self, request, obj, form):
        return services.user_update(
            actor=request.user,
            user=obj,
            **self.changed_values(form, services.USER_EDITABLE_FIELDS),
        )

    @sensitive_post_parameters_m
    @csrf_protect_m
    def add_view(self, request, form_url="", extra_context=None):
        # Django's UserAdmin wraps this in a transaction; the service owns a durable one.
        return self._add_view(request, form_url, extra_context)

    @sensitive_post_parameters_m
    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            with audit_channel(ADMIN_CHANNEL):
                return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only, and never a key: only its first characters are kept in clear. A token is
    revoked by changing the user's password, or ends with a deactivated account."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix", "name"]
    fields = ["prefix", "user", "name", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "ip_address", "channel"]
    list_filter = ["channel"]
    search_fields = ["username", "ip_address"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(Group):  # roles say who does what; groups are not used
    admin.site.unregister(Group)
