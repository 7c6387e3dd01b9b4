"""The dashboard on a 768×1024 tablet, in both themes: charts drawn inline (nothing fetched),
values written on them, readable text colours, a chart bar opening its list."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.dashboard_helpers import seed_year
from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

YEAR = "?date_from=2025-12-01&date_to=2026-11-30"


def _sign_in(page, username: str) -> None:
    # Managers sign in with their authenticator's code too (the second step).
    ready_for_second_step(username)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)


def _contrast(page, selector: str) -> float:
    """The contrast ratio of the first `selector`'s SVG text fill against the page."""
    return page.evaluate(
        """(selector) => {
            const lum = (c) => {
                const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map((v) => {
                    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const text = getComputedStyle(document.querySelector(selector)).fill;
            const back = getComputedStyle(document.querySelector('.chart-box')).backgroundColor;
            const [a, b] = [lum(text), lum(back)].sort((x, y) => y - x);
            return (a + 0.05) / (b + 0.05);
        }""",
        selector,
    )


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_manager_reads_the_dashboard_in_both_themes(
    theme, tablet, live_server, browser_personas, monkeypatch
):
    seed_year(browser_personas, monkeypatch)
    monkeypatch.undo()  # the server's clock is the real one again
    tablet.add_init_script(f"localStorage.setItem('facility_log.theme', '{theme}')")
    _sign_in(tablet, "manager_ab")
    tablet.goto(f"/sites/ALPHA/dashboard/{YEAR}")
    expect(tablet.get_by_role("heading", name="Dashboard: Alpha Plant ALPHA")).to_be_visible()
    assert tablet.evaluate("document.documentElement.dataset.theme") == theme
    assert tablet.locator("svg.chart").count() == 6
    # Values are written on the charts, in a colour that reads on the theme's panel.
    # (November: 8 walked of the windows due by today's real clock)
    expect(tablet.locator("svg.chart text", has_text=re.compile(r"^8/\d+$"))).to_have_count(1)
    assert _contrast(tablet, "svg.chart .chart-text") >= 4.5
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    if os.environ.get("DASHBOARD_SCREENSHOTS"):
        tablet.screenshot(path=f"/tmp/dashboard-{theme}.png", full_page=True)
    assert all(url.startswith(live_server.url) for url in tablet.requested_urls)
    # A bar opens the list it counts.
    tablet.locator("svg.chart a", has=tablet.locator("title", has_text="Trespass: 2")).click()
    expect(tablet.get_by_role("heading", name="Incidents")).to_be_visible()
    assert "category=" in tablet.url
