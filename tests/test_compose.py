"""docker-compose.yml and the Dockerfile are never run in CI (no Docker engine): check their shape.

The compose-spec schema check is `check-jsonschema --builtin-schema vendor.compose-spec` in .ci/run;
these tests check what the schema cannot: the services, commands, health and start order we rely on.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_the_five_services_are_defined(services):
    assert set(services) >= {"web", "worker", "beat", "db", "redis"}


def test_app_services_share_one_definition(compose, services):
    """web, worker and beat come from the `x-app` extension field: same image, env, volumes."""
    base = compose["x-app"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == base["build"] == "."
        assert service["image"] == base["image"]
        assert service["environment"] == base["environment"]
        assert service["volumes"] == base["volumes"]


def test_app_environment(compose):
    env = compose["x-app"]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")  # no default secret
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")


def test_web_migrates_then_serves_with_gunicorn(services):
    command = _command(services["web"])
    assert "manage.py migrate --noinput" in command
    assert "gunicorn config.wsgi" in command
    assert command.index("migrate") < command.index("gunicorn")
    assert "0.0.0.0:8000" in command
    assert "--no-control-socket" in command


def test_worker_and_beat_commands(services):
    assert _command(services["worker"]).startswith("celery -A config worker")
    assert _command(services["beat"]).startswith("celery -A config beat")


@pytest.mark.parametrize("name", ["db", "redis", "web"])
def test_healthchecks(services, name):
    test = services[name]["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")


def test_healthcheck_commands(services):
    assert "pg_isready" in _command({"command": services["db"]["healthcheck"]["test"]})
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "/healthz/" in " ".join(services["web"]["healthcheck"]["test"])


def test_images(services):
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_start_order_waits_for_health(services):
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["db"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
    # worker and beat start once web has migrated the database and answers /healthz/.
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_named_volumes(compose, services):
    declared = set(compose["volumes"])
    mounted = {
        volume.split(":", 1)[0]
        for service in services.values()
        for volume in service.get("volumes", [])
    }
    assert mounted <= declared
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["db"]["volumes"])
    for name in APP_SERVICES:
        assert any(v.endswith(":/data/private") for v in services[name]["volumes"])


def _dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_dockerfile():
    instructions = _dockerfile_instructions()
    text = "\n".join(instructions)
    assert instructions[0] == "FROM python:3.11-slim"
    assert "COPY pyproject.toml uv.lock ./" in instructions
    assert "uv sync --frozen --no-dev" in text
    assert "collectstatic --noinput" in text
    assert "USER sons" in instructions  # never run as root
    baked = [i for i in instructions if i.split()[0] in ("ENV", "ARG")]
    assert not any("DJANGO_SECRET_KEY" in i for i in baked)  # no secret in the image


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "db.sqlite3"} <= ignored
