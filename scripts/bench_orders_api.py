"""Load benchmark of the orders and payment-queue API over the national dataset (PostgreSQL).

    .venv/bin/python scripts/bench_orders_api.py [--db sons_bench_elig] [--scale 12.5]
        [--requests 1200] [--concurrency 8] [--workers 3] [--target-p95 200]

1. Uses the database of scripts/bench_eligibility.py (postgres://postgres@127.0.0.1:5432/<db>):
   migrates it, generates the wave-1 national dataset if it is not there
   (`generate_national_dataset --scale`) and runs the eligibility batch if no result is stored
   (the payment queue lists the stored results).
2. Gives an API token to a payment officer and to the member of the vendor with the most orders
   (users created by the generator), and picks real values for the filters.
3. Starts gunicorn on a free loopback port (`--no-control-socket`, `--workers`, settings
   `config.settings.production` with DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,
   DJANGO_SECURE_SSL_REDIRECT=false), waits until it answers, fires a warm-up and then
   `--requests` GETs from `--concurrency` threads: `/api/v1/purchase-orders/` (pages, scheme and
   state filters, one establishment, one vendor; as the officer and as the vendor) and
   `/api/v1/payment-queue/` (per scheme, per reason, eligible or not). Prints p50/p95/p99 overall
   and per kind of request, errors and throughput, then stops gunicorn. Bounded: `--max-seconds`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench_server import free_port, get, start_server, stop_server, wait_ready

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SCHEMES = [
    "HOP-DPI-VA1",
    "HOP-RI-VA1",
    "HOP-PFI-VA1",
    "MDV-LGC-VA1",
    "OFF-LGO-VA1",
    "RAD-SIR-VA1",
    "BIO-SGL-VA1",
]
QUEUE_REASONS = [
    "OPEN_RESERVATIONS",
    "INSTALLATION_NOT_ACCEPTED",
    "ADVANCE_NOT_PAID",
    "VENDOR_NOT_ENROLLED",
    "DUPLICATE_ORDER",
]


def environment(database_url: str, settings: str = "config.settings.production") -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "DJANGO_SECRET_KEY": "bench-orders-api-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(BASE_DIR),
            "PYTHONWARNINGS": "ignore::UserWarning",
        }
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def manage(env: dict, *args: str, timeout: float) -> None:
    print("$ manage.py " + " ".join(args), flush=True)
    subprocess.run(  # noqa: S603 - fixed command
        [PYTHON, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        check=True,
        timeout=timeout,
    )


def prepare(database_url: str, scale: float, timeout: float) -> dict:
    """Database, dataset, eligibility results, tokens and filter values."""
    import psycopg
    from psycopg import sql

    url = urllib.parse.urlsplit(database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = environment(database_url, "config.settings.local")
    manage(env, "migrate", "--noinput", "-v0", timeout=timeout)
    with psycopg.connect(database_url, autocommit=True) as conn:
        generated = conn.execute(
            "SELECT count(*) FROM vendors_vendor WHERE nie LIKE 'SONSNAT%'"
        ).fetchone()[0]
    if not generated:
        manage(env, "generate_national_dataset", "--scale", str(scale), timeout=timeout)
    with psycopg.connect(database_url, autocommit=True) as conn:
        checked = conn.execute("SELECT count(*) FROM payments_eligibilityresult").fetchone()[0]
    if not checked:
        manage(env, "check_eligibility", timeout=timeout)

    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from accounts.models import User
    from accounts.services import api_token_create
    from orders.models import PurchaseOrder

    officer = User.objects.get(username="nat-officer-1")
    vendor_id = (
        PurchaseOrder.objects.values("vendor_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("vendor_id", flat=True)[:1][0]
    )
    member = User.objects.filter(vendor_id=vendor_id, username__startswith="nat-").first()
    tokens = {
        "officer": api_token_create(actor="bench_orders_api", user=officer).key,
        "vendor": api_token_create(actor="bench_orders_api", user=member).key,
    }
    rng = random.Random(11)  # noqa: S311 - reproducible choices, not secrets
    sample = list(
        PurchaseOrder.objects.order_by("?").values_list("establishment_id", "vendor_id")[:200]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_purchaseorder")
        orders = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM orders_purchaseorder WHERE vendor_id = %s", [vendor_id]
        )
        vendor_orders = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    connection.close()
    rng.shuffle(sample)
    return {
        "tokens": tokens,
        "establishments": [str(e) for e, _v in sample],
        "vendors": [str(v) for _e, v in sample],
        "orders": orders,
        "vendor_orders": vendor_orders,
        "server_version": server_version,
    }


# --- load ------------------------------------------------------------------------------------------
def request_mix(data: dict, count: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """`count` (kind, role, path) triples."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    kinds = [
        ("orders:page", 0.17),
        ("orders:scheme+state", 0.13),
        ("orders:rare-state", 0.08),
        ("orders:establishment", 0.10),
        ("orders:vendor+state", 0.05),
        ("orders:as-vendor", 0.12),
        ("orders:as-vendor+state", 0.05),
        ("queue:scheme", 0.13),
        ("queue:reason", 0.10),
        ("queue:all", 0.07),
    ]
    names = [k for k, _w in kinds]
    weights = [w for _k, w in kinds]
    mix = []
    for _ in range(count):
        kind = rng.choices(names, weights)[0]
        role, path, params = "officer", "/api/v1/purchase-orders/", {}
        if kind == "orders:page":
            params = {"page": rng.randint(1, 20)}
        elif kind == "orders:scheme+state":
            params = {
                "scheme": rng.choice(SCHEMES),
                "state": "installed",
                "page": rng.randint(1, 10),
            }
        elif kind == "orders:rare-state":
            params = {"state": rng.choice(["reserved", "installation_declared", "void"])}
        elif kind == "orders:establishment":
            params = {"establishment": rng.choice(data["establishments"])}
        elif kind == "orders:vendor+state":
            params = {"vendor": rng.choice(data["vendors"]), "state": "signed"}
        elif kind == "orders:as-vendor":
            role, params = "vendor", {"page": rng.randint(1, 20)}
        elif kind == "orders:as-vendor+state":
            role, params = "vendor", {"state": rng.choice(["signed", "reserved", "lapsed"])}
        elif kind == "queue:scheme":
            path = "/api/v1/payment-queue/"
            params = {
                "scheme": rng.choice(SCHEMES),
                "kind": rng.choice(["advance", "balance"]),
                "page": rng.randint(1, 5),
            }
        elif kind == "queue:reason":
            path = "/api/v1/payment-queue/"
            params = {"kind": "balance", "reason": rng.choice(QUEUE_REASONS)}
        elif kind == "queue:all":
            path = "/api/v1/payment-queue/"
            eligible = rng.choice(["false", "true"])  # none is eligible: one page only
            params = {"page": rng.randint(1, 5) if eligible == "false" else 1, "eligible": eligible}
        mix.append((kind, role, path + "?" + urllib.parse.urlencode(params)))
    return mix


def fire(port: int, mix: list, tokens: dict, concurrency: int, deadline: float):
    """Bounded: each thread takes the next request of `mix` until none is left or time is up."""
    results: list[tuple[str, float, int, int]] = []
    lock = threading.Lock()
    cursor = iter(mix)

    def worker():
        while time.monotonic() < deadline:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            kind, role, path = item
            started = time.perf_counter()
            count = -1
            try:
                status, body = get(port, path, tokens[role])
                if status == 200:
                    try:
                        count = json.loads(body).get("count", -1)
                    except ValueError:
                        status = -2
            except OSError:
                status = -1
            with lock:
                results.append((kind, time.perf_counter() - started, status, count))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 65)
    return results, time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def report(results: list, wall: float, args) -> bool:
    latencies = [e * 1000 for _k, e, _s, _c in results]
    errors = sum(1 for _k, _e, status, _c in results if status != 200)
    print(
        f"\nGET purchase-orders / payment-queue: workers={args.workers} "
        f"concurrency={args.concurrency}"
    )
    print(f"requests {len(results)}  errors {errors}  wall {wall:.1f} s")
    if not latencies:
        return False
    p95 = percentile(latencies, 95)
    print(
        f"latency ms: p50 {percentile(latencies, 50):.0f}  p95 {p95:.0f}  "
        f"p99 {percentile(latencies, 99):.0f}  max {max(latencies):.0f}  "
        f"mean {statistics.fmean(latencies):.0f}"
    )
    print(f"throughput {len(results) / wall:.1f} req/s")
    print(f"  {'kind':<24} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7}  rows matched (median)")
    for kind in sorted({k for k, _e, _s, _c in results}):
        values = [e * 1000 for k, e, _s, _c in results if k == kind]
        counts = [c for k, _e, _s, c in results if k == kind and c >= 0]
        print(
            f"  {kind:<24} {len(values):>5} {percentile(values, 50):>7.0f} "
            f"{percentile(values, 95):>7.0f} {percentile(values, 99):>7.0f}  "
            f"{int(statistics.median(counts)) if counts else '—':>}"
        )
    ok = errors == 0 and len(results) == args.requests and p95 < args.target_p95
    print(f"target p95 < {args.target_p95:.0f} ms: {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sons_bench_elig")
    parser.add_argument("--host", default="127.0.0.1:5432")
    parser.add_argument("--scale", type=float, default=12.5, help="if the dataset is missing")
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (2-4)")
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured requests first")
    parser.add_argument("--target-p95", type=float, default=200.0, help="milliseconds")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="hard stop of the load")
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 32 or not 1 <= args.requests <= 20_000:
        parser.error("concurrency 1-32, requests 1-20000")
    if not 2 <= args.workers <= 4:
        parser.error("workers 2-4")
    database_url = f"postgres://postgres@{args.host}/{args.db}"
    data = prepare(database_url, args.scale, timeout=1800)
    print(
        f"machine: nproc={os.cpu_count()}  PostgreSQL {data['server_version']}  "
        f"orders {data['orders']:,} (the vendor sees {data['vendor_orders']:,})  "
        f"load average before {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    port = free_port()
    server = start_server(environment(database_url), port, args.workers, timeout=60)
    try:
        wait_ready(server, port, "/api/v1/payment-queue/reasons/", data["tokens"]["officer"])
        deadline = time.monotonic() + args.max_seconds
        fire(
            port, request_mix(data, args.warmup, seed=1), data["tokens"], args.concurrency, deadline
        )
        results, wall = fire(
            port, request_mix(data, args.requests), data["tokens"], args.concurrency, deadline
        )
    finally:
        stop_server(server)
    ok = report(results, wall, args)
    print(f"load average after {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
