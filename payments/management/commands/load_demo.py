"""`python manage.py load_demo` — the realistic demo `make run` loads on every start.

It runs `load_demo_vendors` (programme, vendors, solutions, demo accounts), then, once, the
story of wave 2 so far, entirely through the services (so the audit trail and notifications are
those of real use): dossiers in every state of instruction, referencings in the public catalogue,
enrolled vendors, establishments in the eligible bases, purchase orders from "sent" to
"installed", payment requests, and a run of the eligibility batch. Idempotent: the story is
written only when no dossier exists yet.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import Role, User
from accounts.services import user_create, user_update
from core.identifiers import luhn_key
from core.timeutils import paris_today
from orders import services as orders
from orders.models import Establishment
from payments import services as payments
from referencing_app import rules
from referencing_app import services as referencing
from referencing_app.models import Dossier
from sons.models import EligibleEstablishment, Nature, Scheme
from vendors.management.commands.load_demo_vendors import DEMO_PASSWORD
from vendors.models import SolutionVersion, Vendor

ACTOR = "load_demo"
PDF = b"%PDF-1.7\n% demo SONS\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _finess(departement: str, n: int) -> str:
    body = f"{departement}{n:06d}"
    return body + luhn_key(body)


def _rpps(n: int) -> str:
    body = f"1000{n:06d}"
    return body + luhn_key(body)


ESTABLISHMENTS = [
    # (identifier kind, identifier, name, kind)
    (
        "finess",
        _finess("35", 1201),
        "Centre hospitalier universitaire de Rennes-Pontchaillou (démo)",
        "hospital",
    ),
    (
        "finess",
        _finess("69", 3307),
        "Hospices civils de Lyon — site Édouard-Herriot (démo)",
        "hospital",
    ),
    ("finess", _finess("13", 4410), "Clinique de la Timone (démo)", "hospital"),
    ("rpps", _rpps(4521), "Cabinet du Dr Claire Martin (démo)", "practice"),
    ("rpps", _rpps(4522), "Cabinet du Dr Youssef Haddad (démo)", "practice"),
    ("finess", _finess("33", 5120), "Pharmacie des Chartrons (démo)", "pharmacy"),
    ("finess", _finess("67", 6014), "Laboratoire Biolab Strasbourg (démo)", "laboratory"),
    ("finess", _finess("31", 7022), "Centre d'imagerie de Toulouse-Purpan (démo)", "radiology"),
]
EXTRA_MEMBERS = [  # vendors without a demo account get a legal signatory to file their dossiers
    ("editeur.lumen", "Lumen Imagerie Numérique"),
    ("editeur.biolynx", "Biolynx Systèmes"),
    ("editeur.pharmavance", "Pharmavance Informatique"),
]


class Command(BaseCommand):
    help = "Charge la démonstration complète (programme, éditeurs, dossiers, commandes, paiements)."

    def handle(self, *args, **options):
        call_command("load_demo_vendors", stdout=self.stdout, verbosity=options["verbosity"])
        if Dossier.objects.exists():
            self.stdout.write("Démo : dossiers, commandes et paiements déjà chargés.")
            self._print_story_accounts()
            return
        self.users = {u.username: u for u in User.objects.all()}
        self._members()
        establishments = self._establishments()
        referenced = self._dossiers()
        self._enrol(referenced)
        self._orders(establishments)
        call_command("check_eligibility", stdout=self.stdout, verbosity=0)
        self.stdout.write(self.style.SUCCESS("Démo : histoire de la vague 2 chargée."))
        self._print_story_accounts()

    def _print_story_accounts(self) -> None:
        self.stdout.write(f"Autres comptes de la démo (mot de passe {DEMO_PASSWORD}) :")
        for username, what in [
            *((u, f"éditeur, signataire — {v}") for u, v in EXTRA_MEMBERS),
            ("pharmacie", "établissement, signataire — Pharmacie des Chartrons"),
            ("cabinet.martin", "établissement, signataire — cabinet du Dr Claire Martin"),
        ]:
            self.stdout.write(f"  {username:<22} {what}")
        self.stdout.write(
            "Service : http://127.0.0.1:8000/  ·  API : http://127.0.0.1:8000/api/v1/docs/"
        )

    # --- people and establishments ------------------------------------------------------------
    def _members(self) -> None:
        for username, vendor_name in EXTRA_MEMBERS:
            if username not in self.users:
                self.users[username] = user_create(
                    actor=ACTOR,
                    password=DEMO_PASSWORD,
                    username=username,
                    role=Role.VENDOR,
                    email=f"{username}@demo.sons.example.fr",
                    vendor=Vendor.objects.get(name=vendor_name),
                    signatory=True,
                )

    def _establishments(self) -> list[Establishment]:
        result = []
        for id_kind, identifier, name, kind in ESTABLISHMENTS:
            establishment = Establishment.objects.filter(**{id_kind: identifier}).first() or (
                orders.establishment_create(
                    actor=ACTOR, name=name, kind=kind, **{id_kind: identifier}
                )
            )
            result.append(establishment)
        for scheme in Scheme.objects.filter(
            uses_eligible_base=True, wave__code="VA2"
        ).select_related("category"):
            for establishment in result:
                EligibleEstablishment.objects.get_or_create(
                    scheme=scheme,
                    establishment=establishment.identifier,
                    defaults={"name": establishment.name},
                )
        hospital = result[0]
        user = self.users["etablissement"]
        if user.establishment_id is None:
            self.users["etablissement"] = user_update(
                actor=ACTOR, user=user, establishment=hospital
            )
        for username, establishment, first, last in [
            ("pharmacie", result[5], "Inès", "Moreau"),
            ("cabinet.martin", result[3], "Claire", "Martin"),
        ]:
            if username not in self.users:
                self.users[username] = user_create(
                    actor=ACTOR,
                    password=DEMO_PASSWORD,
                    username=username,
                    role=Role.ESTABLISHMENT,
                    email=f"{username}@demo.sons.example.fr",
                    first_name=first,
                    last_name=last,
                    establishment=establishment,
                    signatory=True,
                )
        return result

    # --- referencing ----------------------------------------------------------------------------
    def _member_of(self, vendor_id) -> User:
        return User.objects.filter(vendor_id=vendor_id, signatory=True).order_by("username").first()

    def _file(self, dossier: Dossier, actor: User, *, complete: bool = True) -> Dossier:
        proof = referencing.evidence_upload(
            actor=actor, upload=SimpleUploadedFile("preuves-recette.pdf", PDF), dossier=dossier
        )
        requirements = dossier.requirement_set.requirements.order_by("position", "code")
        for index, requirement in enumerate(requirements):
            if requirement.nature != Nature.MANDATORY or not rules.applies(
                requirement, dossier.claimed_profiles
            ):
                continue
            evidence = [proof.pk] if complete or index % 3 else []
            referencing.statement_put(
                actor=actor,
                dossier=dossier,
                requirement_code=requirement.code,
                claim="conform",
                justification="Démontré lors de la recette de conformité ; preuves jointes.",
                evidence_ids=evidence,
            )
        return dossier

    def _dossier(self, scheme: Scheme, version: SolutionVersion, target: str) -> Dossier:
        actor = self._member_of(version.solution.vendor_id)
        admin, reviewer = self.users["admin.ans"], self.users["instructeur"]
        dossier = referencing.dossier_create(
            actor=actor, scheme=scheme, solution_version=version, charter_accepted=True
        )
        if target == "draft":
            return dossier
        self._file(dossier, actor)
        dossier = referencing.dossier_submit(actor=actor, dossier=dossier)
        if target == "submitted":
            return dossier
        dossier = referencing.dossier_assign(actor=admin, dossier=dossier, reviewer=reviewer)
        codes = list(
            dossier.requirement_set.requirements.filter(nature=Nature.MANDATORY, profile="general")
            .order_by("position")
            .values_list("code", flat=True)
        )
        for code in codes[: (len(codes) if target == "approved" else 5)]:
            referencing.verdict_put(
                actor=reviewer, dossier=dossier, requirement_code=code, verdict="compliant"
            )
        if target == "in_review":
            return dossier
        if target == "changes_requested":
            referencing.verdict_put(
                actor=reviewer,
                dossier=dossier,
                requirement_code=codes[-1],
                verdict="non_compliant",
                comment="La trace d'appel INSi n'est pas lisible.",
            )
            return referencing.dossier_request_changes(
                actor=reviewer,
                dossier=dossier,
                reason="Merci de fournir une trace technique exploitable.",
                requirement_codes=[codes[-1]],
            )
        referencing.comment_create(
            actor=reviewer,
            dossier=dossier,
            internal=True,
            body="Dossier solide, preuves conformes au REM.",
        )
        return referencing.dossier_approve(actor=admin, dossier=dossier)

    def _dossiers(self) -> list[Dossier]:
        approved = []
        plan = {0: "approved", 1: "in_review"}
        for scheme in (
            Scheme.objects.filter(wave__code="VA2").select_related("category").order_by("code")
        ):
            versions = (
                SolutionVersion.objects.filter(solution__category=scheme.category)
                .select_related("solution")
                .order_by("solution__name", "-released_on", "-number")
            )
            seen = {}
            for version in versions:
                rank = seen.get(version.solution_id, 0)
                seen[version.solution_id] = rank + 1
                target = plan.get(rank)
                if scheme.code == "MDV-LGC-VA2" and rank == 1:
                    target = "changes_requested"
                if scheme.code == "HOP-RI-VA2" and rank == 0:
                    target = "submitted"
                if target is None:
                    continue
                dossier = self._dossier(scheme, version, target)
                if dossier.state == "approved":
                    approved.append(dossier)
        return approved

    def _enrol(self, approved: list[Dossier]) -> None:
        officer = self.users["agent.asp"]
        for vendor in Vendor.objects.filter(
            pk__in={d.vendor_id for d in approved}, enrolled_at__isnull=True
        ):
            if (
                vendor.name != "Biolynx Systèmes"
            ):  # one vendor left to enrol, to show the reason code
                payments.vendor_enrol(actor=officer, vendor=vendor)

    # --- orders and payments -------------------------------------------------------------------------
    def _recovered_switch(self, order, practice: Establishment) -> None:
        """The GP practice first signed with the same vendor, was paid the advance, then the
        order was cancelled by the paying agency: a recovery, paid back, before the order that
        stands today (one funding per practice and scheme)."""
        officer, officer2 = self.users["agent.asp"], self.users["agent.asp2"]
        first = order("MDV-LGC-VA2", practice, "2400.00", self.users["cabinet.martin"], "signed")
        if first is None or not Vendor.objects.get(pk=first.vendor_id).enrolled_at:
            return
        member = self._member_of(first.vendor_id)
        advance, _ = payments.payment_request_create(actor=member, order=first, kind="advance")
        advance = payments.payment_request_approve(actor=officer, request=advance)
        payments.payment_request_mark_paid(
            actor=officer2, request=advance, payment_reference="VIR-2026-000098"
        )
        orders.purchase_order_cancel(
            actor=officer,
            order=first,
            reason="Bon de commande signé en double par le cabinet : annulé, avance à reverser.",
        )
        payments.recovery_mark_recovered(
            actor=officer2, recovery=first.recovery, payment_reference="REMB-2026-000007"
        )

    def _orders(self, establishments: list[Establishment]) -> None:
        officer, officer2 = self.users["agent.asp"], self.users["agent.asp2"]
        by_kind = {"hospital": establishments[0]}
        hospital_signatory = self.users["etablissement"]
        today = paris_today()

        def referenced_version(scheme_code: str) -> SolutionVersion:
            return (
                SolutionVersion.objects.filter(
                    referencings__scheme__code=scheme_code, referencings__state="active"
                )
                .select_related("solution")
                .first()
            )

        def order(scheme_code, establishment, amount, signatory, target):
            version = referenced_version(scheme_code)
            if version is None:
                return None
            vendor_actor = self._member_of(version.solution.vendor_id)
            po = orders.purchase_order_create(
                actor=vendor_actor,
                establishment=establishment,
                scheme=Scheme.objects.get(code=scheme_code),
                solution_version=version,
                amount=Decimal(amount),
            )
            if target == "draft":
                return po
            po = orders.purchase_order_send(actor=vendor_actor, order=po)
            if target == "sent":
                return po
            po = orders.purchase_order_sign(actor=signatory, order=po)
            if target == "signed":
                return po
            report = referencing.evidence_upload(
                actor=vendor_actor, upload=SimpleUploadedFile("pv-verification-aptitude.pdf", PDF)
            )
            po = orders.purchase_order_declare_installation(
                actor=vendor_actor, order=po, installed_on=today, version=version, report=report
            )
            if target == "installation_declared":
                return po
            po = orders.purchase_order_reserve(
                actor=signatory,
                order=po,
                reservations=["L'alimentation du DMP échoue pour les mineurs."],
            )
            if target == "reserved":
                return po
            po = orders.purchase_order_lift_reservations(actor=vendor_actor, order=po)
            return orders.purchase_order_confirm_installation(actor=signatory, order=po)

        hospital = by_kind["hospital"]
        dpi = order("HOP-DPI-VA2", hospital, "120000.00", hospital_signatory, "reserved")
        pfi = order("HOP-PFI-VA2", hospital, "48000.00", hospital_signatory, "installed")
        order("HOP-DPI-VA2", establishments[1], "98000.00", None, "sent")
        pharmacy = order(
            "OFF-LGO-VA2", establishments[5], "1100.00", self.users["pharmacie"], "installed"
        )
        self._recovered_switch(order, establishments[3])
        order(
            "MDV-LGC-VA2",
            establishments[3],
            "2400.00",
            self.users["cabinet.martin"],
            "installation_declared",
        )
        for po in (pfi, pharmacy):
            if po is None:
                continue
            member = self._member_of(po.vendor_id)
            if not Vendor.objects.get(pk=po.vendor_id).enrolled_at:
                continue
            advance, _ = payments.payment_request_create(actor=member, order=po, kind="advance")
            advance = payments.payment_request_approve(actor=officer, request=advance)
            payments.payment_request_mark_paid(
                actor=officer2, request=advance, payment_reference="VIR-2026-000117"
            )
            payments.payment_request_create(actor=member, order=po, kind="balance")
        if dpi is not None and Vendor.objects.get(pk=dpi.vendor_id).enrolled_at:
            payments.payment_request_create(
                actor=self._member_of(dpi.vendor_id), order=dpi, kind="advance"
            )
