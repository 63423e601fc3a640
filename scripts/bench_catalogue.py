"""Load benchmark of the public catalogue (`GET /api/v1/catalogue/`) on PostgreSQL + gunicorn.

    .venv/bin/python scripts/bench_catalogue.py [--referencings 5000] [--concurrency 8]
                                                 [--requests 2000] [--workers 2] [--fresh]

1. Creates the database of DATABASE_URL if missing (default
   postgres://postgres@127.0.0.1:5432/sons_bench) and migrates it.
2. Loads `--referencings` active referencings (plus 10 % suspended, revoked or expired ones that
   must stay hidden), set-based: bulk inserts of vendors, solutions, versions, approved dossiers
   and referencings. An already loaded database of the same size is reused; `--fresh` drops and
   recreates it (only for a database whose name contains "bench").
3. Starts gunicorn on a free loopback port (DEBUG off), waits until it answers, fires
   `--requests` GETs from `--concurrency` threads with a mix of filters and pages, prints
   count, errors, p50/p95/p99 and throughput, and stops gunicorn. Everything is bounded: the
   run stops by itself (`--max-seconds`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import resource
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal
from pathlib import Path

from bench_server import free_port, get, start_server, stop_server, wait_ready

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sons_bench"
MARKER_SIREN_PREFIX = "9"  # bench vendors' SIRENs start with 9 (see _siren)

PREFIXES = [
    "Médi", "Santé", "Hexa", "Clini", "Pharma", "Bio", "Radio", "Info", "Doc", "Care", "Cardio",
    "Hospi", "Néo", "Axe", "Omni", "Alto", "Cegi", "Maïa", "Evo", "Sigma", "Ortho", "Vita",
]  # fmt: skip
SUFFIXES = [
    "logic", "soft", " Systèmes", " Santé", "data", "net", "tech", " Informatique", "line",
    "gest", "com", " Solutions", "lab", "way", "sys",
]  # fmt: skip
FORMS = ["SAS", "SA", "SARL", "SASU"]
CITIES = ["Lyon", "Nantes", "Lille", "Rennes", "Bordeaux", "Toulouse", "Marseille", "Strasbourg"]
PRODUCT_WORDS = {
    "DPI": ["Dossier Patient", "Hôpital", "Clinicom", "Easily", "DxCare", "Sillage"],
    "RI": ["Identitovigilance", "Serveur d'identités", "Rapprochement INS"],
    "PFI": ["Passerelle", "Intermédiation", "Hub Santé"],
    "LGC": ["Cabinet", "Médecin", "Consultation", "Agenda Médical"],
    "SIR": ["RIS", "Imagerie", "Radiologie", "PACS Connect"],
    "SGL": ["Laboratoire", "Biologie", "Analyses"],
    "LGO": ["Officine", "Pharmacie", "Comptoir"],
    "MSS": ["Messagerie", "Mail Santé", "Secure Mail"],
}


# --- environment ----------------------------------------------------------------------------------
def _environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(BASE_DIR),
            "PYTHONWARNINGS": "ignore::UserWarning",
        }
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def _ensure_database(database_url: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    url = urllib.parse.urlsplit(database_url)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            if "bench" not in name:
                sys.exit(f"refusing to drop {name!r}: --fresh only drops a *bench* database")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def _django(database_url: str) -> None:
    os.environ.update(_environment(database_url))
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


# --- data -------------------------------------------------------------------------------------------
def _siren(n: int) -> str:
    from core.identifiers import luhn_key

    body = f"{MARKER_SIREN_PREFIX}{n:07d}"
    return body + luhn_key(body)


def _vendor_names(count: int, rng: random.Random) -> list[str]:
    combos = [(p, s) for p in PREFIXES for s in SUFFIXES]
    rng.shuffle(combos)
    names = []
    for i in range(count):
        prefix, suffix = combos[i % len(combos)]
        name = f"{prefix}{suffix} {FORMS[i % len(FORMS)]}"
        if i >= len(combos):
            name += f" {CITIES[(i // len(combos)) % len(CITIES)]}"
            if i >= len(combos) * len(CITIES):
                name += f" {i // (len(combos) * len(CITIES))}"
        names.append(name)
    return names


def load(referencings: int, seed: int = 20250917) -> None:
    """Set-based load: one bulk insert per table, in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.identifiers import luhn_key
    from core.timeutils import end_of_day_paris
    from referencing_app.models import (
        Dossier,
        DossierState,
        ReferenceCounter,
        Referencing,
        ReferencingState,
    )
    from sons.models import Category, RequirementSet, Scheme, Wave
    from vendors.models import Solution, SolutionVersion, Vendor

    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    hidden = referencings // 10
    total = referencings + hidden
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        waves = {
            code: Wave.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name in (("VA1", "Vague 1"), ("VA2", "Vague 2"))
        }
        categories = list(Category.objects.select_related("sector").order_by("code"))
        schemes = {}
        for category in categories:
            for wave_code, wave in waves.items():
                year = 2021 if wave_code == "VA1" else 2024
                scheme, _ = Scheme.objects.get_or_create(
                    code=f"{category.sector.code}-{category.code}-{wave_code}",
                    defaults={
                        "name": f"{category.name} — vague {wave_code[-1]}",
                        "wave": wave,
                        "sector": category.sector,
                        "category": category,
                        "submission_opens": end_of_day_paris(dt.date(year, 8, 31)),
                        "submission_closes": end_of_day_paris(dt.date(year + 2, 12, 31)),
                        "order_deadline": end_of_day_paris(dt.date(year + 3, 3, 31)),
                        "installation_deadline": end_of_day_paris(dt.date(year + 3, 9, 30)),
                        "payment_deadline": end_of_day_paris(dt.date(year + 3, 12, 31)),
                        "price_cap": Decimal("25000.00"),
                    },
                )
                rset, _ = RequirementSet.objects.get_or_create(
                    scheme=scheme, version=1, defaults={"published_at": now}
                )
                schemes[(category.code, wave_code)] = (scheme, rset)

        vendor_count = max(1, total // 5)
        vendors = []
        for i, name in enumerate(_vendor_names(vendor_count, rng)):
            siren = _siren(i)
            vendors.append(
                Vendor(
                    id=uuid.uuid4(),
                    name=name,
                    siren=siren,
                    siret=siren + "0001" + luhn_key(siren + "0001"),
                    nie=f"NIEB{i:06d}",
                )
            )
        Vendor.objects.bulk_create(vendors, batch_size=1000)

        # Each vendor sells one or two products per category it works in.
        solutions: dict[tuple[int, str, int], Solution] = {}
        plan = []  # (vendor index, category, product index, wave, state)
        states = [ReferencingState.ACTIVE] * referencings + [
            rng.choice(
                [ReferencingState.SUSPENDED, ReferencingState.REVOKED, ReferencingState.EXPIRED]
            )
            for _ in range(hidden)
        ]
        rng.shuffle(states)
        for i, state in enumerate(states):
            vendor_index = i % vendor_count
            category = categories[(vendor_index * 3 + i // vendor_count) % len(categories)]
            wave = "VA1" if rng.random() < 0.3 else "VA2"
            plan.append((vendor_index, category, rng.randrange(2), wave, state))
            key = (vendor_index, category.code, plan[-1][2])
            if key not in solutions:
                words = PRODUCT_WORDS[category.code]
                brand = vendors[vendor_index].name.split()[0]
                solutions[key] = Solution(
                    id=uuid.uuid4(),
                    vendor=vendors[vendor_index],
                    category=category,
                    name=f"{brand} {words[(vendor_index + key[2]) % len(words)]} {key[2] + 1}",
                )
        Solution.objects.bulk_create(solutions.values(), batch_size=1000)

        versions, dossiers, refs = [], [], []
        version_numbers = itertools.count(1)
        counters: dict[Scheme, int] = {}
        for vendor_index, category, product, wave, state in plan:
            solution = solutions[(vendor_index, category.code, product)]
            scheme, rset = schemes[(category.code, wave)]
            version = SolutionVersion(
                id=uuid.uuid4(),
                solution=solution,
                number=f"{2021 if wave == 'VA1' else 2024}.{next(version_numbers)}",
            )
            decided = now - dt.timedelta(days=rng.randrange(1, 700), minutes=rng.randrange(1440))
            dossier = Dossier(
                id=uuid.uuid4(),
                scheme=scheme,
                solution_version=version,
                vendor=solution.vendor,
                requirement_set=rset,
                state=DossierState.APPROVED,
                charter_accepted_at=decided - dt.timedelta(days=60),
                complete=True,
                revision=1,
                submitted_at=decided - dt.timedelta(days=45),
                last_submitted_at=decided - dt.timedelta(days=45),
                complete_deposit_at=decided - dt.timedelta(days=45),
                decided_at=decided,
                ended_at=decided,
            )
            counters[scheme] = counters.get(scheme, 0) + 1
            versions.append(version)
            dossiers.append(dossier)
            refs.append(
                Referencing(
                    id=uuid.uuid4(),
                    reference=f"{scheme.code}-{decided.year}-{counters[scheme]:04d}",
                    dossier=dossier,
                    scheme=scheme,
                    solution_version=version,
                    vendor=solution.vendor,
                    state=state,
                    valid_from=decided,
                    valid_until=scheme.payment_deadline,
                )
            )
        SolutionVersion.objects.bulk_create(versions, batch_size=1000)
        Dossier.objects.bulk_create(dossiers, batch_size=1000)
        Referencing.objects.bulk_create(refs, batch_size=1000)
        ReferenceCounter.objects.bulk_create(
            [
                ReferenceCounter(scheme=scheme, year=now.year, last=last)
                for scheme, last in counters.items()
            ],
            ignore_conflicts=True,
        )
    with connection.cursor() as cursor:  # what autovacuum would do: statistics, visibility map
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded {referencings} active + {hidden} hidden referencings, {vendor_count} vendors, "
        f"{len(solutions)} solutions in {time.perf_counter() - started:.1f} s"
    )


def prepare(database_url: str, referencings: int, *, fresh: bool) -> dict:
    """Migrate, load (or reuse) the data; return the values the request mix draws from."""
    _ensure_database(database_url, fresh=fresh)
    _django(database_url)
    from django.core.management import call_command
    from django.db import connection

    from referencing_app.models import Referencing, ReferencingState

    call_command("migrate", verbosity=0, interactive=False)
    active = Referencing.objects.filter(state=ReferencingState.ACTIVE).count()
    if active == 0 and not Referencing.objects.exists():
        load(referencings)
    elif active != referencings:
        sys.exit(
            f"the database holds {active} active referencings, not {referencings}: "
            "rerun with --fresh"
        )
    else:
        print(f"reusing {active} active referencings already loaded")
    rows = list(
        Referencing.objects.filter(state=ReferencingState.ACTIVE).values_list(
            "scheme__code",
            "scheme__category__code",
            "scheme__wave__code",
            "vendor__siren",
            "vendor__name",
            "solution_version__solution__name",
            "reference",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    connection.close()
    return {"rows": rows, "server_version": server_version}


# --- load generation --------------------------------------------------------------------------------
def request_mix(rows: list[tuple], count: int, page_size: int, seed: int = 7) -> list[tuple]:
    """`count` (kind, path) pairs: pages of the full list, and filters a visitor would use."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    pages = max(1, -(-len(rows) // page_size))
    by_scheme: dict[str, int] = {}
    for row in rows:
        by_scheme[row[0]] = by_scheme.get(row[0], 0) + 1
    mix = []
    for _ in range(count):
        row = rng.choice(rows)
        draw = rng.random()
        if draw < 0.35:
            kind, params = "list", {"page": rng.randint(1, pages)}
        elif draw < 0.50:
            last = max(1, -(-by_scheme[row[0]] // page_size))
            kind, params = "scheme", {"scheme": row[0], "page": rng.randint(1, last)}
        elif draw < 0.60:
            kind, params = "category", {"category": row[1]}
        elif draw < 0.70:
            kind, params = "wave", {"wave": row[2], "category": row[1]}
        elif draw < 0.75:
            kind, params = "vendor", {"vendor": row[3]}
        else:
            term = rng.choice(
                [row[5].split()[-2], row[4].split()[0][:5].lower(), row[6][:11], "zzz-absent"]
            )
            kind, params = "q", {"q": term}
        mix.append((kind, "/api/v1/catalogue/?" + urllib.parse.urlencode(params)))
    return mix


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (Linux /proc), 0 if gone or unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _backends(database_url: str) -> list[int]:
    """PostgreSQL backends connected to the bench database (the workers keep theirs open)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU spent by the gunicorn workers, their PostgreSQL backends and this client between
    `start()` and `stop()`: a cost per request that does not depend on what else the machine
    is doing (latency on a shared machine does). A process that appears during the round counts
    from its start; one that ends during the round (a database connection recycled after
    CONN_MAX_AGE) is lost, and the result is flagged approximate."""

    def __init__(self, server_pid: int, database_url: str):
        self.server_pid, self.database_url = server_pid, database_url
        self.enabled = Path("/proc/self/stat").exists()
        self.approximate = False

    def _processes(self) -> dict[str, dict[int, float]]:
        if not self.enabled:
            return {"server": {}, "database": {}}
        return {
            "server": {pid: _cpu_seconds(pid) for pid in _children(self.server_pid)},
            "database": {pid: _cpu_seconds(pid) for pid in _backends(self.database_url)},
        }

    @staticmethod
    def _client() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self.before, self.client_before = self._processes(), self._client()

    def stop(self) -> tuple[float, float, float]:
        client = self._client() - self.client_before
        after = self._processes()
        spent = {}
        for group, pids in after.items():
            before = self.before[group]
            self.approximate |= bool(set(before) - set(pids))
            spent[group] = sum(cpu - before.get(pid, 0.0) for pid, cpu in pids.items())
        return spent["server"], spent["database"], client


def fire(port: int, mix: list[tuple], concurrency: int, deadline: float) -> tuple[list, float]:
    """Bounded: each thread takes the next request of `mix` until none is left (or time is up)."""
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    cursor = iter(mix)

    def worker():
        while time.monotonic() < deadline:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            kind, path = item
            started = time.perf_counter()
            try:
                status, body = get(port, path)
                if status == 200 and not body.startswith(b"{"):
                    status = -2
            except OSError:
                status = -1
            elapsed = time.perf_counter() - started
            with lock:
                results.append((kind, elapsed, status))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
    return results, time.perf_counter() - started


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def report(results: list, wall: float, args, cpu: tuple[float, float, float]) -> float | None:
    """Print one round; return its p95 (None when nothing was measured or anything failed)."""
    latencies = [elapsed * 1000 for _kind, elapsed, _status in results]
    errors = sum(1 for _kind, _elapsed, status in results if status != 200)
    print(
        f"\nGET /api/v1/catalogue/  referencings={args.referencings} workers={args.workers} "
        f"concurrency={args.concurrency}  (load average {_load()})"
    )
    print(f"requests {len(results)}  errors {errors}  wall {wall:.2f} s")
    if not latencies:
        return None
    p95 = _percentile(latencies, 95)
    print(
        f"latency ms: p50 {_percentile(latencies, 50):.1f}  p95 {p95:.1f}  "
        f"p99 {_percentile(latencies, 99):.1f}  max {max(latencies):.1f}  "
        f"mean {statistics.fmean(latencies):.1f}"
    )
    print(f"throughput {len(results) / wall:.0f} req/s")
    server, database, client = (seconds * 1000 / len(results) for seconds in cpu)
    total = server + database + client
    print(
        f"CPU per request: gunicorn {server:.2f} ms + PostgreSQL {database:.2f} ms "
        f"+ client {client:.2f} ms = {total:.2f} ms "
        f"(capacity of {os.cpu_count()} idle cores ≈ {os.cpu_count() * 1000 / total:.0f} req/s)"
    )
    kinds = sorted({kind for kind, _e, _s in results})
    for kind in kinds:
        values = [e * 1000 for k, e, _s in results if k == kind]
        print(
            f"  {kind:<9} n={len(values):<5} p50 {_percentile(values, 50):6.1f}  "
            f"p95 {_percentile(values, 95):6.1f}"
        )
    return p95 if errors == 0 and len(results) == args.requests else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referencings", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2-4)")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured requests first")
    parser.add_argument("--target-p95", type=float, default=50.0, help="milliseconds")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="hard stop of the run")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measured rounds on the same server (1-10)"
    )
    parser.add_argument("--fresh", action="store_true", help="drop and reload the bench database")
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    args = parser.parse_args()
    if not (
        1 <= args.concurrency <= 64 and 1 <= args.requests <= 100_000 and 1 <= args.rounds <= 10
    ):
        parser.error("concurrency 1-64, requests 1-100000, rounds 1-10")
    if not urllib.parse.urlsplit(args.database_url).scheme.startswith("postgres"):
        parser.error("the benchmark runs on PostgreSQL")

    data = prepare(args.database_url, args.referencings, fresh=args.fresh)
    print(
        f"machine: nproc={os.cpu_count()}  PostgreSQL {data['server_version']}  "
        f"load average {_load()}"
    )
    port = free_port()
    server = start_server(_environment(args.database_url), port, args.workers, timeout=30)
    p95s = []
    try:
        wait_ready(server, port, "/api/v1/catalogue/?page_size=1")
        deadline = time.monotonic() + args.max_seconds
        warmup = request_mix(data["rows"], args.warmup, args.page_size, seed=1)
        fire(port, warmup, args.concurrency, deadline)
        mix = request_mix(data["rows"], args.requests, args.page_size)
        for _round in range(args.rounds):
            meter = CpuMeter(server.pid, args.database_url)
            meter.start()
            results, wall = fire(port, mix, args.concurrency, deadline)
            p95s.append(report(results, wall, args, meter.stop()))
            if meter.approximate:
                print("  (CPU approximate: a process ended during the round)")
    finally:
        stop_server(server)
    if None in p95s:
        print("\nerrors or missing requests: no verdict")
        return 1
    median = statistics.median(p95s)
    print(
        f"\np95 per round (ms): {' '.join(f'{v:.1f}' for v in p95s)}; median {median:.1f}; "
        f"target p95 < {args.target_p95:.0f} ms: {'met' if median < args.target_p95 else 'NOT met'}"
    )
    return 0 if median < args.target_p95 else 1


if __name__ == "__main__":
    sys.exit(main())
