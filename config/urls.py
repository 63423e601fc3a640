from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from accounts.views import LoginView
from core.views import AuditEntryViewSet, JobViewSet, NotificationViewSet
from core.web import healthz
from portal.views.home import home

audit_router = SimpleRouter()
audit_router.register("audit", AuditEntryViewSet, basename="audit")
audit_router.register("notifications", NotificationViewSet, basename="notification")
audit_router.register("jobs", JobViewSet, basename="job")

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("sons.urls")),
    path("", include("vendors.urls")),
    path("", include("referencing_app.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include(audit_router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    path("", home, name="home"),
    path("healthz/", healthz, name="healthz"),
    path("connexion/", LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("", include("portal.urls")),
]

handler404 = "core.api.handler404"
handler500 = "core.api.handler500"

admin.site.site_header = "SONS — administration"
admin.site.site_title = "SONS"
admin.site.index_title = "Programme Ségur du numérique en santé"
