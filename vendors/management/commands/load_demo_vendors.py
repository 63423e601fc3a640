"""`python manage.py load_demo_vendors` — the vendors and accounts part of `load_demo`.

Idempotent: it creates what is missing and never changes what exists (a demo account whose
password was changed keeps it). Order: the programme (`load_programme`: waves, schemes,
requirements), then demo vendors with valid identifiers, their solutions and versions, then one
demo account per role. Every object is created through the services, so the audit trail shows
them, with the system actor `load_demo`.

The companies are invented; their SIREN, SIRET and IBAN are valid (keys computed) but belong to
nobody we know of.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from accounts.services import user_create
from sons.models import Category
from vendors import services
from vendors.models import Solution, SolutionVersion, Vendor

ACTOR = "load_demo"
# Demo accounts only, printed by this command; it passes the configured password validators.
DEMO_PASSWORD = "demo-sons-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoSolution:
    name: str
    category: str
    versions: tuple[tuple[str, dt.date], ...]


@dataclass(frozen=True)
class DemoVendor:
    name: str
    siren: str
    siret: str
    nie: str
    iban: str
    solutions: tuple[DemoSolution, ...] = field(default_factory=tuple)


def _versions(*pairs: tuple[str, tuple[int, int, int]]) -> tuple[tuple[str, dt.date], ...]:
    return tuple((number, dt.date(*ymd)) for number, ymd in pairs)


DEMO_VENDORS: tuple[DemoVendor, ...] = (
    DemoVendor(
        name="Hospitalia Logiciels SAS",
        siren="842135766",
        siret="84213576600017",
        nie="ED0142",
        iban="FR7630004008190001024567147",
        solutions=(
            DemoSolution(
                "Hospitalia Dossier Patient",
                "DPI",
                _versions(("2024.2", (2024, 11, 4)), ("2025.1", (2025, 6, 16))),
            ),
            DemoSolution(
                "Hospitalia Identito",
                "RI",
                _versions(("3.4.0", (2024, 9, 2)), ("4.0.0", (2025, 5, 12))),
            ),
            DemoSolution(
                "Hospitalia Passerelle",
                "PFI",
                _versions(("1.8", (2024, 10, 21)), ("2.0", (2025, 7, 7))),
            ),
        ),
    ),
    DemoVendor(
        name="Praxéo Santé",
        siren="819473620",
        siret="81947362000014",
        nie="ED0217",
        iban="FR7630003012300005037821417",
        solutions=(
            DemoSolution(
                "Praxéo Cabinet",
                "LGC",
                _versions(("11.2", (2024, 12, 9)), ("12.0", (2025, 9, 1))),
            ),
        ),
    ),
    DemoVendor(
        name="Lumen Imagerie Numérique",
        siren="882304157",
        siret="88230415700010",
        nie="ED0305",
        iban="FR7620041010050512345678996",
        solutions=(
            DemoSolution(
                "Lumen RIS",
                "SIR",
                _versions(("7.1", (2024, 11, 18)), ("7.2", (2025, 4, 28))),
            ),
        ),
    ),
    DemoVendor(
        name="Biolynx Systèmes",
        siren="795186246",
        siret="79518624600018",
        nie="ED0388",
        iban="FR7630002005500000719452137",
        solutions=(
            DemoSolution(
                "Biolynx LIMS",
                "SGL",
                _versions(("5.9", (2024, 10, 7)), ("6.0", (2025, 3, 31))),
            ),
        ),
    ),
    DemoVendor(
        name="Pharmavance Informatique",
        siren="903641520",
        siret="90364152000015",
        nie="ED0451",
        iban="FR7610207000260402158963104",
        solutions=(
            DemoSolution(
                "Pharmavance Officine",
                "LGO",
                _versions(("2024.4", (2024, 12, 2)), ("2025.2", (2025, 6, 30))),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    first_name: str
    last_name: str
    vendor_siren: str | None = None
    signatory: bool = False
    superuser: bool = False
    note: str = ""


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "admin.ans", Role.ANS_ADMIN, "Agnès", "Roux", superuser=True, note="+ admin Django"
    ),
    DemoAccount("instructeur", Role.REVIEWER, "Julien", "Perrin"),
    DemoAccount("instructeur2", Role.REVIEWER, "Sophie", "Garnier"),
    DemoAccount("agent.asp", Role.PAYMENT_OFFICER, "Karim", "Benali"),
    DemoAccount(
        "agent.asp2", Role.PAYMENT_OFFICER, "Hélène", "Marchal", note="second agent (4 yeux)"
    ),
    DemoAccount(
        "editeur",
        Role.VENDOR,
        "Marc",
        "Lefèvre",
        vendor_siren="842135766",
        signatory=True,
        note="Hospitalia Logiciels SAS, signataire",
    ),
    DemoAccount(
        "editeur2",
        Role.VENDOR,
        "Élodie",
        "Faure",
        vendor_siren="819473620",
        signatory=True,
        note="Praxéo Santé, signataire",
    ),
    DemoAccount(
        "etablissement",
        Role.ESTABLISHMENT,
        "Nathalie",
        "Girard",
        signatory=True,
        note="signataire",
    ),
)


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les comptes de démo."

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        self.created: dict[str, int] = {"vendors": 0, "solutions": 0, "versions": 0, "users": 0}
        self._load_programme()
        vendors = {spec.siren: self._vendor(spec) for spec in DEMO_VENDORS}
        for spec in DEMO_VENDORS:
            for solution_spec in spec.solutions:
                solution = self._solution(vendors[spec.siren], solution_spec)
                for number, released_on in solution_spec.versions:
                    self._version(solution, number, released_on)
        for account in DEMO_ACCOUNTS:
            self._account(account, vendors)
        self.stdout.write(
            "Démo : {vendors} éditeur(s), {solutions} logiciel(s), {versions} version(s), "
            "{users} compte(s) créé(s).".format(**self.created)
        )
        self._print_accounts()

    # --- steps ------------------------------------------------------------------------------
    def _load_programme(self) -> None:
        """Waves, schemes and requirements first; tolerated missing while it is being written."""
        try:
            call_command("load_programme", verbosity=self.verbosity)
        except CommandError:
            if "load_programme" in get_commands():
                raise
            self.stderr.write(
                "La commande load_programme n'existe pas encore : programme non chargé."
            )

    def _vendor(self, spec: DemoVendor) -> Vendor:
        vendor = Vendor.objects.filter(siren=spec.siren).first()
        if vendor is None:
            vendor = services.vendor_create(
                actor=ACTOR,
                name=spec.name,
                siren=spec.siren,
                siret=spec.siret,
                nie=spec.nie,
                iban=spec.iban,
            )
            self.created["vendors"] += 1
        return vendor

    def _solution(self, vendor: Vendor, spec: DemoSolution) -> Solution:
        category = Category.objects.get(code=spec.category)
        solution = Solution.objects.filter(
            vendor=vendor, category=category, name__iexact=spec.name
        ).first()
        if solution is None:
            solution = services.solution_create(
                actor=ACTOR, vendor=vendor, name=spec.name, category=category
            )
            self.created["solutions"] += 1
        return solution

    def _version(self, solution: Solution, number: str, released_on: dt.date) -> None:
        if not SolutionVersion.objects.filter(solution=solution, number__iexact=number).exists():
            services.solution_version_create(
                actor=ACTOR, solution=solution, number=number, released_on=released_on
            )
            self.created["versions"] += 1

    def _account(self, account: DemoAccount, vendors: dict[str, Vendor]) -> None:
        if User.objects.filter(username__iexact=account.username).exists():
            return
        user_create(
            actor=ACTOR,
            password=DEMO_PASSWORD,
            username=account.username,
            email=f"{account.username}@demo.sons.example.fr",
            first_name=account.first_name,
            last_name=account.last_name,
            role=account.role,
            vendor=vendors[account.vendor_siren] if account.vendor_siren else None,
            signatory=account.signatory,
            is_staff=account.superuser,
            is_superuser=account.superuser,
        )
        self.created["users"] += 1

    def _print_accounts(self) -> None:
        rows = [("identifiant", "rôle", "mot de passe", "remarque")]
        rows += [(a.username, a.role, DEMO_PASSWORD, a.note) for a in DEMO_ACCOUNTS]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        self.stdout.write("Comptes de démonstration :")
        self.stdout.write(line)
        for index, row in enumerate(rows):
            self.stdout.write(
                "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
            )
            if index == 0:
                self.stdout.write(line)
        self.stdout.write(line)
