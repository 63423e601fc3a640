"""Helpers of the browser tests.

- `Person`: one user with their own browser context (their own session cookie), who logs in
  through the login form like anybody else, then follows links and submits forms.
- `PageChecks`: the screenshot and the automated accessibility check (axe-core) of each main
  page; the violations are collected page by page and asserted together at the end, so that one
  report names every page at fault.
"""

from __future__ import annotations

import pprint
import re
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.factories.accounts import PASSWORD

TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1366, "height": 900}
expect.set_options(timeout=TIMEOUT_MS)


def new_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    page.base_url = base_url
    return page


class Person:
    """A user at their own browser: `login()` goes through `/connexion/`."""

    def __init__(self, browser: Browser, base_url: str, user, *, password: str = PASSWORD):
        self.user = user
        self.password = password
        self.page = new_page(browser, base_url)
        self.base_url = base_url

    def close(self) -> None:
        self.page.context.close()

    # --- navigation -------------------------------------------------------------------------
    def goto(self, path: str) -> Page:
        response = self.page.goto(self.base_url + path)
        assert response is not None, path
        assert response.ok, f"{path}: HTTP {response.status}"
        return self.page

    def login(self) -> Person:
        page = self.goto("/connexion/")
        page.get_by_label("Identifiant", exact=True).fill(self.user.username)
        page.get_by_label("Mot de passe", exact=True).fill(self.password)
        self.submit("#btn-login")
        expect(page.locator("#btn-logout")).to_be_visible()
        assert page.url.rstrip("/") == self.base_url, page.url
        return self

    def follow(self, name: str | re.Pattern, *, within: str = "main") -> Page:
        """Click the link called `name` (in the main content unless told) and wait for the page."""
        link = self.page.locator(within).get_by_role("link", name=name).first
        with self.page.expect_navigation():
            link.click()
        return self.page

    def nav(self, name: str) -> Page:
        """Click an entry of the header's main menu."""
        return self.follow(name, within="#navigation")

    def submit(self, button: str | Locator) -> Page:
        """Click a submit button (a selector or a locator) and wait for the next page (the
        POST's redirect)."""
        if isinstance(button, str):
            button = self.page.locator(button)
        with self.page.expect_navigation():
            button.click()
        return self.page

    def field(self, label: str):
        """The form field whose label starts with `label` (DSFR puts the hint text inside the
        label, so it is part of the accessible name)."""
        return self.page.get_by_label(re.compile(rf"^\s*{re.escape(label)}(\s|$)"))

    def check(self, input_id: str) -> None:
        """Tick a DSFR radio button or checkbox: the DSFR draws it over the input, so click the
        label, as a user does."""
        label = self.page.locator(f'label[for="{input_id}"]')
        label.click()
        expect(self.page.locator(f"#{_css_id(input_id)}")).to_be_checked()

    def upload(self, input_selector: str, name: str, content: bytes, mime: str) -> None:
        self.page.locator(input_selector).set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": content}]
        )

    # --- what the user sees -----------------------------------------------------------------
    def expect_message(self, text: str | re.Pattern) -> None:
        expect(self.page.locator("#messages")).to_contain_text(text)

    def expect_badge(self, scope: str, label: str) -> None:
        """The state badge (in `scope`) reads `label` (the French state label)."""
        expect(self.page.locator(scope).locator(".fr-badge[data-state]").first).to_have_text(label)

    def expect_text(self, text: str | re.Pattern, scope: str = "main") -> None:
        expect(self.page.locator(scope)).to_contain_text(text)


def _css_id(value: str) -> str:
    return re.sub(r"([^A-Za-z0-9_-])", r"\\\1", value)


class PageChecks:
    """Screenshot (full page, `artifacts/screenshots/<name>.png`) and axe-core check of each
    main page, collected for one assertion at the end."""

    def __init__(self, screenshots, axe):
        self._shoot = screenshots
        self._axe = axe
        self.violations: dict[str, list[dict]] = {}
        self.files: list[Path] = []

    def capture(self, page: Page, name: str) -> None:
        page.wait_for_load_state("load")
        page.evaluate("document.activeElement && document.activeElement.blur()")
        self.files.append(self._shoot(page, name))
        self.violations[name] = self._axe(page)

    def assert_accessible(self) -> None:
        failing = {name: found for name, found in self.violations.items() if found}
        assert not failing, "serious or critical axe violations:\n" + pprint.pformat(
            failing, width=120
        )
