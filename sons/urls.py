from rest_framework.routers import SimpleRouter

from sons import api

SCHEME = r"schemes/(?P<scheme_code>[^/]+)"

router = SimpleRouter()
router.register("waves", api.WaveViewSet, basename="wave")
router.register("sectors", api.SectorViewSet, basename="sector")
router.register("categories", api.CategoryViewSet, basename="category")
router.register("schemes", api.SchemeViewSet, basename="scheme")
router.register(f"{SCHEME}/requirements", api.RequirementViewSet, basename="requirement")
router.register(f"{SCHEME}/requirement-sets", api.RequirementSetViewSet, basename="requirement-set")
router.register(
    f"{SCHEME}/eligible-establishments",
    api.EligibleEstablishmentViewSet,
    basename="eligible-establishment",
)

urlpatterns = [*router.urls]
