"""URLs of the web portals, in French, one prefix per audience."""

from django.urls import path, re_path

from portal.views import ans, common, establishment, payments, public, review, vendor

app_name = "portal"

urlpatterns = [
    # public
    path("catalogue/", public.catalogue, name="catalogue"),
    path("catalogue/donnees/", public.open_data, name="open_data"),
    path("catalogue/<uuid:pk>/", public.catalogue_detail, name="catalogue_detail"),
    path("preuves/<uuid:pk>/", common.evidence_download, name="evidence_download"),
    path(
        "commandes/<uuid:pk>/proces-verbal/",
        common.acceptance_report_download,
        name="acceptance_report_download",
    ),
    path("dossiers/<uuid:pk>/commenter/", review.comment, name="dossier_comment"),
    # vendor
    path("editeur/logiciels/", vendor.solutions, name="vendor_solutions"),
    path(
        "editeur/logiciels/<uuid:pk>/versions/",
        vendor.version_create,
        name="vendor_version_create",
    ),
    path("editeur/dossiers/", vendor.dossiers, name="vendor_dossiers"),
    path("editeur/dossiers/nouveau/", vendor.dossier_create, name="vendor_dossier_create"),
    path("editeur/dossiers/<uuid:pk>/", vendor.dossier_detail, name="vendor_dossier"),
    path(
        "editeur/dossiers/<uuid:pk>/parametres/",
        vendor.dossier_settings,
        name="vendor_dossier_settings",
    ),
    path(
        "editeur/dossiers/<uuid:pk>/deposer/", vendor.dossier_submit, name="vendor_dossier_submit"
    ),
    path(
        "editeur/dossiers/<uuid:pk>/retirer/",
        vendor.dossier_withdraw,
        name="vendor_dossier_withdraw",
    ),
    path(
        "editeur/dossiers/<uuid:pk>/exigences/<str:code>/",
        vendor.statement_edit,
        name="vendor_statement",
    ),
    path(
        "editeur/dossiers/<uuid:pk>/exigences/<str:code>/preuve/",
        vendor.evidence_upload,
        name="vendor_evidence_upload",
    ),
    path("editeur/commandes/", vendor.orders, name="vendor_orders"),
    path("editeur/commandes/nouvelle/", vendor.order_create, name="vendor_order_create"),
    path("editeur/commandes/<uuid:pk>/", vendor.order_detail, name="vendor_order"),
    path("editeur/commandes/<uuid:pk>/envoyer/", vendor.order_send, name="vendor_order_send"),
    path("editeur/commandes/<uuid:pk>/annuler/", vendor.order_cancel, name="vendor_order_cancel"),
    path(
        "editeur/commandes/<uuid:pk>/proces-verbal/",
        vendor.order_report_upload,
        name="vendor_order_report_upload",
    ),
    path(
        "editeur/commandes/<uuid:pk>/installation/",
        vendor.order_declare,
        name="vendor_order_declare",
    ),
    path(
        "editeur/commandes/<uuid:pk>/lever-reserves/",
        vendor.order_lift,
        name="vendor_order_lift",
    ),
    path(
        "editeur/commandes/<uuid:pk>/paiement/<str:kind>/",
        vendor.payment_request_create,
        name="vendor_payment_request",
    ),
    path("editeur/paiements/", vendor.payments, name="vendor_payments"),
    path("editeur/recouvrements/", vendor.recoveries, name="vendor_recoveries"),
    # ANS instruction
    path("instruction/", review.queue, name="review_queue"),
    path("instruction/dossiers/<uuid:pk>/", review.dossier_detail, name="review_dossier"),
    path("instruction/dossiers/<uuid:pk>/avis/<str:code>/", review.verdict, name="review_verdict"),
    path(
        "instruction/dossiers/<uuid:pk>/corrections/",
        review.request_changes,
        name="review_request_changes",
    ),
    # ANS administration
    path("ans/dossiers/", ans.dossiers, name="ans_dossiers"),
    path("ans/dossiers/<uuid:pk>/attribuer/", ans.assign, name="ans_assign"),
    path("ans/dossiers/<uuid:pk>/approuver/", ans.approve, name="ans_approve"),
    path("ans/dossiers/<uuid:pk>/rejeter/", ans.reject, name="ans_reject"),
    path("ans/referencements/", ans.referencings, name="ans_referencings"),
    path("ans/referencements/<uuid:pk>/", ans.referencing_detail, name="ans_referencing"),
    path(
        "ans/referencements/<uuid:pk>/<str:action>/",
        ans.referencing_action,
        name="ans_referencing_action",
    ),
    path("ans/dispositifs/", ans.schemes, name="ans_schemes"),
    path("ans/dispositifs/<str:code>/", ans.scheme_detail, name="ans_scheme"),
    path("ans/etablissements/import/", ans.establishments_import, name="ans_import"),
    path("ans/deploiement/", ans.deployment, name="deployment"),
    path("ans/deploiement/export.csv", ans.deployment_csv, name="deployment_csv"),
    # establishments
    path("etablissement/commandes/", establishment.orders, name="establishment_orders"),
    path(
        "etablissement/commandes/<uuid:pk>/",
        establishment.order_detail,
        name="establishment_order",
    ),
    path(
        "etablissement/commandes/<uuid:pk>/<str:action>/",
        establishment.order_action,
        name="establishment_order_action",
    ),
    # paying agency
    path("paiements/", payments.queue, name="payment_queue"),
    path("paiements/demandes/", payments.requests, name="payment_requests"),
    path("paiements/demandes/<uuid:pk>/", payments.request_detail, name="payment_request"),
    path(
        "paiements/demandes/<uuid:pk>/<str:action>/",
        payments.request_action,
        name="payment_request_action",
    ),
    path("paiements/commandes/<uuid:pk>/", payments.order_detail, name="payment_order"),
    path(
        "paiements/commandes/<uuid:pk>/annuler/", payments.order_cancel, name="payment_order_cancel"
    ),
    path("paiements/recouvrements/", payments.recoveries, name="payment_recoveries"),
    path("paiements/recouvrements/<uuid:pk>/", payments.recovery_detail, name="payment_recovery"),
    path(
        "paiements/recouvrements/<uuid:pk>/<str:action>/",
        payments.recovery_action,
        name="payment_recovery_action",
    ),
    path("paiements/lots/", payments.batches, name="payment_batches"),
    re_path(
        r"^paiements/lots/(?P<pk>[0-9a-f-]{36})/export\.(?P<fmt>csv|xml)$",
        payments.batch_export,
        name="payment_batch_export",
    ),
    path("paiements/editeurs/", payments.vendors, name="payment_vendors"),
    path(
        "paiements/editeurs/<uuid:pk>/enroler/",
        payments.vendor_enrol,
        name="payment_vendor_enrol",
    ),
    path("paiements/controles/", payments.runs, name="eligibility_runs"),
    path("paiements/controles/etat/", payments.runs_status, name="eligibility_runs_status"),
]
