from rest_framework.routers import SimpleRouter

from referencing_app import api

router = SimpleRouter()
router.register("evidence", api.EvidenceViewSet, basename="evidence")
router.register("dossiers", api.DossierViewSet, basename="dossier")
router.register("referencings", api.ReferencingViewSet, basename="referencing")
router.register("catalogue", api.CatalogueViewSet, basename="catalogue")

urlpatterns = [*router.urls]
