"""What the load benchmarks share: a gunicorn of the project on a free loopback port, one GET.

Imported by scripts/bench_catalogue.py and scripts/bench_orders_api.py (run as scripts, their
folder is on sys.path)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, token: str | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
    """One GET on a new connection (as sync workers serve them): status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Accept": "application/json", "Host": "127.0.0.1"}
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_server(env: dict, port: int, workers: int, timeout: int) -> subprocess.Popen:
    """gunicorn (sync workers, `--no-control-socket` so that several can run at once)."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--log-level",
        "warning",
        "--timeout",
        str(timeout),
        "--chdir",
        str(BASE_DIR),
    ]
    return subprocess.Popen(  # noqa: S603 - fixed command, loopback only
        command, env=env, cwd=BASE_DIR, start_new_session=True
    )


def wait_ready(
    server: subprocess.Popen, port: int, path: str, token: str | None = None, timeout: float = 60
) -> None:
    """Until `path` answers 200; an answer that will not change (400, 401, 403, 500) stops."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            status, body = get(port, path, token, timeout=5)
            if status == 200:
                return
            if status in (400, 401, 403, 500):
                raise RuntimeError(f"gunicorn answers {status}: {body[:300]!r}")
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
