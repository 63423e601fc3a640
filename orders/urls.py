from rest_framework.routers import SimpleRouter

from orders import api

router = SimpleRouter()
router.register("establishments", api.EstablishmentViewSet, basename="establishment")
router.register("purchase-orders", api.PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = [*router.urls]
