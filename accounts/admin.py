from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import LoginFailure, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "role", "vendor", "signatory", "is_active"]
    list_filter = ["role", "signatory", "is_active", "is_superuser"]
    list_select_related = ["vendor"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Programme"), {"fields": ["role", "vendor", "signatory"]}),
    ]


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
