"""The header's navigation, per role. No database query beyond the session's user."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Role

ROLE_LABELS = dict(Role.choices)


def _items(user) -> list[tuple[str, str]]:
    public = [("Catalogue", "portal:catalogue"), ("Données ouvertes", "portal:open_data")]
    if not user.is_authenticated:
        return public
    home = [("Tableau de bord", "home")]
    if user.is_ans_admin:
        return [
            *home,
            ("Dossiers", "portal:ans_dossiers"),
            ("Instruction", "portal:review_queue"),
            ("Référencements", "portal:ans_referencings"),
            ("Dispositifs", "portal:ans_schemes"),
            ("Déploiement", "portal:deployment"),
            ("Recouvrements", "portal:payment_recoveries"),
            ("Contrôles", "portal:eligibility_runs"),
            ("Imports", "portal:ans_import"),
        ]
    if user.role == Role.REVIEWER:
        return [*home, ("File d'instruction", "portal:review_queue"), *public[:1]]
    if user.role == Role.VENDOR:
        return [
            *home,
            ("Logiciels", "portal:vendor_solutions"),
            ("Dossiers", "portal:vendor_dossiers"),
            ("Bons de commande", "portal:vendor_orders"),
            ("Paiements", "portal:vendor_payments"),
            ("Recouvrements", "portal:vendor_recoveries"),
            *public[:1],
        ]
    if user.role == Role.ESTABLISHMENT:
        return [*home, ("Bons de commande", "portal:establishment_orders"), *public[:1]]
    if user.role == Role.PAYMENT_OFFICER:
        return [
            *home,
            ("File de paiement", "portal:payment_queue"),
            ("Demandes", "portal:payment_requests"),
            ("Lots", "portal:payment_batches"),
            ("Recouvrements", "portal:payment_recoveries"),
            ("Enrôlement", "portal:payment_vendors"),
            ("Contrôles", "portal:eligibility_runs"),
            ("Déploiement", "portal:deployment"),
        ]
    return home


def portal(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    path = request.path
    nav = []
    for label, name in _items(user):
        url = reverse(name)
        current = path == url if url == "/" else path.startswith(url)
        nav.append({"label": label, "url": url, "current": current})
    # the most specific match only
    currents = [n for n in nav if n["current"]]
    if len(currents) > 1:
        best = max(currents, key=lambda n: len(n["url"]))
        for n in currents:
            n["current"] = n is best
    role = ""
    if user.is_authenticated:
        role = ROLE_LABELS.get(user.role, "") or ("Administrateur" if user.is_superuser else "")
    return {"portal_nav": nav, "portal_role_label": role}
