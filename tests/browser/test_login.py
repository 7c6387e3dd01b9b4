"""A guard signs in on a tablet: fields found by their labels, big targets, nothing external."""

import re

from playwright.sync_api import expect

from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step


def _sign_in(page, username: str, password: str) -> None:
    ready_for_second_step(username)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if password == PASSWORD:
        pass_second_step(page, username)


def test_guard_signs_in_on_a_tablet_and_sees_their_site(tablet, live_server, browser_personas):
    _sign_in(tablet, "guard_a", PASSWORD)
    expect(tablet.get_by_role("heading", name="Hello, Gina")).to_be_visible()
    expect(tablet.get_by_role("heading", name=re.compile("Alpha Plant"))).to_be_visible()
    expect(tablet.get_by_text("Charlie Lab")).to_have_count(0)
    assert all(url.startswith(live_server.url) for url in tablet.requested_urls), [
        url for url in tablet.requested_urls if not url.startswith(live_server.url)
    ]


def test_wrong_password_is_said_plainly(tablet, browser_personas):
    _sign_in(tablet, "guard_a", "not-the-password")
    expect(tablet.get_by_role("alert")).to_contain_text("correct username and password")
    expect(tablet.get_by_label("Username")).to_have_value("guard_a")


def test_touch_targets_are_at_least_44px_and_nothing_scrolls_sideways(tablet, browser_personas):
    _sign_in(tablet, "manager_ab", PASSWORD)
    tablet.goto(f"/sites/{browser_personas.site_a.code}/edit/")
    small = tablet.evaluate(
        """() => [...document.querySelectorAll('a, button, input, select, textarea')]
            .filter(el => el.offsetParent !== null && !el.classList.contains('skip'))
            .map(el => ({el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect()}))
            .filter(x => x.r.height < 44 || x.r.width < 44)
            .map(x => x.el)"""
    )
    assert small == []
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768


def test_every_input_has_a_label(tablet, browser_personas):
    _sign_in(tablet, "manager_ab", PASSWORD)
    tablet.goto(f"/sites/{browser_personas.site_a.code}/zones/add/")
    unlabelled = tablet.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name)"""
    )
    assert unlabelled == []
    tablet.get_by_label("Name").fill("Stairwell 3")
    tablet.get_by_label("Reason for this change").fill("new patrol point")
    tablet.get_by_role("button", name="Save").click()
    expect(tablet.get_by_text("Zone Stairwell 3 added to ALPHA.")).to_be_visible()


def test_dark_theme_by_default_at_night_and_toggle(tablet, browser_personas):
    tablet.clock.set_fixed_time("2026-11-26T23:30:00")
    _sign_in(tablet, "guard_a", PASSWORD)
    assert tablet.evaluate("document.documentElement.dataset.theme") == "dark"
    tablet.get_by_role("button", name="Switch to light theme").click()
    assert tablet.evaluate("document.documentElement.dataset.theme") == "light"
    tablet.reload()
    assert tablet.evaluate("document.documentElement.dataset.theme") == "light"
