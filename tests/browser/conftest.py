"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser).

Skipped with a clear message when Chromium is missing, except under CI=true, where a missing
browser is a failure: CI installs it with apt-get.
"""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls are
# still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TABLET = {"width": 768, "height": 1024}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = (
            f"no Chromium at {CHROMIUM}: install Debian's browser with "
            "`apt-get install -y chromium` (or set CHROMIUM_PATH) to run the browser tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_personas(transactional_db):
    from tests.personas import build_personas

    return build_personas()


@pytest.fixture
def tablet(browser, live_server, browser_personas):
    """A fresh page on a 768×1024 tablet viewport, pointed at the live server. Every request
    it makes is recorded so tests can prove nothing leaves the server."""
    context = browser.new_context(viewport=TABLET, base_url=live_server.url, has_touch=True)
    page = context.new_page()
    page.requested_urls = []
    page.on("request", lambda request: page.requested_urls.append(request.url))
    yield page
    context.close()


def open_tab(page, name: str) -> None:
    """Open one of the tablet's shift screens (Log, Round, Incident, End shift) and wait until
    it is open. A tap that lands while the shift's header is still growing (the handover
    notes, the "saved" message) can miss the button, as a guard's finger would; the test then
    taps again, as the guard would, rather than waiting 30 s on a screen that never opened."""
    from playwright.sync_api import expect

    button = page.get_by_role("navigation", name="Shift screens").get_by_role(
        "button", name=name, exact=True
    )
    for _attempt in range(3):
        button.click()
        try:
            expect(button).to_have_attribute("aria-pressed", "true", timeout=5_000)
            return
        except AssertionError:
            continue
    expect(button).to_have_attribute("aria-pressed", "true")
