"""Fault injection with a real Redis (docs/decisions/0014): the test starts its own redis-server
on a free port as the broker and result store, writes through HTTP while it is up, kills it,
writes again (a comment, an order cancellation, an eligibility launch, a dossier rejection, an
import), and proves that every answer was quick and 2xx/4xx (launches answer 202 with their
job), that nothing was lost, and that once Redis is back the periodic sender emails every
notification exactly once and the pickup runs the launches.

Skipped only where no `redis-server` binary exists; CI (.ci/run) checks that it ran."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time

import kombu.pools
import pytest
import redis
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.services import api_token_create
from config.celery_app import app
from core.models import EmailState, Job, JobState, Notification
from core.tasks import run_queued_jobs, send_pending_notifications
from orders.models import Establishment, PurchaseOrder
from payments.models import EligibilityRun
from referencing_app.models import Comment, Dossier
from tests.factories.orders import make_order_world, order_in, pre_referencing_version
from tests.factories.sons import finess

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server binary")

QUICK = 2.0  # seconds: an answer slower than this waited on the broker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server: no persistence, its own port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (the binary found on PATH, fixed args)
            [REDIS_SERVER, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def queued(self) -> int:
        return redis.Redis(port=self.port).llen("celery")


def _reset_connections() -> None:
    """Forget the app's broker connections and result backend (they follow `app.conf`)."""
    kombu.pools.reset()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    if hasattr(app._local, "backend"):
        del app._local.backend


@pytest.fixture
def live_redis(monkeypatch):
    server = RedisServer()
    server.start()
    # Celery prefers these variables to its configuration (CI sets the first): point them here
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", server.url)
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=server.url, result_backend=server.url, task_always_eager=False)
    _reset_connections()
    try:
        yield server
    finally:
        server.stop()
        app.conf.update(saved)
        _reset_connections()


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(actor=user, user=user).key}")
    return client


def test_a_broker_outage_costs_no_write_no_500_and_no_email(
    db, live_redis, django_capture_on_commit_callbacks
):
    ow = make_order_world()
    _, commented = pre_referencing_version(ow, "submitted")
    order = order_in(ow, "sent")
    _, rejected = pre_referencing_version(ow, "in_review")
    vendor, admin2, officer = (_token_client(u) for u in (ow.member, ow.admin2, ow.officer))
    send_pending_notifications()  # what the setup's services notified (eagerly, before)
    mail.outbox.clear()
    before = set(Notification.objects.values_list("pk", flat=True))

    def write(client, path, body, expected):
        began = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):  # the nudges, as after a commit
            response = client.post(path, body, format="json")
        elapsed = time.monotonic() - began
        assert response.status_code == expected, (path, response.status_code, response.content)
        assert elapsed < QUICK, (path, elapsed)
        return response

    # broker up: the nudges reach Redis (nobody consumes them here)
    comments = f"/api/v1/dossiers/{commented.pk}/comments/"
    write(vendor, comments, {"body": "Avant la panne."}, 201)
    assert live_redis.queued() >= 1

    # broker down: every write still answers at once, and is kept
    live_redis.stop()
    write(vendor, comments, {"body": "Pendant la panne."}, 201)
    write(vendor, f"/api/v1/purchase-orders/{order.pk}/cancel/", {"reason": "Panne"}, 200)
    launch = write(officer, "/api/v1/eligibility-runs/", {"schemes": [ow.scheme.code]}, 202)
    write(admin2, f"/api/v1/dossiers/{rejected.pk}/reject/", {"reason": "Non conforme"}, 200)
    csv = SimpleUploadedFile(
        "etab.csv", f"finess;rpps;name;kind;siret\n{finess(777)};;CH panne;hospital;\n".encode()
    )
    began = time.monotonic()
    imported = admin2.post("/api/v1/establishments/import/", {"file": csv}, format="multipart")
    assert (imported.status_code, imported.json()["state"]) == (202, "queued")
    assert time.monotonic() - began < QUICK
    refused = write(vendor, f"/api/v1/dossiers/{rejected.pk}/withdraw/", {"reason": "x"}, 409)
    assert refused.json()["errors"]

    bodies = set(Comment.objects.filter(dossier=commented).values_list("body", flat=True))
    assert {"Avant la panne.", "Pendant la panne."} <= bodies
    assert PurchaseOrder.objects.get(pk=order.pk).state == "cancelled"
    assert Dossier.objects.get(pk=rejected.pk).state == "rejected"
    job = Job.objects.get(pk=launch.json()["job"])
    assert job.state == JobState.QUEUED
    new = list(Notification.objects.exclude(pk__in=before).select_related("recipient"))
    assert len(new) >= 4
    assert all(n.email_state == EmailState.PENDING and n.emailed_at is None for n in new)
    assert mail.outbox == []

    # Redis back: the periodic sender and the pickup deliver everything, once
    live_redis.start()  # same port: the app's connections must recover by themselves
    totals = send_pending_notifications()
    assert totals["sent"] == len(new)
    assert totals["retry"] == totals["dead"] == 0
    assert send_pending_notifications()["sent"] == 0
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        (n.recipient.email, n.subject) for n in new
    )
    assert not Notification.objects.filter(email_state=EmailState.PENDING).exists()
    assert run_queued_jobs() == 2
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert EligibilityRun.objects.filter(scheme=ow.scheme).exists()
    followed = admin2.get(f"/api/v1/jobs/{imported.json()['job']}/").json()
    assert (followed["state"], followed["result"]["created"]) == ("done", 1)
    assert Establishment.objects.filter(finess=finess(777)).exists()
    assert vendor.get(f"/api/v1/jobs/{imported.json()['job']}/").status_code == 404
    # and publishing works again
    write(vendor, comments, {"body": "Après la panne."}, 201)
    assert live_redis.queued() >= 1
