"""A real Celery worker, fed through the broker: what eager mode can never prove.

Skipped unless CELERY_BROKER_URL is set (CI sets it; see .ci/run). The worker is a subprocess
with eagerness off (config.settings.local + the broker URL), consuming a queue of its own, and
pointed at the very database this test writes to, so a task's answer proves the round trip
test → broker → worker → database → result backend → test.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from config.celery_app import app
from core.audit import ObjectRef, audit_record
from core.models import AuditEntry

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL, reason="needs CELERY_BROKER_URL (a real broker)"
    ),
]

BASE_DIR = Path(settings.BASE_DIR)
STARTUP_TIMEOUT = 60  # seconds for the worker to boot and answer the first task
TASK_TIMEOUT = 30


def _database_url() -> str:
    """DATABASE_URL naming the database this test process is connected to (the test DB)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip("the test database is in memory: a worker process cannot share it")
        return f"sqlite:///{name}"
    if connection.vendor != "postgresql":  # pragma: no cover - only SQLite and PostgreSQL are used
        pytest.skip(f"no DATABASE_URL mapping for {connection.vendor}")
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _celery_command() -> list[str]:
    venv_celery = BASE_DIR / ".venv" / "bin" / "celery"
    if venv_celery.exists():
        return [str(venv_celery)]
    return [sys.executable, "-m", "celery"]


@pytest.fixture(scope="module")
def worker(django_db_setup):
    """A running worker on a dedicated queue, shared by this module's tests. Always killed."""
    queue = f"sons-ci-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",  # eager is off when a broker is set
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",  # hold no connection that would block dropping the test DB
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND or settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        *_celery_command(),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    # Output goes to a file, not a pipe: a chatty worker can never block on a full pipe.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command, our own interpreter
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.queue = queue
        process.log = log
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Best effort: leave nothing of the test queue in Redis (the queue and its bindings)."""
    with contextlib.suppress(Exception), app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_delete(queue)
        client = getattr(channel, "client", None)  # Redis transport only
        if client is not None:
            client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def _worker_output(process) -> str:
    process.log.flush()
    process.log.seek(0)
    return process.log.read()[-4000:]


def _run_on_worker(process, task_name: str, timeout: float) -> dict:
    """Send `task_name` through the broker (never eagerly) and wait for the worker's answer."""
    result = app.send_task(task_name, queue=process.queue)
    deadline = time.monotonic() + timeout
    while not result.ready():
        if process.poll() is not None:
            pytest.fail(f"the worker exited with {process.returncode}:\n{_worker_output(process)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no answer from the worker in {timeout}s:\n{_worker_output(process)}")
        time.sleep(0.2)
    try:
        return result.get(timeout=5, propagate=True)
    finally:
        result.forget()


@pytest.fixture
def not_eager():
    """The suite runs eagerly; a send through the broker must not be short-circuited."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.mark.django_db(transaction=True)
def test_worker_runs_heartbeat_against_the_database(worker, not_eager):
    answer = _run_on_worker(worker, "core.tasks.heartbeat", STARTUP_TIMEOUT)

    assert answer == {"database": True, "vendor": connection.vendor}
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        assert answer["vendor"] == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_worker_reads_what_the_test_committed(worker, not_eager):
    # Warm up: the worker is booted and answering before we write.
    before = _run_on_worker(worker, "core.tasks.audit_head", STARTUP_TIMEOUT)
    assert before["count"] == AuditEntry.objects.count()

    with transaction.atomic():
        for i in range(3):
            entry = audit_record(
                actor="ci worker test",
                action="ci.worker_probe",
                obj=ObjectRef("ci.probe", str(uuid.uuid4()), f"probe {i}"),
            )

    after = _run_on_worker(worker, "core.tasks.audit_head", TASK_TIMEOUT)

    assert after == {
        "count": before["count"] + 3,
        "seq": entry.seq,
        "hash": entry.hash,
        "vendor": connection.vendor,
    }
