"""Browser tests: Playwright driving Debian's Chromium (headless) against pytest-django's live
server. `make test` installs Chromium with apt when it can; without it these tests are skipped
(CI fails if they were). Screenshots of each main page go to `artifacts/screenshots/`."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in this thread; the ORM calls of the test setup are
# ordinary blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    engine = Axe()

    def serious_violations(page) -> list[dict]:
        result = engine.run(page)
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return serious_violations


@pytest.fixture
def login_as(browser, live_server):
    """`login_as(user)`: a `Person` at their own browser context, logged in through the login
    form. Contexts are closed at the end of the test."""
    from tests.browser.helpers import Person

    people = []

    def _login(user, **kwargs):
        person = Person(browser, live_server.url, user, **kwargs)
        people.append(person)
        return person.login()

    yield _login
    for person in people:
        person.close()


@pytest.fixture
def page_checks(screenshots, axe):
    """Screenshot and axe check of each main page, asserted together at the end of the test."""
    from tests.browser.helpers import PageChecks

    return PageChecks(screenshots, axe)
