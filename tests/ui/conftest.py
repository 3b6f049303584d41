"""Fixtures for the UI tests: a seeded live server per module, and headless Chromium.

* ``ui_server``: ``(base_url, Seeded)``, a uvicorn server over a SQLite database seeded through
  the store (``._seed``), one per test module;
* ``browser``: Debian's ``/usr/bin/chromium`` driven by Playwright, one per module; missing, the
  test is skipped with the command that installs it, or fails when ``CI`` is set;
* ``page``: a fresh page per test that records console errors, dialogs and every request, and
  fails the test if a page logged an error, opened a dialog or asked anything of another host;
* ``shoot(page, name)``: saves a full-page screenshot under ``$WAYLINE_TEST_ARTIFACTS`` (default:
  a ``ui-screenshots`` folder in pytest's temporary directory).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, sync_playwright

from servers import live_server
from wayline.server import ServerSettings, create_app

from ._seed import Seeded, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    folder = tmp_path_factory.mktemp("ui")
    uri = f"sqlite:///{folder / 'ui.db'}"
    artifacts = str(folder / "artifacts")
    seeded = seed(uri, artifacts)
    settings = ServerSettings(backend_store_uri=uri, default_artifact_root=artifacts)
    with live_server(create_app(settings)) as url:
        yield url, seeded


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's browser with `apt-get install chromium`"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """What a page did that a test checks afterwards."""

    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "about:"))
            and urlsplit(url).hostname not in _LOCAL_HOSTS
        ]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page_log.console_errors.append(message.text)

    def on_dialog(dialog: Dialog) -> None:
        page_log.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        page_log.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_log.console_errors.append(str(error)))
    page.on("dialog", on_dialog)
    page.on("request", on_request)
    try:
        yield page
    finally:
        context.close()
    # Pages that answer 4xx on purpose (a bad filter) log the status as a console error.
    errors = [e for e in page_log.console_errors if not re.search(r"status of 4\d\d", e)]
    assert errors == [], f"console errors: {errors}"
    assert page_log.dialogs == [], f"dialogs opened: {page_log.dialogs}"
    assert page_log.foreign_requests() == [], "requests left localhost"


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("WAYLINE_TEST_ARTIFACTS")
    folder = (
        Path(configured) / "ui-screenshots"
        if configured
        else tmp_path_factory.mktemp("ui-screenshots")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shoot(artifacts_dir: Path) -> Callable[[Page, str], Path]:
    def save(page: Page, name: str) -> Path:
        path = artifacts_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
