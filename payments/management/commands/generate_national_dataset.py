"""A synthetic national dataset shaped like wave 1 of the programme, for benchmarks.

    python manage.py generate_national_dataset [--scale 1] [--seed 2023] [--reset | --reset-only]

At `--scale 1` (≈ 81,000 purchase orders), after the official wave-1 deployment report
(press conference of 21 Sep 2023, seed 002) and domain.md §8:

- 2,000 hospitals (FINESS), each with one HOP-DPI-VA1, one HOP-RI-VA1 and one HOP-PFI-VA1 order;
  51,000 GP practices (RPPS, kind "practice") and 1,500 health centres (FINESS) with
  MDV-LGC-VA1 orders; 20,000 pharmacies (OFF-LGO-VA1); 850 radiology structures (RAD-SIR-VA1);
  1,000 laboratories (BIO-SGL-VA1). Every count is multiplied by `--scale` (12.5 ≈ 1,000,000).
- 103 vendors (valid SIREN, SIRET, IBAN, CNDA number), one member each, and the 167 solutions
  of the wave-1 catalogue (hospital 90, GP 43, lab 13, pharmacy 11, radiology 10), each with a
  version, an approved dossier and a referencing on its wave-1 scheme (active; in each category
  the smallest solution's is revoked and the next one's suspended); in each category the leader
  also has a newer version whose dossier was rejected. Market shares follow a Zipf law. Users
  `nat-officer-1`/`-2` (payment officers), `nat-ans-admin`, `nat-reviewer` and
  `nat-establishment` (who raised the reservations) come with them; orders carry no signatory.
- Of the orders signed per scheme, the installed share is the report's installation rate
  (RI 98.6 %, DPI 98.5 %, PFI 97.7 %, LGC 99.4 %, SIR 92.2 %, SGL 95.6 %, LGO 98.7 %); the rest
  lapsed, still signed, declared or reserved (open reservations). Most installed orders have a
  balance request (paid, approved, submitted or rejected), most signed ones an advance.
- So that every eligibility reason code (domain.md §5) appears, a few orders carry a fault:
  signed after the order deadline, signed too early before the dossier's complete deposit,
  on a suspended or revoked referencing, for an establishment missing from the eligible base,
  above the cap, accepted after the installation deadline, without acceptance report, of a vendor
  not enrolled with the paying agency; and a few extra orders were cancelled, declined, left in
  draft or sent, or voided (pre-referencing order on a version whose dossier was rejected) for an
  establishment that signed with another vendor — in each scheme the first cancelled one had
  its advance paid, and its recovery is still open (RECOVERY_OPEN on that establishment's orders). The wave-1 calendar is the real one: today every
  request comes after its deadline (REQUEST_AFTER_DEADLINE).

Set-based: rows are generated in Python (seeded) and written chunk by chunk in one transaction.
On PostgreSQL with COPY (psycopg 3) from a background thread while the next chunk is generated;
the secondary indexes and foreign keys of the big tables are dropped for the load and rebuilt
(checked) before COMMIT, so other sessions wait on those tables meanwhile — run it on a quiet
database; then VACUUM ANALYZE. On SQLite, multi-row INSERTs. Scale 12.5 (1,015,725 orders,
954,375 establishments, 1.28 million payment requests) takes about 100 s on 2 cores. No per-row
audit entry: one summary entry (actor "generate_national_dataset"). The same seed and scale give
the same data, ids included.

Generated rows are recognised by their vendors (CNDA number starting with `SONSNAT`) and users
(usernames starting with `nat-`). The command refuses to run on a database that already holds
them; `--reset` deletes them (orders, payment requests, reservations, eligibility results,
acceptance reports, eligible-base rows and establishments that have no other order or member,
referencings, dossiers, versions, solutions, users, vendors) and generates again; `--reset-only`
deletes and stops. Uploaded acceptance reports are metadata only (no file is written).
"""

# ruff: noqa: S608 - SQL assembled from table names and code constants; values are bound

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from core.audit import ObjectRef, audit_record
from orders.models import Establishment, PurchaseOrder, Reservation
from payments.models import EligibilityResult, IdempotencyRecord, PaymentRequest, Recovery
from referencing_app.models import (
    Dossier,
    Evidence,
    ReferenceCounter,
    Referencing,
)
from sons import selectors as sons_selectors
from sons.models import Category, EligibleEstablishment, Scheme
from vendors.models import Solution, SolutionVersion, Vendor

ACTOR = "generate_national_dataset"
MARKER_NIE = "SONSNAT"
USER_PREFIX = "nat-"
CHUNK = 10_000  # establishments per flush

# --- the shape of wave 1 ------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeSpec:
    code: str
    category: str
    rate: Decimal  # installation rate of the signed orders (official report)
    low: float  # cheapest order, as a share of the cap
    advance_share: float  # share of signed orders with an advance request


@dataclass(frozen=True)
class KindSpec:
    kind: str
    count: int  # at scale 1
    identifier: str  # "finess" | "rpps"
    names: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    sector: str
    kinds: tuple[KindSpec, ...]
    schemes: tuple[SchemeSpec, ...]
    vendors: int
    solutions: dict[str, int]


SEGMENTS = (
    Segment(
        "HOP",
        (KindSpec("hospital", 2000, "finess", ("Centre hospitalier", "Clinique", "CHU")),),
        (
            SchemeSpec("HOP-DPI-VA1", "DPI", Decimal("0.985"), 0.35, 0.85),
            SchemeSpec("HOP-RI-VA1", "RI", Decimal("0.986"), 0.30, 0.80),
            SchemeSpec("HOP-PFI-VA1", "PFI", Decimal("0.977"), 0.30, 0.80),
        ),
        vendors=45,
        solutions={"DPI": 40, "RI": 25, "PFI": 25},
    ),
    Segment(
        "MDV",
        (
            KindSpec("practice", 51000, "rpps", ("Cabinet du Dr",)),
            KindSpec("health_centre", 1500, "finess", ("Maison de santé", "Centre de santé")),
        ),
        (SchemeSpec("MDV-LGC-VA1", "LGC", Decimal("0.994"), 0.60, 0.35),),
        vendors=35,
        solutions={"LGC": 43},
    ),
    Segment(
        "OFF",
        (KindSpec("pharmacy", 20000, "finess", ("Pharmacie",)),),
        (SchemeSpec("OFF-LGO-VA1", "LGO", Decimal("0.987"), 1.0, 0.40),),
        vendors=8,
        solutions={"LGO": 11},
    ),
    Segment(
        "RAD",
        (KindSpec("radiology", 850, "finess", ("Centre d'imagerie", "Cabinet de radiologie")),),
        (SchemeSpec("RAD-SIR-VA1", "SIR", Decimal("0.922"), 0.40, 0.70),),
        vendors=6,
        solutions={"SIR": 10},
    ),
    Segment(
        "BIO",
        (KindSpec("laboratory", 1000, "finess", ("Laboratoire", "Biopôle")),),
        (SchemeSpec("BIO-SGL-VA1", "SGL", Decimal("0.956"), 0.40, 0.70),),
        vendors=9,
        solutions={"SGL": 13},
    ),
)
WAVE1_SCHEMES = [s.code for seg in SEGMENTS for s in seg.schemes]

#: share of the signed orders of a scheme carrying each fault (at least one when a scheme has
#: 100 orders or more); every fault order is otherwise installed
FAULTS = {
    "late_sign": 0.001,  # ORDER_SIGNED_AFTER_DEADLINE
    "too_early": 0.001,  # ORDER_SIGNED_TOO_EARLY
    "suspended": 0.003,  # REFERENCING_SUSPENDED
    "revoked": 0.002,  # REFERENCING_REVOKED
    "not_eligible": 0.004,  # ESTABLISHMENT_NOT_ELIGIBLE (schemes with an eligible base)
    "above_cap": 0.003,  # AMOUNT_ABOVE_CAP
    "late_install": 0.003,  # INSTALLATION_AFTER_DEADLINE
    "no_report": 0.002,  # ACCEPTANCE_REPORT_MISSING
    "unenrolled": 0.003,  # VENDOR_NOT_ENROLLED
}
#: how the orders not installed ended (INSTALLATION_NOT_ACCEPTED, OPEN_RESERVATIONS…)
NOT_INSTALLED = {"lapsed": 0.60, "signed": 0.15, "reserved": 0.15, "installation_declared": 0.10}
#: extra orders, per signed order: another vendor's order for an establishment that signed
#: elsewhere (DUPLICATE_ORDER, ORDER_NOT_SIGNED, SOLUTION_NOT_REFERENCED for the void ones)
EXTRAS = {"cancelled": 0.005, "declined": 0.003, "sent": 0.0015, "draft": 0.001, "void": 0.0008}
BALANCE_SHARE = 0.92  # installed orders with a balance request
PHARMACY_TIERS = ((62500, 0.3), (75000, 0.4), (87500, 0.3))  # €625–875 by turnover, in cents

PEOPLE = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
)  # fmt: skip
PLACES = (
    "Lyon", "Nantes", "Lille", "Rennes", "Bordeaux", "Toulouse", "Marseille", "Strasbourg",
    "Dijon", "Brest", "Tours", "Reims", "Amiens", "Metz", "Nîmes", "Pau", "Caen", "Angers",
    "Limoges", "Poitiers", "Besançon", "Grenoble", "Rouen", "Orléans", "Nancy", "Avignon",
    "Perpignan", "Quimper", "Valence", "Chartres", "Colmar", "Annecy", "Bayonne", "Niort",
)  # fmt: skip
VENDOR_WORDS = (
    "Médi", "Santé", "Hexa", "Clini", "Pharma", "Bio", "Radio", "Info", "Doc", "Care",
    "Cardio", "Hospi", "Néo", "Axe", "Omni", "Alto", "Maïa", "Evo", "Sigma", "Vita", "Hélio",
)  # fmt: skip
VENDOR_ENDS = (
    "logic", "soft", " Systèmes", " Santé", "data", "net", "tech", " Informatique", "line",
    "gest", " Solutions", "lab", "sys",
)  # fmt: skip
PRODUCTS = {
    "DPI": "Dossier Patient",
    "RI": "Identités",
    "PFI": "Passerelle",
    "LGC": "Cabinet",
    "SIR": "RIS",
    "SGL": "Labo",
    "LGO": "Officine",
}
DEPARTEMENTS = [f"{d:02d}" for d in range(1, 96) if d != 20]
DAY = 86400
SUBMISSION_OPENS = dt.datetime(2021, 8, 30, 22, 0, tzinfo=dt.UTC)


# --- writing rows -------------------------------------------------------------------------------
class Table:
    """Rows of one table (Python values in `columns` order), buffered until the next flush."""

    def __init__(self, model, columns: list[str]):
        self.model = model
        self.table = model._meta.db_table
        self.columns = columns
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.fields = [fields[c] for c in columns]
        self.json = [i for i, f in enumerate(self.fields) if f.get_internal_type() == "JSONField"]
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row)

    def take(self) -> list[tuple]:
        rows, self.rows = self.rows, []
        self.count += len(rows)
        return rows

    def write_sqlite(self, rows: list[tuple]) -> None:
        columns = ", ".join(self.columns)
        prep = [
            tuple(f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row, strict=True))
            for row in rows
        ]
        placeholders = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        per = max(1, 999 // len(self.columns))  # SQLite's bound-variable limit
        with connection.cursor() as cursor:
            for start in range(0, len(prep), per):
                batch = prep[start : start + per]
                cursor.execute(
                    f"INSERT INTO {self.table} ({columns}) VALUES "
                    + ", ".join([placeholders] * len(batch)),
                    [v for row in batch for v in row],
                )

    def write_copy(self, raw, rows: list[tuple]) -> None:
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy,
        ):
            if self.json:
                for row in rows:
                    row = list(row)
                    for i in self.json:
                        row[i] = json.dumps(row[i])
                    copy.write_row(row)
            else:
                for row in rows:
                    copy.write_row(row)


class Loader:
    """Writes the flushed chunks, parents first. On PostgreSQL a background thread COPYs them
    through the command's own connection (same transaction) while the next chunk is being
    generated, so that Python and the server work at the same time; on SQLite, inline."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.error: BaseException | None = None
        if self.postgres:
            self.raw = connection.connection  # the psycopg connection of this transaction
            self.queue: queue.Queue = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self._work, name="copy", daemon=True)
            self.thread.start()

    def submit(self, batch: list[tuple[Table, list[tuple]]]) -> None:
        if not self.postgres:
            for table, rows in batch:
                table.write_sqlite(rows)
            return
        if self.error is not None:
            raise CommandError(f"COPY failed: {self.error}") from self.error
        self.queue.put(batch)

    def _work(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is None:
                try:
                    for table, rows in batch:
                        table.write_copy(self.raw, rows)
                except BaseException as exc:  # reported by the main thread
                    self.error = exc

    def close(self) -> None:
        if self.postgres:
            self.queue.put(None)
            self.thread.join()
            if self.error is not None:
                raise CommandError(f"COPY failed: {self.error}") from self.error


# --- the programme's actors ---------------------------------------------------------------------
@dataclass
class Version:
    id: str
    vendor_id: str
    member_id: str
    enrolled: bool
    referenced: bool
    state: str  # of the referencing ("" when not referenced)
    referencing_id: str | None
    dossier_id: str
    deposit_at: dt.datetime | None
    valid_from: dt.datetime


@dataclass
class SchemePlan:
    spec: SchemeSpec
    scheme: Scheme
    sector: str
    uses_base: bool
    tacit_days: int | None
    cap: int  # cents
    advance_rate: Decimal
    order_deadline: dt.datetime
    installation_deadline: dt.datetime
    payment_deadline: dt.datetime
    normal: list[Version] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)
    special: dict[str, Version] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    extras: dict[int, list[str]] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)

    def pick(self, rng: Random) -> Version:
        return self.normal[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


def luhn_key(body: str) -> str:
    """The Luhn digit to append to `body` (core.identifiers.luhn_key, computed directly)."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = ord(char) - 48
        if index % 2 == 0:  # doubled once the key is appended
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def below(rng: Random, n: int) -> int:
    """rng.randrange(n), several times cheaper (the bias is irrelevant here)."""
    return int(rng.random() * n)


def uid(rng: Random) -> str:
    """A version-4 UUID (hex) drawn from `rng`: the same seed gives the same ids."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)
    return f"{bits:032x}"


def nid(rng: Random) -> uuid.UUID:
    return uuid.UUID(uid(rng))


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _counts(n: int, shares: dict[str, float], minimum: bool) -> dict[str, int]:
    return {k: max(1 if minimum else 0, round(n * share)) for k, share in shares.items()}


class Generator:
    def __init__(self, scale: float, seed: int, out):
        self.scale, self.seed, self.out = scale, seed, out
        self.now = timezone.now()
        self.started = time.monotonic()
        self.tables: dict[str, Table] = {}
        self.officers: list[str] = []
        self.admin_id = self.reviewer_id = self.customer_id = ""
        self.plans: dict[str, SchemePlan] = {}
        self.summary: dict[str, int] = {}
        self.recoveries: list[Recovery] = []

    def log(self, message: str) -> None:
        self.out(f"[{time.monotonic() - self.started:7.1f} s] {message}")

    def rng(self, *salt) -> Random:
        return Random(":".join(str(s) for s in (self.seed, *salt)))  # noqa: S311 - test data

    # --- vendors, solutions, referencings (a few hundred rows: the ORM is fine) ----------------
    def programme(self) -> None:
        schemes = {s.code: s for s in Scheme.objects.filter(code__in=WAVE1_SCHEMES)}
        rng = self.rng("programme")
        users = [
            User(
                id=nid(rng),
                username=f"{USER_PREFIX}ans-admin",
                role=Role.ANS_ADMIN,
                last_name="ANS",
            ),
            User(
                id=nid(rng),
                username=f"{USER_PREFIX}reviewer",
                role=Role.REVIEWER,
                last_name="Instructeur",
            ),
            User(
                id=nid(rng),
                username=f"{USER_PREFIX}officer-1",
                role=Role.PAYMENT_OFFICER,
                last_name="ASP 1",
            ),
            User(
                id=nid(rng),
                username=f"{USER_PREFIX}officer-2",
                role=Role.PAYMENT_OFFICER,
                last_name="ASP 2",
            ),
            User(
                id=nid(rng),
                username=f"{USER_PREFIX}establishment",
                role=Role.ESTABLISHMENT,
                last_name="Signataire établissement",
            ),
        ]
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users)
        self.admin_id, self.reviewer_id = str(users[0].pk), str(users[1].pk)
        self.officers = [str(users[2].pk), str(users[3].pk)]
        self.customer_id = str(users[4].pk)

        names = [f"{a}{b}" for a in VENDOR_WORDS for b in VENDOR_ENDS]
        rng.shuffle(names)
        vendors: list[Vendor] = []
        members: list[User] = []
        solutions: list[tuple[Solution, str, int, int]] = []  # solution, category, rank, size
        categories = {c.code: c for c in Category.objects.all()}
        for segment in SEGMENTS:
            first = len(vendors)
            for _ in range(segment.vendors):
                n = len(vendors)
                siren = f"77{n:06d}"
                siren += luhn_key(siren)
                siret = f"{siren}{1 + n % 9:04d}"
                vendors.append(
                    Vendor(
                        id=nid(rng),
                        name=f"{names[n]} {('SAS', 'SA', 'SARL', 'SASU')[n % 4]}",
                        siren=siren,
                        siret=siret + luhn_key(siret),
                        nie=f"{MARKER_NIE}{n:04d}",
                        iban=_iban(n),
                        enrolled_at=SUBMISSION_OPENS + dt.timedelta(days=60 + below(rng, 200)),
                        enrolled_iban=_iban(n),
                    )
                )
            # Tail solutions (the smallest market shares) belong to one-product vendors; the
            # biggest vendors own the others, several each.
            own = list(range(first, len(vendors)))
            big = max(1, -(-segment.vendors // 3))
            ranked = sorted(
                ((rank, cat) for cat, count in segment.solutions.items() for rank in range(count)),
                key=lambda x: (-x[0], x[1]),
            )
            singles = segment.vendors - big
            for index, (rank, cat) in enumerate(ranked):
                vendor = (
                    vendors[own[big + index]]
                    if index < singles
                    else vendors[own[(index - singles) % big]]
                )
                solutions.append(
                    (
                        Solution(
                            id=nid(rng),
                            vendor=vendor,
                            name=f"{vendor.name.split()[0]} {PRODUCTS[cat]} {rank + 1}",
                            category=categories[cat],
                        ),
                        cat,
                        rank,
                        segment.solutions[cat],
                    )
                )
        # Vendors not enrolled with the paying agency: the one-product vendor of each
        # category's third-smallest solution.
        unenrolled = {id(s.vendor) for s, _cat, rank, size in solutions if rank == size - 3}
        for vendor in vendors:
            if id(vendor) in unenrolled:
                vendor.enrolled_at = None
                vendor.enrolled_iban = ""
        Vendor.objects.bulk_create(vendors)
        for n, vendor in enumerate(vendors):
            member = User(
                id=nid(rng),
                username=f"{USER_PREFIX}vendor-{n:03d}",
                role=Role.VENDOR,
                vendor=vendor,
                signatory=True,
                last_name=f"{PEOPLE[n % len(PEOPLE)]} ({vendor.name})",
            )
            member.set_unusable_password()
            members.append(member)
        User.objects.bulk_create(members)
        member_of = {vendor.pk: str(m.pk) for vendor, m in zip(vendors, members, strict=True)}
        Solution.objects.bulk_create([s for s, *_ in solutions])

        spec_of = {s.category: (s, seg.sector) for seg in SEGMENTS for s in seg.schemes}
        for code in WAVE1_SCHEMES:
            scheme = schemes[code]
            spec, sector = spec_of[scheme.category.code]
            self.plans[spec.category] = SchemePlan(
                spec=spec,
                scheme=scheme,
                sector=sector,
                uses_base=scheme.uses_eligible_base,
                tacit_days=scheme.tacit_acceptance_days,
                cap=int(scheme.price_cap * 100),
                advance_rate=scheme.advance_rate,
                order_deadline=scheme.order_deadline,
                installation_deadline=scheme.installation_deadline,
                payment_deadline=scheme.payment_deadline,
            )
        versions, dossiers, referencings = [], [], []
        counters: dict[tuple[str, int], list] = {}
        for solution, cat, rank, size in solutions:
            plan = self.plans[cat]
            scheme = plan.scheme
            rset = sons_selectors.requirement_set_current(scheme)
            # the smallest vendor of each category deposited late (pre-referencing orders)
            late = rank == size - 4
            deposit = (
                dt.datetime(2022, 2, 15, 9, tzinfo=dt.UTC) + dt.timedelta(days=below(rng, 40))
                if late
                else dt.datetime(2021, 9, 15, 9, tzinfo=dt.UTC)
                + dt.timedelta(days=below(rng, 150), minutes=below(rng, 600))
            )
            decided = deposit + dt.timedelta(days=20 + below(rng, 40))
            member = member_of[solution.vendor.pk]
            version = SolutionVersion(
                id=nid(rng),
                solution=solution,
                number=f"{2021 + rank % 2}.{1 + rank % 7}",
                released_on=None,
            )
            version.released_on = (deposit - dt.timedelta(days=30)).date()
            dossier = Dossier(
                id=nid(rng),
                scheme=scheme,
                solution_version=version,
                vendor=solution.vendor,
                requirement_set=rset,
                state="approved",
                charter_accepted_at=deposit - dt.timedelta(days=10),
                charter_accepted_by_id=member,
                complete=True,
                revision=1,
                submitted_at=deposit,
                last_submitted_at=deposit,
                complete_deposit_at=deposit,
                reviewer_id=self.reviewer_id,
                decided_at=decided,
                decided_by_id=self.admin_id,
                ended_at=decided,
            )
            state = "active"
            if rank == size - 1:
                state = "revoked"
            elif rank == size - 2:
                state = "suspended"
            key = (scheme.code, decided.year)
            counters.setdefault(key, [])
            referencing = Referencing(
                id=nid(rng),
                dossier=dossier,
                scheme=scheme,
                solution_version=version,
                vendor=solution.vendor,
                state=state,
                valid_from=decided,
                valid_until=None,
                state_reason={
                    "active": "",
                    "suspended": "Contrôle de conformité en cours",
                    "revoked": "Retrait après contrôle",
                }[state],
            )
            counters[key].append(referencing)
            versions.append(version)
            dossiers.append(dossier)
            referencings.append(referencing)
            info = Version(
                id=str(version.pk.hex),
                vendor_id=str(solution.vendor.pk.hex),
                member_id=member,
                enrolled=solution.vendor.enrolled_at is not None,
                referenced=True,
                state=state,
                referencing_id=str(referencing.pk.hex),
                dossier_id=str(dossier.pk.hex),
                deposit_at=deposit,
                valid_from=decided,
            )
            if state != "active":
                plan.special[state] = info
            elif not info.enrolled:
                plan.special["unenrolled"] = info
            else:
                if late:
                    plan.special["late"] = info
                plan.normal.append(info)
                plan.cum.append((plan.cum[-1] if plan.cum else 0.0) + 1 / (rank + 1) ** 1.1)
            if rank == 0:
                # the market leader's next version: its dossier was rejected (void orders)
                next_version = SolutionVersion(
                    id=nid(rng), solution=solution, number=f"{version.number}.9", released_on=None
                )
                rejected = Dossier(
                    id=nid(rng),
                    scheme=scheme,
                    solution_version=next_version,
                    vendor=solution.vendor,
                    requirement_set=rset,
                    state="rejected",
                    charter_accepted_at=dt.datetime(2022, 3, 1, 9, tzinfo=dt.UTC),
                    charter_accepted_by_id=member,
                    complete=False,
                    revision=1,
                    submitted_at=dt.datetime(2022, 3, 1, 9, tzinfo=dt.UTC),
                    last_submitted_at=dt.datetime(2022, 3, 1, 9, tzinfo=dt.UTC),
                    reviewer_id=self.reviewer_id,
                    decided_at=dt.datetime(2022, 5, 2, 9, tzinfo=dt.UTC),
                    decided_by_id=self.admin_id,
                    decision_reason="Exigences INS non satisfaites",
                    ended_at=dt.datetime(2022, 5, 2, 9, tzinfo=dt.UTC),
                )
                versions.append(next_version)
                dossiers.append(rejected)
                plan.special["unreferenced"] = Version(
                    id=str(next_version.pk.hex),
                    vendor_id=info.vendor_id,
                    member_id=member,
                    enrolled=info.enrolled,
                    referenced=False,
                    state="",
                    referencing_id=None,
                    dossier_id=str(rejected.pk.hex),
                    deposit_at=None,
                    valid_from=rejected.submitted_at,
                )
        # reference numbers from the schemes' counters, so that later approvals never collide
        for (code, year), refs in sorted(counters.items()):
            scheme = schemes[code]
            counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(
                scheme=scheme, year=year
            )
            refs.sort(key=lambda r: r.valid_from)
            for ref in refs:
                counter.last += 1
                ref.reference = f"{code}-{year}-{counter.last:04d}"
            counter.save(update_fields=["last"])
        SolutionVersion.objects.bulk_create(versions)
        Dossier.objects.bulk_create(dossiers)
        Referencing.objects.bulk_create(referencings)
        self.summary.update(
            vendors=len(vendors),
            solutions=len(solutions),
            referencings=len(referencings),
            vendors_not_enrolled=sum(v.enrolled_at is None for v in vendors),
        )
        self.log(
            f"{len(vendors)} éditeurs ({self.summary['vendors_not_enrolled']} non enrôlés), "
            f"{len(solutions)} logiciels, {len(referencings)} référencements"
        )

    # --- establishments, eligible base, orders, acceptance reports, payments ------------------------
    def _table(self, model, columns: str) -> Table:
        key = model._meta.db_table
        if key not in self.tables:
            self.tables[key] = Table(model, columns.split())
        return self.tables[key]

    def flush(self) -> None:
        # parents first: the insertion order of the dict
        self.loader.submit([(t, t.take()) for t in self.tables.values() if t.rows])

    def tables_init(self) -> None:
        self.est = self._table(
            Establishment, "id created_at updated_at finess rpps name kind siret"
        )
        self.base = self._table(
            EligibleEstablishment,
            "id created_at updated_at scheme_id establishment name max_amount",
        )
        self.evidence = self._table(
            Evidence,
            "id created_at updated_at vendor_id uploaded_by_id file filename content_type size "
            "sha256",
        )
        self.orders = self._table(
            PurchaseOrder,
            "id created_at updated_at establishment_id vendor_id scheme_id solution_version_id "
            "amount state referencing_id pre_referencing_dossier_id sent_at signed_at "
            "signed_by_id installed_version_id installed_on acceptance_report_id declared_at "
            "accepted_at accepted_by_id tacit_acceptance ended_at end_reason funded_at",
        )
        self.reservations = self._table(
            Reservation, "id created_at updated_at order_id text raised_by_id lifted_at"
        )
        self.requests = self._table(
            PaymentRequest,
            "id created_at updated_at order_id kind amount state requested_by_id approved_by_id "
            "approved_at rejected_reason rejection_codes decided_at paid_by_id paid_at "
            "payment_reference batch_id",
        )

    def drop_indexes(self) -> tuple[list, list]:
        """PostgreSQL, the recipe of its manual ("Populating a database"): the secondary indexes
        and the foreign keys of the big tables are dropped for the load and rebuilt once at the
        end, in the same transaction (a failure restores them; other sessions wait on the
        tables' locks meanwhile). Maintaining twenty B-trees of random UUIDs and checking ten
        foreign keys row by row is where a bulk load spends its time; one index build and one
        anti-join per key afterwards are much cheaper and check the same."""
        if connection.vendor != "postgresql":
            return [], []
        tables = [t.table for t in self.tables.values()]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT ci.relname, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                JOIN pg_class ct ON ct.oid = i.indrelid
                JOIN pg_class ci ON ci.oid = i.indexrelid
                WHERE ct.relname = ANY(%s) AND ct.relnamespace = current_schema()::regnamespace
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
                ORDER BY ct.relname, ci.relname
                """,
                [tables],
            )
            indexes = cursor.fetchall()
            keys = foreign_keys(tables)
            drop_keys(keys)
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            # the money trigger (payments migration 0004) sums an order's requests per row:
            # without the indexes, a scan each; checked once, set-based, in rebuild_indexes
            cursor.execute(f"ALTER TABLE {PaymentRequest._meta.db_table} DISABLE TRIGGER USER")
        self.log(
            f"{len(indexes)} index secondaires et {len(keys)} clés étrangères suspendus "
            "pendant le chargement"
        )
        return indexes, keys

    def rebuild_indexes(self, dropped: tuple[list, list]) -> None:
        indexes, keys = dropped
        if not indexes and not keys:
            return
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            self.log(f"{len(indexes)} index reconstruits ({time.monotonic() - started:.1f} s)")
        started = time.monotonic()
        add_keys(keys)
        self.log(f"{len(keys)} clés étrangères vérifiées ({time.monotonic() - started:.1f} s)")
        requests = PaymentRequest._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {requests} ENABLE TRIGGER USER")
            cursor.execute(
                f"""SELECT pr.order_id FROM {requests} pr
                    JOIN {PurchaseOrder._meta.db_table} o ON o.id = pr.order_id
                    WHERE pr.state IN ('submitted', 'approved', 'paid')
                    GROUP BY pr.order_id, o.amount HAVING SUM(pr.amount) > o.amount LIMIT 1"""
            )
            over = cursor.fetchone()
        if over:
            raise CommandError(f"requests above the order's amount: {over[0]}")

    def plan_profiles(self, plan: SchemePlan, n: int, rng: Random) -> None:
        minimum = n >= 100
        installed = int((n * plan.spec.rate).to_integral_value())
        faults = _counts(n, FAULTS, minimum)
        if not plan.uses_base:
            faults.pop("not_eligible")
        if "unenrolled" not in plan.special:
            faults.pop("unenrolled")
        while sum(faults.values()) > installed:  # tiny scales: fewer faults
            biggest = max(faults, key=faults.get)
            faults[biggest] -= 1
        rest = n - installed
        ended = _counts(rest, NOT_INSTALLED, False)
        if minimum and rest >= 2 and ended["reserved"] == 0:
            ended["reserved"] = 1
        ended["lapsed"] += rest - sum(ended.values())
        profiles = [k for k, c in faults.items() for _ in range(c)]
        profiles += ["installed"] * (installed - len(profiles))
        profiles += [k for k, c in ended.items() for _ in range(max(0, c))]
        profiles = profiles[:n]
        rng.shuffle(profiles)
        plan.profiles = profiles
        extras = _counts(n, EXTRAS, minimum)
        wanted = [k for k, c in extras.items() for _ in range(c)]
        for index, kind in zip(rng.choices(range(n), k=len(wanted)), wanted, strict=True):
            plan.extras.setdefault(index, []).append(kind)

    def establishment(self, rng: Random, kind: KindSpec, serial: int, counter) -> tuple[str, str]:
        """Adds one establishment; returns (id, identifier)."""
        place = PLACES[serial % len(PLACES)]
        if kind.identifier == "rpps":
            body = f"19{serial:08d}"
            rpps, finess = body + luhn_key(body), ""
            name = f"{kind.names[0]} {PEOPLE[below(rng, len(PEOPLE))]} ({place})"
        else:
            n = next(counter)
            dep = DEPARTEMENTS[n % len(DEPARTEMENTS)]
            body = f"{dep}9{n // len(DEPARTEMENTS):05d}"
            finess, rpps = body + luhn_key(body), ""
            name = f"{kind.names[serial % len(kind.names)]} {place} {serial + 1}"
        at = dt.datetime(2021, 9, 1, 8, tzinfo=dt.UTC) + dt.timedelta(seconds=below(rng, DAY * 90))
        est_id = uid(rng)
        self.est.add((est_id, at, at, finess, rpps, name, kind.kind, ""))
        return est_id, finess or rpps

    def segment(self, segment: Segment, finess_counter) -> None:
        rng = self.rng("segment", segment.sector)
        sizes = [(k, max(1, round(k.count * self.scale))) for k in segment.kinds]
        n = sum(size for _k, size in sizes)
        plans = [self.plans[s.category] for s in segment.schemes]
        for plan in plans:
            self.plan_profiles(plan, n, self.rng("plan", plan.spec.code))
        kinds = [k for k, _size in sizes]
        bounds = list(itertools.accumulate(size for _k, size in sizes))
        chunk_started = time.monotonic()
        for i in range(n):
            k = bisect.bisect_right(bounds, i)
            est_id, identifier = self.establishment(rng, kinds[k], i, finess_counter)
            for plan in plans:
                self.customer(rng, plan, i, est_id, identifier)
            if (i + 1) % CHUNK == 0 or i + 1 == n:
                self.flush()
                rate = (i + 1) / max(1e-6, time.monotonic() - chunk_started)
                self.log(
                    f"{segment.sector} : {i + 1}/{n} établissements, "
                    f"{self.orders.count} commandes au total ({rate:,.0f} étab./s)"
                )

    def customer(self, rng: Random, plan: SchemePlan, i: int, est_id: str, identifier: str):
        profile = plan.profiles[i]
        own_cap = None
        if plan.uses_base and profile != "not_eligible":
            if plan.sector == "OFF":
                draw, own_cap = rng.random(), PHARMACY_TIERS[-1][0]
                for tier, share in PHARMACY_TIERS:
                    if draw < share:
                        own_cap = tier
                        break
                    draw -= share
            elif rng.random() < 0.1:
                own_cap = int(plan.cap * rng.uniform(0.6, 1.0)) // 100_000 * 100_000
            at = dt.datetime(2021, 10, 1, 8, tzinfo=dt.UTC)
            self.base.add(
                (
                    uid(rng),
                    at,
                    at,
                    plan.scheme.pk,
                    identifier,
                    "",
                    money(own_cap) if own_cap is not None else None,
                )
            )
        cap = own_cap if own_cap is not None else plan.cap
        funded_signed_at = self.order(rng, plan, profile, est_id, cap)
        for extra in plan.extras.get(i, ()):
            self.order(rng, plan, extra, est_id, cap, before=funded_signed_at)

    def order(self, rng, plan: SchemePlan, profile: str, est_id, cap, before=None):
        """Adds one order (and its report, reservations, payment requests); returns signed_at."""
        version = plan.special.get(
            {
                "suspended": "suspended",
                "revoked": "revoked",
                "unenrolled": "unenrolled",
                "void": "unreferenced",
                "too_early": "late",
            }.get(profile, ""),
        ) or plan.pick(rng)
        if plan.sector == "OFF":
            amount = cap
        else:
            amount = int(plan.cap * rng.uniform(plan.spec.low, 1.0)) // 1000 * 1000
            amount = min(amount, cap)
        if profile == "above_cap":
            amount = cap + max(1000, int(cap * rng.uniform(0.01, 0.1)) // 1000 * 1000)
            if plan.sector == "OFF":
                amount = cap + 12500
        state = {
            "installed": "installed",
            "lapsed": "lapsed",
            "signed": "signed",
            "reserved": "reserved",
            "installation_declared": "installation_declared",
            "cancelled": "cancelled",
            "declined": "declined",
            "sent": "sent",
            "draft": "draft",
            "void": "void",
        }.get(profile, "installed")
        plan.states[state] = plan.states.get(state, 0) + 1
        deadline = plan.order_deadline
        # --- signature ---------------------------------------------------------------------
        referencing_id, dossier_id = version.referencing_id, None
        if profile == "too_early":
            signed = version.deposit_at - dt.timedelta(days=121 + below(rng, 20))
            referencing_id, dossier_id = None, version.dossier_id
        elif profile == "void":
            signed = version.valid_from + dt.timedelta(days=below(rng, 30))
            referencing_id, dossier_id = None, version.dossier_id
        elif profile == "late_sign":
            signed = deadline + dt.timedelta(days=1 + below(rng, 20))
        else:
            start = version.valid_from + dt.timedelta(days=3)
            span = (deadline - start).total_seconds() - 3600
            signed = start + dt.timedelta(seconds=rng.random() * span)
            if (
                version.deposit_at
                and version.deposit_at > SUBMISSION_OPENS + dt.timedelta(days=90)
                and rng.random() < 0.2
            ):  # a pre-referencing order, signed before the referencing and in time
                signed = version.deposit_at - dt.timedelta(days=10 + below(rng, 80))
                referencing_id, dossier_id = None, version.dossier_id
        if before is not None and profile != "void":
            signed = min(signed, before) - dt.timedelta(days=1 + below(rng, 20))
        sent = signed - dt.timedelta(seconds=below(rng, DAY * 15))
        created = sent - dt.timedelta(seconds=below(rng, DAY * 10))
        order_id = uid(rng)
        row = {
            "sent_at": sent,
            "signed_at": signed,
            "referencing_id": referencing_id,
            "pre_referencing_dossier_id": dossier_id,
            "updated": signed,
        }
        recovered = state == "cancelled" and version.enrolled and not plan.states.get("recovery")
        if recovered:  # signed, its advance paid, then cancelled by ANS: a recovery is open
            plan.states["recovery"] = 1
            row.update(pre_referencing_dossier_id=None)
        if state in ("draft", "sent", "declined", "cancelled"):
            if not recovered:
                row.update(referencing_id=None, pre_referencing_dossier_id=None, signed_at=None)
            if state == "draft":
                row.update(sent_at=None, updated=created)
            elif state == "sent":
                row.update(updated=sent)
            else:
                ended = sent + dt.timedelta(seconds=below(rng, DAY * 20))
                if recovered:
                    ended = signed + dt.timedelta(days=10)
                row.update(
                    updated=ended,
                    ended_at=ended,
                    end_reason="Commande passée auprès d'un autre éditeur"
                    if state == "cancelled"
                    else "Refusé par l'établissement",
                )
        elif state == "void":
            ended = dt.datetime(2022, 5, 2, 9, tzinfo=dt.UTC)
            row.update(
                updated=ended,
                ended_at=ended,
                end_reason="Dossier de référencement rejeté",
                referencing_id=None,
            )
        else:
            self.installation(rng, plan, profile, state, version, order_id, row)
        funded_at = None
        if (
            state in ("signed", "installation_declared", "reserved", "installed", "lapsed")
            and profile in ("installed", "signed", "installation_declared", "reserved", "lapsed")
            and version.enrolled
        ):
            funded_at = self.payments(rng, plan, state, version, order_id, amount, row)
        if recovered:
            cents = int(
                (Decimal(amount) * plan.advance_rate).to_integral_value(rounding="ROUND_HALF_UP")
            )
            funded_at = self.request(
                rng, order_id, "advance", cents, "paid", version, signed + dt.timedelta(days=2)
            )
            self.recoveries.append(
                Recovery(
                    id=nid(rng),
                    purchase_order_id=order_id,
                    vendor_id=version.vendor_id,
                    establishment_id=est_id,
                    scheme_id=plan.scheme.pk,
                    amount=money(cents),
                    due_on=(row["ended_at"] + dt.timedelta(days=30)).date(),
                    reason=row["end_reason"],
                    opened_by_id=self.officers[0],
                )
            )
        self.orders.add(
            (
                order_id,
                created,
                row["updated"],
                est_id,
                version.vendor_id,
                plan.scheme.pk,
                version.id,
                money(amount),
                state,
                row["referencing_id"],
                row["pre_referencing_dossier_id"],
                row["sent_at"],
                row["signed_at"],
                None,
                row.get("installed_version_id"),
                row.get("installed_on"),
                row.get("report_id"),
                row.get("declared_at"),
                row.get("accepted_at"),
                None,
                row.get("tacit", False),
                row.get("ended_at"),
                row.get("end_reason", ""),
                funded_at,
            )
        )
        return signed

    def installation(self, rng, plan, profile, state, version, order_id, row) -> None:
        deadline = plan.installation_deadline
        signed = row["signed_at"]
        lapsed_declared = state == "lapsed" and rng.random() < 0.2
        if state == "signed" or (state == "lapsed" and not lapsed_declared):
            if state == "lapsed":
                ended = deadline + dt.timedelta(seconds=1)
                row.update(
                    updated=ended,
                    ended_at=ended,
                    end_reason="Date limite d'installation dépassée",
                )
            return
        room = max(DAY, (deadline - signed).total_seconds() - 2 * DAY)
        declared = signed + dt.timedelta(seconds=min(room, DAY * 20 + rng.random() * DAY * 230))
        if profile == "late_install":
            declared = deadline - dt.timedelta(seconds=below(rng, DAY * 10))
        report_id = None
        if profile != "no_report":
            report_id = uid(rng)
            self.evidence.add(
                (
                    report_id,
                    declared,
                    declared,
                    version.vendor_id,
                    version.member_id,
                    f"evidence/{version.vendor_id}/{report_id}",
                    f"PV-installation-{plan.spec.category}-{order_id[:8]}.pdf",
                    "application/pdf",
                    40_000 + below(rng, 400_000),
                    f"{rng.getrandbits(256):064x}",
                )
            )
        row.update(
            installed_version_id=version.id,
            installed_on=(declared - dt.timedelta(days=below(rng, 3))).date(),
            report_id=report_id,
            declared_at=declared,
            updated=declared,
        )
        if state == "lapsed":
            ended = deadline + dt.timedelta(seconds=1)
            row.update(
                updated=ended, ended_at=ended, end_reason="Date limite d'installation dépassée"
            )
            return
        if state == "installed":
            if plan.tacit_days and rng.random() < 0.4:
                accepted, tacit = declared + dt.timedelta(days=plan.tacit_days), True
            else:
                accepted, tacit = declared + dt.timedelta(seconds=below(rng, DAY * 25)), False
            if profile == "late_install":
                accepted, tacit = deadline + dt.timedelta(days=1 + below(rng, 40)), False
            elif accepted > deadline:
                accepted, tacit = deadline - dt.timedelta(seconds=below(rng, DAY)), False
                accepted = max(accepted, declared)
            row.update(accepted_at=accepted, tacit=tacit, updated=accepted)
            if rng.random() < 0.02:  # reservations raised, then lifted
                raised = declared + dt.timedelta(seconds=(accepted - declared).total_seconds() / 3)
                self.reservations.add(
                    (
                        uid(rng),
                        raised,
                        accepted,
                        order_id,
                        "Alimentation du DMP non vérifiée",
                        self.customer_id,
                        accepted,
                    )
                )
        elif state == "reserved":
            raised = declared + dt.timedelta(seconds=below(rng, DAY * 10))
            for text in ("Qualification INS non opérationnelle", "Envoi MSSanté en échec")[
                : 1 + below(rng, 2)
            ]:
                self.reservations.add(
                    (uid(rng), raised, raised, order_id, text, self.customer_id, None)
                )
            row.update(updated=raised)

    def payments(self, rng, plan, state, version, order_id, amount, row):
        """Adds the order's payment requests; returns when money was first approved on it."""
        signed = row["signed_at"]
        advance_cents = 0
        advance_state = None
        funded_at = None
        if rng.random() < plan.spec.advance_share:
            advance_cents = int(
                (Decimal(amount) * plan.advance_rate).to_integral_value(rounding="ROUND_HALF_UP")
            )
            draw = rng.random()
            advance_state = (
                "paid"
                if draw < 0.94
                else "approved"
                if draw < 0.97
                else "submitted"
                if draw < 0.99
                else "rejected"
            )
            requested = min(
                signed + dt.timedelta(seconds=DAY + below(rng, DAY * 40)),
                max(signed + dt.timedelta(minutes=5), plan.order_deadline - dt.timedelta(hours=1)),
            )
            funded_at = self.request(
                rng, order_id, "advance", advance_cents, advance_state, version, requested
            )
            if advance_state == "rejected":
                advance_cents = 0
        if state != "installed" or advance_state in ("approved", "submitted"):
            return funded_at
        if rng.random() >= BALANCE_SHARE:
            return funded_at
        draw = rng.random()
        balance_state = (
            "paid"
            if draw < 0.85
            else "approved"
            if draw < 0.91
            else "submitted"
            if draw < 0.98
            else "rejected"
        )
        requested = min(
            row["accepted_at"] + dt.timedelta(seconds=DAY + below(rng, DAY * 50)),
            plan.payment_deadline - dt.timedelta(hours=1),
        )
        approved = self.request(
            rng, order_id, "balance", amount - advance_cents, balance_state, version, requested
        )
        return funded_at or approved

    def request(self, rng, order_id, kind, cents, state, version, requested):
        """Adds one payment request; returns its approval instant (None: not approved)."""
        approved_by = approved_at = decided_at = paid_by = paid_at = None
        reason, reference, updated = "", "", requested
        if state in ("approved", "paid"):
            approved_by = self.officers[0]
            approved_at = decided_at = requested + dt.timedelta(seconds=DAY + below(rng, DAY * 20))
            updated = approved_at
        if state == "paid":
            paid_by = self.officers[1]
            paid_at = approved_at + dt.timedelta(seconds=DAY + below(rng, DAY * 20))
            reference = f"VIR-{paid_at:%Y%m%d}-{below(rng, 10**6):06d}"
            updated = paid_at
        if state == "rejected":
            decided_at = updated = requested + dt.timedelta(seconds=DAY + below(rng, DAY * 20))
            reason = "Procès-verbal illisible"
        self.requests.add(
            (
                uid(rng),
                requested,
                updated,
                order_id,
                kind,
                money(cents),
                state,
                version.member_id,
                approved_by,
                approved_at,
                reason,
                [],
                decided_at,
                paid_by,
                paid_at,
                reference,
                None,
            )
        )
        return approved_at

    def run(self) -> dict:
        self.tables_init()
        self.programme()
        indexes = self.drop_indexes()
        finess_counter = itertools.count()
        self.loader = Loader()
        try:
            for segment in SEGMENTS:
                self.segment(segment, finess_counter)
        finally:
            self.loader.close()
        self.log(f"{self.orders.count} commandes écrites")
        self.rebuild_indexes(indexes)
        Recovery.objects.bulk_create(self.recoveries)
        self.summary.update(
            establishments=self.est.count,
            eligible_base=self.base.count,
            orders=self.orders.count,
            acceptance_reports=self.evidence.count,
            reservations=self.reservations.count,
            payment_requests=self.requests.count,
            recoveries=len(self.recoveries),
        )
        self.summary["states"] = {
            plan.spec.code: dict(sorted(plan.states.items())) for plan in self.plans.values()
        }
        return self.summary


def _iban(n: int) -> str:
    from stdnum import iban

    bank, branch, account = "30004", f"{n % 99999 + 1:05d}", f"{7_000_000_000 + n:011d}"
    key = 97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97)
    bban = f"{bank}{branch}{account}{key:02d}"
    return "FR" + iban.calc_check_digits("FR00" + bban) + bban


# --- reset ----------------------------------------------------------------------------------------
def generated_exists() -> bool:
    return (
        Vendor.objects.filter(nie__startswith=MARKER_NIE).exists()
        or User.objects.filter(username__startswith=USER_PREFIX).exists()
    )


def foreign_keys(tables: list[str], *, referencing_them: bool = False) -> list[tuple]:
    """PostgreSQL: (table, name, definition) of the foreign keys of `tables` (and, with
    `referencing_them`, of the keys pointing at them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ct.relname, k.conname, pg_get_constraintdef(k.oid)
            FROM pg_constraint k
            JOIN pg_class ct ON ct.oid = k.conrelid
            JOIN pg_class cf ON cf.oid = k.confrelid
            WHERE k.contype = 'f' AND ct.relnamespace = current_schema()::regnamespace
              AND (ct.relname = ANY(%(tables)s) OR (%(referencing)s AND cf.relname = ANY(%(tables)s)))
            ORDER BY ct.relname, k.conname
            """,
            {"tables": tables, "referencing": referencing_them},
        )
        return cursor.fetchall()


def drop_keys(keys: list[tuple]) -> None:
    with connection.cursor() as cursor:
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def add_keys(keys: list[tuple]) -> None:
    """Re-creates the keys: each is checked over the whole table at once (an anti-join)."""
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def delete_generated(log) -> dict:
    """Deletes the generated rows (see the module docstring); returns the counts deleted."""
    deleted: dict[str, int] = {}
    t = {
        m.__name__: m._meta.db_table
        for m in (
            Vendor,
            PurchaseOrder,
            PaymentRequest,
            IdempotencyRecord,
            Recovery,
            Reservation,
            EligibilityResult,
            Evidence,
            Establishment,
            EligibleEstablishment,
            Scheme,
            User,
        )
    }
    vendors = f"SELECT id FROM {t['Vendor']} WHERE nie LIKE '{MARKER_NIE}%%'"
    orders = f"SELECT id FROM {t['PurchaseOrder']} WHERE vendor_id IN ({vendors})"
    big = [t[k] for k in t if k not in ("Vendor", "Scheme", "User")]
    with transaction.atomic(), connection.cursor() as cursor:
        # Row-by-row foreign-key checks of a million deleted parents would run at COMMIT, through
        # indexes full of rows deleted by this very transaction: the keys are dropped instead,
        # and re-created (checked once each) before COMMIT.
        keys = foreign_keys(big, referencing_them=True) if connection.vendor == "postgresql" else []
        drop_keys(keys)
        cursor.execute("DROP TABLE IF EXISTS gen_establishment")
        cursor.execute(
            f"CREATE TEMPORARY TABLE gen_establishment AS SELECT DISTINCT establishment_id AS id "
            f"FROM {t['PurchaseOrder']} WHERE vendor_id IN ({vendors})"
        )
        steps = [
            (
                "eligibility_results",
                f"DELETE FROM {t['EligibilityResult']} WHERE order_id IN ({orders})",
            ),
            (
                "idempotency_records",
                f"DELETE FROM {t['IdempotencyRecord']} WHERE payment_request_id IN "
                f"(SELECT id FROM {t['PaymentRequest']} WHERE order_id IN ({orders}))",
            ),
            ("recoveries", f"DELETE FROM {t['Recovery']} WHERE purchase_order_id IN ({orders})"),
            ("payment_requests", f"DELETE FROM {t['PaymentRequest']} WHERE order_id IN ({orders})"),
            ("reservations", f"DELETE FROM {t['Reservation']} WHERE order_id IN ({orders})"),
            ("orders", f"DELETE FROM {t['PurchaseOrder']} WHERE vendor_id IN ({vendors})"),
            ("acceptance_reports", f"DELETE FROM {t['Evidence']} WHERE vendor_id IN ({vendors})"),
            (
                "gen_establishment",
                "DELETE FROM gen_establishment WHERE id IN (SELECT establishment_id FROM "
                f"{t['PurchaseOrder']}) OR id IN (SELECT establishment_id FROM {t['User']} "
                "WHERE establishment_id IS NOT NULL)",
            ),
            (
                "eligible_base",
                f"DELETE FROM {t['EligibleEstablishment']} WHERE scheme_id IN (SELECT id FROM "
                f"{t['Scheme']} WHERE code IN ({', '.join(repr(c) for c in WAVE1_SCHEMES)})) "
                f"AND establishment IN (SELECT CASE WHEN e.finess <> '' THEN e.finess "
                f"ELSE e.rpps END FROM {t['Establishment']} e JOIN gen_establishment g ON g.id = e.id)",
            ),
            (
                "establishments",
                f"DELETE FROM {t['Establishment']} WHERE id IN (SELECT id FROM gen_establishment)",
            ),
        ]
        for name, sql in steps:
            started = time.monotonic()
            cursor.execute(sql)
            if name != "gen_establishment":
                deleted[name] = cursor.rowcount
                log(f"supprimé : {name} {cursor.rowcount} ({time.monotonic() - started:.1f} s)")
        cursor.execute("DROP TABLE gen_establishment")
        started = time.monotonic()
        add_keys(keys)
        if keys:
            log(f"{len(keys)} clés étrangères vérifiées ({time.monotonic() - started:.1f} s)")
    # The big tables are vacuumed before the small ones are deleted: deleting a user or a
    # vendor looks for the rows that still reference it, through indexes full of dead entries.
    vacuum(log)
    generated = Vendor.objects.filter(nie__startswith=MARKER_NIE)
    with transaction.atomic():
        for name, qs in (
            ("referencings", Referencing.objects.filter(vendor__in=generated)),
            ("dossiers", Dossier.objects.filter(vendor__in=generated)),
            ("versions", SolutionVersion.objects.filter(solution__vendor__in=generated)),
            ("solutions", Solution.objects.filter(vendor__in=generated)),
            ("users", User.objects.filter(username__startswith=USER_PREFIX)),
            ("vendors", generated),
        ):
            deleted[name] = qs.delete()[1].get(qs.model._meta.label, 0)
        audit_record(
            actor=ACTOR,
            action="dataset.reset",
            obj=ObjectRef("dataset", "national-VA1", "Jeu de données national (vague 1)"),
            changes={k: [v, 0] for k, v in deleted.items()},
        )
    log(f"données générées supprimées : {deleted}")
    return deleted


def vacuum(log) -> None:
    if connection.vendor != "postgresql":
        return
    if connection.in_atomic_block:  # e.g. inside a test's transaction: autovacuum will do it
        log("VACUUM ANALYZE laissé à l'autovacuum (transaction en cours)")
        return
    started = time.monotonic()
    tables = [
        m._meta.db_table
        for m in (
            Establishment,
            EligibleEstablishment,
            Evidence,
            PurchaseOrder,
            Reservation,
            PaymentRequest,
            Vendor,
            SolutionVersion,
            Referencing,
            Dossier,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    log(f"VACUUM ANALYZE ({time.monotonic() - started:.1f} s)")


class Command(BaseCommand):
    help = (
        "Génère un jeu de données national aux proportions de la vague 1 (≈ 81 000 commandes à "
        "l'échelle 1) ; refuse de tourner deux fois sans --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1 ≈ 81,000 orders")
        parser.add_argument("--seed", type=int, default=2023)
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--reset", action="store_true", help="delete the generated rows, then generate"
        )
        group.add_argument(
            "--reset-only", action="store_true", help="delete the generated rows and stop"
        )

    def handle(self, *args, scale, seed, reset: bool, reset_only: bool, **options):
        if not 0 < scale <= 100:
            raise CommandError("--scale must be in ]0, 100].")
        started = time.monotonic()

        def log(message):
            self.stdout.write(f"[{time.monotonic() - started:7.1f} s] {message}")

        if reset or reset_only:
            delete_generated(log)
            if reset_only:
                return
        elif generated_exists():
            raise CommandError(
                "Ce jeu de données a déjà été généré dans cette base : relancez avec --reset "
                "pour le supprimer et le régénérer (ou --reset-only pour le supprimer)."
            )
        if Scheme.objects.filter(code__in=WAVE1_SCHEMES).count() < len(WAVE1_SCHEMES):
            log("dispositifs de la vague 1 absents : load_programme")
            call_command("load_programme", stdout=self.stdout)
        generator = Generator(scale, seed, self.stdout.write)
        generator.started = started
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # check each COPY's foreign keys as it ends, not all at COMMIT
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            summary = generator.run()
            audit_record(
                actor=ACTOR,
                action="dataset.generate",
                obj=ObjectRef("dataset", "national-VA1", "Jeu de données national (vague 1)"),
                changes={
                    "scale": [None, scale],
                    "seed": [None, seed],
                    **{k: [None, v] for k, v in summary.items() if k != "states"},
                },
            )
        log("validé (COMMIT)")
        vacuum(log)
        for code, states in summary["states"].items():
            self.stdout.write(f"  {code:<12} {states}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['orders']} commandes, {summary['establishments']} établissements, "
                f"{summary['payment_requests']} demandes de paiement, "
                f"{summary['acceptance_reports']} PV en {time.monotonic() - started:.1f} s."
            )
        )
