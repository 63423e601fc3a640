from rest_framework.routers import SimpleRouter

from vendors import api

router = SimpleRouter()
router.register("vendors", api.VendorViewSet, basename="vendor")
router.register(
    r"vendors/(?P<vendor_pk>[^/.]+)/members", api.VendorMemberViewSet, basename="vendor-member"
)
router.register("solutions", api.SolutionViewSet, basename="solution")
router.register(
    r"solutions/(?P<solution_pk>[^/.]+)/versions",
    api.SolutionVersionViewSet,
    basename="solution-version",
)

urlpatterns = [*router.urls]
