from django.urls import path
from rest_framework.routers import SimpleRouter

from payments import api

router = SimpleRouter()
router.register("payment-requests", api.PaymentRequestViewSet, basename="payment-request")
router.register("payment-queue", api.PaymentQueueViewSet, basename="payment-queue")
router.register("payment-batches", api.PaymentBatchViewSet, basename="payment-batch")
router.register("eligibility-runs", api.EligibilityRunViewSet, basename="eligibility-run")
router.register("recoveries", api.RecoveryViewSet, basename="recovery")

urlpatterns = [
    path(
        "purchase-orders/<uuid:pk>/eligibility/",
        api.EligibilityView.as_view(),
        name="purchase-order-eligibility",
    ),
    path("vendors/<uuid:pk>/enrol/", api.EnrolView.as_view(), name="vendor-enrol"),
    path("stats/deployment/", api.DeploymentStatsView.as_view(), name="stats-deployment"),
    *router.urls,
]
