"""Browser tests: Playwright (Python) driving Debian's Chromium against a live server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (setting up data, checking results) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI_REQUIRE_SERVICES"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must install the chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server, settings, transactional_db):
    from tests.conftest import ensure_catalogue

    ensure_catalogue()
    # The gateway returns the payer to absolute URLs on the shop's public address.
    settings.PAYMENT_BASE_URL = live_server.url
    settings.SITE_URL = live_server.url
    context = chromium.new_context(viewport=VIEWPORTS["desktop"], locale="it-IT")
    page = context.new_page()
    page.set_default_timeout(30000)
    # A Content-Security-Policy violation (an inline style or script the policy blocks) is
    # reported on the console: it fails the test.
    # A violation with no source URL comes from the test's own injected code (axe-core styles
    # the elements it measures), not from the page.
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if (
                "Content Security Policy" in message.text
                or "Content-Security-Policy" in message.text
            )
            and (message.location or {}).get("url")
            else None
        ),
    )
    yield page
    context.close()
    if violations:
        pytest.fail("CSP violations in the browser console:\n" + "\n".join(violations))


@pytest.fixture
def shoot(page):
    """Screenshot the page at desktop and phone width into screenshots/<flow>/."""

    def take(flow: str, step: str):
        folder = SCREENSHOTS / flow
        folder.mkdir(parents=True, exist_ok=True)
        for name, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            page.screenshot(path=str(folder / f"{step}-{name}.png"), full_page=True)
        page.set_viewport_size(VIEWPORTS["desktop"])

    return take


@pytest.fixture
def checker(page):
    """A PageChecker factory for the test's page, with axe-core loaded in every document."""
    from tests.e2e.checks import PageChecker, axe_source

    page.add_init_script(script=axe_source())
    return lambda flow: PageChecker(page, flow)
