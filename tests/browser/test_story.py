"""The whole story through the web pages, in a real browser, each person logged in with their
own account through the login form:

vendor declares a version and files a dossier (statements, evidence) → ANS admin assigns →
reviewer judges and requests changes → vendor corrects and deposits again → admin re-assigns →
reviewer judges all compliant → another admin approves (four-eyes) → the version is in the
public catalogue → vendor drafts and sends a purchase order → establishment signs → vendor
uploads the acceptance report and declares the installation → establishment reserves → vendor
lifts → establishment confirms → an ASP officer enrols the vendor → vendor requests the advance,
one officer approves and another pays (four-eyes), then the same for the balance → the officer
runs the eligibility check, reads the payment queue and the deployment dashboard.

Each main page is screenshotted into artifacts/screenshots/ and checked with axe-core (no
serious or critical violation). A second test reads the deployment dashboard on varied data.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from core.audit import audit_verify
from core.models import AuditEntry
from core.timeutils import paris_today
from orders.models import PurchaseOrder
from payments import services as payment_services
from payments.models import PaymentRequest
from referencing_app.models import Dossier, Referencing
from sons.models import Scheme
from tests.browser.helpers import TIMEOUT_MS
from tests.factories.accounts import UserFactory
from tests.factories.orders import EstablishmentFactory, make_order_world, order_in
from tests.factories.referencing import PDF, published_scheme
from tests.factories.sons import WaveFactory, programme_category
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory, VendorFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCHEME = "HOP-DPI-V2T"
VERSION = "2026.1"
PDF_MIME = "application/pdf"


def _cast() -> dict:
    """A wave-2-like scheme with a published requirement set (2 mandatory requirements with
    evidence, 1 recommendation, 1 requirement of profile IAM), a vendor with one solution, an
    establishment, and one account per person of the story."""
    scheme = published_scheme(
        code=SCHEME, name="Dossier patient informatisé — vague 2 (test navigateur)"
    )
    vendor = VendorFactory(name="Hospitalia Logiciels (test)")
    solution = SolutionFactory(vendor=vendor, category=scheme.category, name="Hospitalia DPI")
    SolutionVersionFactory(solution=solution, number="2025.4")  # an older, unreferenced version
    establishment = EstablishmentFactory(name="Centre hospitalier de Vitré (test)")

    def user(username, first, last, role, **kwargs):
        return UserFactory(username=username, first_name=first, last_name=last, role=role, **kwargs)

    return {
        "scheme": scheme,
        "vendor": vendor,
        "solution": solution,
        "establishment": establishment,
        "vendor_user": user(
            "c.durand", "Claire", "Durand", Role.VENDOR, vendor=vendor, signatory=True
        ),
        "admin": user("a.martin", "Alice", "Martin", Role.ANS_ADMIN),
        "admin2": user("b.bernard", "Bruno", "Bernard", Role.ANS_ADMIN),
        "reviewer": user("i.petit", "Inès", "Petit", Role.REVIEWER),
        "officer": user("o.leroy", "Omar", "Leroy", Role.PAYMENT_OFFICER),
        "officer2": user("p.moreau", "Paula", "Moreau", Role.PAYMENT_OFFICER),
        "signatory": user(
            "e.roux",
            "Émilie",
            "Roux",
            Role.ESTABLISHMENT,
            establishment=establishment,
            signatory=True,
        ),
    }


def _fill_statement(
    vendor, code: str, justification: str, proof: str | None, before_saving=None
) -> None:
    """On the requirement page: upload a proof (it comes back ticked), write the statement,
    save; back on the dossier editor."""
    page = vendor.page
    vendor.expect_text(f"{code} — Exigence {code}", "h1")
    if proof:
        vendor.upload("#evidence-upload-form #id_file", proof, PDF, PDF_MIME)
        vendor.submit("#btn-upload-evidence")
        vendor.expect_message(f"Preuve « {proof} » déposée")
        expect(page.get_by_label(re.compile(re.escape(proof)))).to_be_checked()
    vendor.check("id_claim_0")  # « Conforme »
    page.locator("#id_justification").fill(justification)
    if before_saving:
        before_saving(page)
    vendor.submit("#btn-save-statement")
    vendor.expect_message(f"Déclaration enregistrée pour l'exigence {code}.")


def _loose(text: str) -> re.Pattern:
    """`text` as a pattern where any space (French amounts use no-break spaces) matches any
    white space: accessible names are compared with their white space normalised."""
    return re.compile(r"\s+".join(re.escape(part) for part in re.split(r"\s+", text)))


def _esc(code: str) -> str:
    """A requirement code in a CSS id selector (its dots escaped)."""
    return code.replace(".", "\\.")


def _verdict(reviewer, code: str, value: str, comment: str = "") -> None:
    """Give a verdict on the instruction page (the form is sent by htmx: the requirement's
    block is replaced in place)."""
    page = reviewer.page
    block = page.locator(f"#req-{_esc(code)}")
    reviewer.check(f"verdict-{code}-{value}")
    if comment:  # the field shows the previous verdict's comment
        block.locator("textarea[name=comment]").fill(comment)
    block.locator(f"#btn-verdict-{_esc(code)}").click()
    # the confirmation inside the block comes with htmx's answer only (a plain POST redirects
    # and shows it among the page's messages)
    expect(block.locator(".fr-alert--success")).to_have_text(
        f"Avis enregistré pour l'exigence {code}."
    )
    label = {"compliant": "Conforme", "non_compliant": "Non conforme"}[value]
    expect(block.locator(".fr-badge[data-state]")).to_have_text(label)


def test_whole_story_through_the_pages(page, login_as, page_checks):
    page.set_default_timeout(TIMEOUT_MS)
    cast = _cast()
    scheme, establishment = cast["scheme"], cast["establishment"]
    dossier_link = f"{SCHEME} · Hospitalia DPI {VERSION}"

    # --- anonymous: the login page -----------------------------------------------------------
    page.goto(page.base_url + "/connexion/")
    expect(page.locator("h1")).to_have_text("Connexion au service SONS")
    page_checks.capture(page, "01-login")

    # --- 1. the vendor declares the version, opens and fills the dossier, deposits it -------
    vendor = login_as(cast["vendor_user"])
    vendor.expect_text("Tableau de bord — Hospitalia Logiciels (test)", "h1")
    page_checks.capture(vendor.page, "02-home-vendor")

    vendor.nav("Logiciels")
    solution_pk = cast["solution"].pk
    vendor.page.locator(f"#version-number-{solution_pk}").fill(VERSION)
    vendor.submit(f"#btn-version-{solution_pk}")
    vendor.expect_message(f"Version {VERSION} de Hospitalia DPI déclarée.")
    page_checks.capture(vendor.page, "03-vendor-solutions")

    vendor.nav("Dossiers")
    vendor.follow("Nouveau dossier")
    vendor.field("Dispositif").select_option(label=SCHEME)
    vendor.field("Version du logiciel").select_option(label=f"Hospitalia DPI {VERSION}")
    vendor.check("id_charter_accepted")
    vendor.submit("#btn-dossier-create")
    vendor.expect_message("Dossier de référencement ouvert.")
    vendor.expect_badge("main > p", "Brouillon")
    expect(vendor.page.locator("#charter-missing")).to_have_count(0)
    expect(vendor.page.locator("#missing-list")).to_contain_text("SC.INS.01")

    vendor.follow("Renseigner l'exigence SC.INS.01")
    _fill_statement(
        vendor,
        "SC.INS.01",
        "Appel INSi démontré en recette.",
        "trace-insi.pdf",
        before_saving=lambda page: page_checks.capture(page, "05-requirement"),
    )

    vendor.follow("Renseigner l'exigence SC.DMP.01")
    _fill_statement(vendor, "SC.DMP.01", "Alimentation du DMP en recette.", "dmp.pdf")
    vendor.follow("Renseigner l'exigence SC.SEC.09")  # a recommendation, no proof
    _fill_statement(vendor, "SC.SEC.09", "Journalisation des accès en place.", None)

    expect(vendor.page.locator("#missing-none")).to_be_visible()
    expect(vendor.page.locator("#requirements-table")).to_contain_text("trace-insi.pdf")
    page_checks.capture(vendor.page, "04-dossier-editor")
    vendor.submit("#btn-submit-dossier")
    vendor.expect_message("Dossier déposé.")
    vendor.expect_badge("main > p", "Déposé")
    dossier = Dossier.objects.get(scheme=scheme, solution_version__number=VERSION)

    # --- 2. an ANS admin assigns; the reviewer judges and requests changes -------------------
    admin = login_as(cast["admin"])
    admin.expect_text("Tableau de bord — pilotage ANS", "h1")
    expect(admin.page.locator("main")).to_contain_text(dossier_link)
    page_checks.capture(admin.page, "06-home-admin")
    admin.follow(dossier_link)
    admin.field("Instructeur").select_option(value=str(cast["reviewer"].pk))
    admin.submit("#btn-assign")
    admin.expect_message("Dossier attribué à")
    admin.expect_message("l'instruction est ouverte")
    admin.expect_badge("main > p", "En instruction")

    reviewer = login_as(cast["reviewer"])
    reviewer.expect_text("Tableau de bord — instruction", "h1")
    page_checks.capture(reviewer.page, "07-home-reviewer")
    reviewer.follow(dossier_link)
    reviewer.expect_text("trace-insi.pdf", "#req-SC\\.INS\\.01")
    page_checks.capture(reviewer.page, "08-instruction")
    _verdict(reviewer, "SC.INS.01", "compliant")
    _verdict(reviewer, "SC.DMP.01", "non_compliant", "La trace d'alimentation du DMP manque.")
    reviewer.page.reload()
    expect(reviewer.page.locator("#id_requirements_0")).to_be_checked()  # SC.DMP.01
    reviewer.page.locator("#request-changes-form textarea[name=reason]").fill(
        "Joindre la trace d'alimentation du DMP (SC.DMP.01)."
    )
    reviewer.submit("#btn-request-changes")
    reviewer.expect_message("Corrections demandées à l'éditeur.")
    reviewer.expect_badge("main > p", "Corrections demandées")

    # --- 3. the vendor corrects and deposits again -------------------------------------------
    vendor.goto("/")
    expect(vendor.page.locator("main")).to_contain_text("Corrections demandées")
    vendor.follow(re.compile(re.escape(dossier_link)))
    vendor.expect_badge("main > p", "Corrections demandées")
    vendor.expect_text("Joindre la trace d'alimentation du DMP")
    vendor.expect_text("La trace d'alimentation du DMP manque.", "#req-SC\\.DMP\\.01")
    vendor.follow("Modifier l'exigence SC.DMP.01")
    _fill_statement(
        vendor, "SC.DMP.01", "Trace d'alimentation du DMP jointe.", "dmp-trace-alimentation.pdf"
    )
    expect(vendor.page.locator("#btn-submit-dossier")).to_have_text("Déposer les corrections")
    vendor.submit("#btn-submit-dossier")
    vendor.expect_message("Dossier déposé.")
    vendor.expect_badge("main > p", "Déposé")

    # --- 4. re-assigned, judged all compliant, approved by another admin ---------------------
    admin.goto("/")
    admin.follow(dossier_link)
    admin.field("Instructeur").select_option(value=str(cast["reviewer"].pk))
    admin.submit("#btn-assign")
    admin.expect_message("l'instruction est ouverte")

    reviewer.goto("/")
    reviewer.follow(dossier_link)
    reviewer.expect_text("Modifiées au dernier dépôt (1)")
    reviewer.expect_text("Modifiée au dernier dépôt", "#req-SC\\.DMP\\.01")
    _verdict(reviewer, "SC.DMP.01", "compliant", "Trace d'alimentation jointe : conforme.")
    for code in ("SC.INS.01", "SC.SEC.09"):
        _verdict(reviewer, code, "compliant")
    expect(reviewer.page.locator("#btn-verdict-DPI\\.IAM\\.01")).to_have_count(0)  # IAM not claimed

    admin2 = login_as(cast["admin2"])
    admin2.expect_text(dossier_link, "#in-review + ul")
    admin2.follow(dossier_link)
    admin2.expect_text("Principe des quatre yeux", "#decision")
    expect(admin2.page.locator("#decision")).not_to_contain_text("L'approbation demande")
    page_checks.capture(admin2.page, "09-admin-decision")
    admin2.submit("#btn-approve")
    admin2.expect_message(re.compile(r"Dossier approuvé : référencement \S+\."))
    admin2.expect_badge("main > p", "Référencé")
    reference = Referencing.objects.get(dossier=dossier).reference
    admin2.expect_text(reference, "#decision")

    vendor.goto(f"/editeur/dossiers/{dossier.pk}/")
    vendor.expect_text("Logiciel référencé")
    vendor.expect_text(reference)

    page.goto(page.base_url + "/catalogue/")
    expect(page.locator("#catalogue-table")).to_contain_text(f"Hospitalia DPI {VERSION}")
    expect(page.locator("#catalogue-table")).to_contain_text(reference)
    page_checks.capture(page, "00-catalogue")

    # --- 5. purchase order: drafted and sent by the vendor, signed by the establishment ------
    vendor.nav("Bons de commande")
    vendor.follow("Nouveau bon de commande")
    vendor.field("Établissement (FINESS ou RPPS)").fill(establishment.finess)
    vendor.field("Dispositif").select_option(label=SCHEME)
    vendor.field("Version commandée").select_option(label=f"Hospitalia DPI {VERSION}")
    vendor.field("Montant (€ HT)").fill("20000")
    vendor.submit("#btn-order-create")
    vendor.expect_message("Bon de commande créé (brouillon)")
    vendor.expect_badge("#order-summary", "Brouillon")
    vendor.submit("#btn-order-send")
    vendor.expect_message("Bon de commande envoyé à l'établissement pour signature.")
    vendor.expect_badge("#order-summary", "Envoyé")
    order = PurchaseOrder.objects.get(establishment=establishment, scheme=scheme)
    order_path = f"/editeur/commandes/{order.pk}/"

    hospital = login_as(cast["signatory"])
    hospital.expect_text("Tableau de bord — Centre hospitalier de Vitré (test)", "h1")
    page_checks.capture(hospital.page, "10-home-establishment")
    hospital.follow(re.compile(r"Hospitalia Logiciels \(test\) — Hospitalia DPI 2026\.1"))
    hospital.expect_badge("#order-summary", "Envoyé")
    page_checks.capture(hospital.page, "11-establishment-order")
    hospital.submit("#btn-order-sign")
    hospital.expect_message("Bon de commande signé.")
    hospital.expect_badge("#order-summary", "Signé")

    # --- 6. the vendor uploads the acceptance report and declares the installation ------------
    vendor.goto(order_path)
    vendor.expect_badge("#order-summary", "Signé")
    vendor.upload("#report-upload-form #id_file", "pv-va-vitre.pdf", PDF, PDF_MIME)
    vendor.submit("#btn-upload-report")
    vendor.expect_message("Procès-verbal « pv-va-vitre.pdf » déposé")
    expect(vendor.page.locator("#declare-form select[name=report] option:checked")).to_have_text(
        "pv-va-vitre.pdf"
    )
    vendor.page.locator("#declare-form input[name=installed_on]").fill(paris_today().isoformat())
    page_checks.capture(vendor.page, "12-vendor-order")
    vendor.submit("#btn-order-declare")
    vendor.expect_message("Installation déclarée")
    vendor.expect_badge("#order-summary", "Installation déclarée")

    # --- 7. the establishment reserves, the vendor lifts, the establishment confirms ---------
    hospital.goto("/")
    hospital.follow(re.compile(r"Hospitalia Logiciels \(test\) — Hospitalia DPI 2026\.1"))
    hospital.field("Réserves").fill("Flux DMP non testé\nFormation des équipes à planifier")
    hospital.submit("#btn-order-reserve")
    hospital.expect_message("Réserves enregistrées : l'éditeur doit les lever.")
    hospital.expect_badge("#order-summary", "Installation avec réserves")

    vendor.goto(order_path)
    vendor.expect_text("Flux DMP non testé — ouverte", "#reservations-list")
    vendor.submit("#btn-order-lift")
    vendor.expect_message("Réserves levées")
    vendor.expect_badge("#order-summary", "Installation déclarée")

    hospital.page.reload()
    hospital.submit("#btn-order-confirm")
    hospital.expect_message("Installation confirmée : la mise à jour est installée.")
    hospital.expect_badge("#order-summary", "Installé")

    # --- 8. an ASP officer enrols the vendor; the vendor requests the advance ------------------
    officer = login_as(cast["officer"])
    officer.expect_text("Tableau de bord — paiements", "h1")
    officer.nav("Enrôlement")
    officer.submit(officer.page.get_by_role("button", name="Enrôler Hospitalia Logiciels (test)"))
    officer.expect_message("Hospitalia Logiciels (test) est enrôlé auprès de l'ASP.")

    officer2 = login_as(cast["officer2"])

    def request_and_pay(kind: str, label: str, amount: str, transfer: str) -> None:
        vendor.goto(order_path)
        vendor.submit(f"#btn-request-{kind}")
        vendor.expect_message(f"Demande de paiement ({label.lower()}) déposée auprès de l'ASP.")
        vendor.expect_text(f"{label} de {amount}", "#payments")
        # --- 9. one officer approves, another pays
        officer.goto("/")
        officer.follow(_loose(f"{label} {amount}"), within="#to-approve + ul")
        if kind == "advance":
            page_checks.capture(officer.page, "14-payment-request")
        officer.expect_text("Aucun motif ne s'oppose au paiement.")
        officer.submit("#btn-approve-payment")
        officer.expect_message("Demande validée")
        officer.expect_badge("main > p", "Validée")
        if kind == "advance":  # four-eyes: the officer who approved is not offered to pay
            expect(officer.page.locator("#btn-pay")).to_have_count(0)
            expect(officer.page.locator("#four-eyes")).to_be_visible()
        officer2.goto("/")
        officer2.follow(_loose(f"{label} {amount}"), within="#to-pay + ul")
        officer2.field("Référence du virement").fill(transfer)
        officer2.submit("#btn-pay")
        officer2.expect_message("Demande marquée payée.")
        officer2.expect_badge("main > p", "Payée")
        officer2.expect_text(f"virement {transfer}", "main > p")

    request_and_pay("advance", "Avance", "6\u202f000,00\u00a0€", "VIR-2026-0001")
    request_and_pay("balance", "Solde", "14\u202f000,00\u00a0€", "VIR-2026-0002")
    vendor.goto(order_path)
    paid = vendor.page.locator("#payments ul").first.locator("li")
    expect(paid).to_have_count(2)
    expect(paid.nth(0)).to_contain_text("Avance de 6")
    expect(paid.nth(0)).to_contain_text("Payée")
    expect(paid.nth(1)).to_contain_text("Solde de 14")
    expect(paid.nth(1)).to_contain_text("Payée")

    # --- the officer's pages: home, eligibility check, payment queue, deployment -------------
    officer.goto("/")
    expect(officer.page.locator("#to-approve")).to_have_text("Demandes à valider (0)")
    page_checks.capture(officer.page, "13-home-officer")
    officer.nav("Contrôles")
    officer.submit("#btn-run-eligibility")
    officer.expect_message("Contrôle d'éligibilité lancé.")
    expect(officer.page.locator("#runs-table")).to_contain_text(SCHEME)
    expect(officer.page.locator("#runs-table")).to_contain_text("Terminé")
    page_checks.capture(officer.page, "17-eligibility-runs")
    officer.nav("File de paiement")
    expect(officer.field("Nature").locator("option:checked")).to_have_text("Solde")
    expect(officer.page.locator("#queue-table")).to_contain_text("Centre hospitalier de Vitré")
    page_checks.capture(officer.page, "15-payment-queue")
    officer.nav("Déploiement")
    expect(officer.page.locator("#deployment-scheme")).to_contain_text(SCHEME)
    page_checks.capture(officer.page, "16-deployment")

    # --- the database agrees -------------------------------------------------------------------
    dossier = Dossier.objects.get(pk=dossier.pk)  # FSM-protected state: no refresh_from_db
    assert dossier.state == "approved"
    assert dossier.revision == 2
    referencing = Referencing.objects.get(dossier=dossier)
    assert referencing.state == "active"
    order = PurchaseOrder.objects.get(pk=order.pk)
    assert order.state == "installed"
    assert order.amount == Decimal("20000.00")
    assert order.reservations.count() == 2
    assert not order.reservations.filter(lifted_at__isnull=True).exists()
    requests = {p.kind: p for p in PaymentRequest.objects.filter(order=order)}
    assert set(requests) == {"advance", "balance"}
    assert {p.state for p in requests.values()} == {"paid"}
    assert requests["advance"].amount == Decimal("6000.00")
    assert requests["balance"].amount == Decimal("14000.00")
    assert requests["advance"].approved_by == cast["officer"]
    assert requests["advance"].paid_by == cast["officer2"]
    cast["vendor"].refresh_from_db()
    assert cast["vendor"].enrolled_at is not None

    # the audit trail tells the same story, each step by its own person, and its chain holds
    trail = list(AuditEntry.objects.order_by("seq").values_list("action", "actor_repr"))
    expected = [
        ("solution_version.create", "c.durand"),
        ("dossier.create", "c.durand"),
        ("dossier.submit", "c.durand"),
        ("dossier.assign", "a.martin"),
        ("dossier.request_changes", "i.petit"),
        ("dossier.submit", "c.durand"),
        ("dossier.assign", "a.martin"),
        ("dossier.approve", "b.bernard"),
        ("purchase_order.create", "c.durand"),
        ("purchase_order.send", "c.durand"),
        ("purchase_order.sign", "e.roux"),
        ("purchase_order.declare_installation", "c.durand"),
        ("purchase_order.reserve", "e.roux"),
        ("purchase_order.lift_reservations", "c.durand"),
        ("purchase_order.confirm_installation", "e.roux"),
        ("vendor.enrol", "o.leroy"),
        ("payment_request.create.advance", "c.durand"),
        ("payment_request.approve", "o.leroy"),
        ("payment_request.mark_paid", "p.moreau"),
        ("payment_request.create.balance", "c.durand"),
        ("payment_request.approve", "o.leroy"),
        ("payment_request.mark_paid", "p.moreau"),
    ]
    remaining = iter(trail)
    missing = [step for step in expected if step not in remaining]  # in this order
    assert not missing, (missing, trail)
    verdicts = [a for a in trail if a == ("dossier.verdict", "i.petit")]
    assert len(verdicts) == 5
    assert AuditEntry.objects.filter(object_id=str(dossier.pk), to_state="approved").exists()
    assert audit_verify().ok

    page_checks.assert_accessible()


def _with_balance_request(ow, order, officer2) -> None:
    """Advance requested, approved and paid; balance requested (through the services)."""
    advance, _created = payment_services.payment_request_create(
        actor=ow.member, order=order, kind="advance"
    )
    payment_services.payment_request_approve(actor=ow.officer, request=advance)
    payment_services.payment_request_mark_paid(
        actor=officer2, request=advance, payment_reference=f"VIR-{order.pk.hex[:8]}"
    )
    payment_services.payment_request_create(actor=ow.member, order=order, kind="balance")


def test_deployment_dashboard_table_and_charts(login_as, page_checks):
    """Two schemes of two waves, orders in various states: the wave-1 style table (ordered,
    installed, rate, with / without balance request, not installed) and the three SVG charts."""
    hop = make_order_world(code="HOP-DPI-T1", wave=WaveFactory(code="VA2", name="Vague 2"))
    mdv = make_order_world(
        code="MDV-LGC-T1",
        wave=WaveFactory(code="VA1", name="Vague 1"),
        category=programme_category("LGC"),
    )
    officer2 = UserFactory(role=Role.PAYMENT_OFFICER)

    def order(ow, state):
        return order_in(ow, state, establishment=EstablishmentFactory())

    order(hop, "lapsed")  # first: the lapse sweep would lapse every signed order
    _with_balance_request(hop, order(hop, "installed"), officer2)
    order(hop, "installed")
    order(hop, "reserved")
    order(hop, "signed")
    order(hop, "sent")  # not ordered yet: not counted
    order(hop, "cancelled")
    _with_balance_request(mdv, order(mdv, "installed"), officer2)
    order(mdv, "installation_declared")
    assert Scheme.objects.count() == 2

    admin = login_as(hop.admin)
    admin.nav("Déploiement")
    page = admin.page
    expect(page.locator("h1")).to_have_text("Tableau de bord du déploiement")

    for table in ("#deployment-category", "#deployment-scheme"):
        headers = page.locator(f"{table} thead th").all_inner_texts()
        assert headers[1:] == [
            "Commandées",
            "Installées",
            "Taux",
            "Avec solde",
            "Sans solde",
            "Non installées",
        ], headers

    def row(table: str, name: str) -> list[str]:
        line = page.locator(f"{table} tbody tr").filter(has=page.locator("th", has_text=name))
        expect(line).to_have_count(1)
        return [c.strip() for c in line.locator("th, td").all_inner_texts()]

    # ordered = signed or later (lapsed included); sent and cancelled are not
    assert row("#deployment-category", "DPI (VA2)") == [
        "DPI (VA2)", "5", "2", "40,0\u00a0%", "1", "1", "3"
    ]  # fmt: skip
    assert row("#deployment-category", "LGC (VA1)") == [
        "LGC (VA1)", "2", "1", "50,0\u00a0%", "1", "0", "1"
    ]  # fmt: skip
    assert row("#deployment-scheme", "HOP-DPI-T1")[1:] == ["5", "2", "40,0\u00a0%", "1", "1", "3"]
    assert row("#deployment-scheme", "MDV-LGC-T1")[1:] == ["2", "1", "50,0\u00a0%", "1", "0", "1"]
    expect(page.locator("#deployment-months tbody tr")).to_have_count(1)
    expect(page.locator("#deployment-months tbody tr td").first).to_have_text("3")

    charts = page.locator("svg.portal-chart[role=img]")
    expect(charts).to_have_count(3)
    titles = [charts.nth(i).locator("title").first.text_content() for i in range(3)]
    assert titles == [
        "Taux d'installation par type de logiciel",
        "Installations avec et sans demande de solde",
        "Installations au fil du temps",
    ]
    for i in range(3):
        labelled_by = charts.nth(i).get_attribute("aria-labelledby").split()
        assert len(labelled_by) == 2
        assert page.locator(f"#{labelled_by[1]}").text_content()  # the <desc>
    rate = charts.nth(0)
    expect(rate.locator("desc")).to_contain_text("DPI (VA2) : 40,0 %")
    expect(rate.locator("desc")).to_contain_text("LGC (VA1) : 50,0 %")
    expect(rate.locator("rect")).to_have_count(2)
    split = charts.nth(1)
    expect(split.locator("desc")).to_contain_text(
        "DPI (VA2) : 1 avec solde, 1 sans solde, 3 non installés"
    )
    # segments: DPI 3 (with, without, not installed), LGC 2 (with, not installed)
    expect(split.locator("rect")).to_have_count(5)
    expect(split.locator("rect title").first).to_have_text("Installé, solde demandé : 1")
    time = charts.nth(2)
    expect(time.locator("rect")).to_have_count(1)
    expect(time.locator("rect title")).to_have_text(re.compile(r"^\S+ \d{4} : 3$"))
    assert time.locator("text[text-anchor=end]").all_text_contents() == ["0", "1", "2", "3", "4"]
    assert charts.nth(0).bounding_box()["width"] > 300
    page_checks.capture(page, "18-deployment-demo-data")
    page_checks.assert_accessible()
