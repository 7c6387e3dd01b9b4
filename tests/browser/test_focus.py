"""Keyboard and screen-reader details axe cannot see: where focus goes after ending a shift,
that the sticky Save bar never hides the field the keyboard is on (WCAG 2.4.11), and that a
form's error list stays a list inside its alert."""

from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations
from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

# The focused element and the sticky bar, as rectangles, for each Tab press.
FOCUS_AND_BAR = """() => {
    const el = document.activeElement, bar = document.querySelector('.sticky-actions');
    if (!el || !bar || bar.contains(el) || el === document.body) return null;
    const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
    return {name: el.name || el.id || el.tagName, top: r.top, bottom: r.bottom,
            barTop: b.top, barBottom: b.bottom, hidden: r.height === 0};
}"""


def _sign_in(page, username: str) -> None:
    ready_for_second_step(username)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)


def test_after_ending_a_shift_focus_is_on_the_start_screens_heading(tablet, browser_personas):
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    tablet.goto("/tablet/")
    tablet.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    tablet.get_by_role("button", name="Start shift").click()
    expect(tablet.get_by_text("On shift at")).to_be_visible()
    tablet.get_by_role("button", name="End shift", exact=True).click()
    tablet.get_by_role("region", name="End shift").get_by_role("button", name="End shift").click()
    expect(tablet.get_by_text("Shift ended and saved on this tablet.")).to_be_visible()
    heading = tablet.get_by_role("heading", name="Start your shift")
    expect(heading).to_be_focused()


def test_the_sticky_save_bar_never_hides_the_focused_field_on_a_tablet(tablet, browser_personas):
    _sign_in(tablet, "guard_a")
    tablet.goto("/incidents/new/")
    tablet.locator("form.incident-form :is(input, select, textarea)").first.focus()
    covered, seen = [], 0
    for _ in range(80):
        box = tablet.evaluate(FOCUS_AND_BAR)
        if box and not box["hidden"]:
            seen += 1
            if box["bottom"] > box["barTop"] and box["top"] < box["barBottom"]:
                covered.append(box["name"])
        tablet.keyboard.press("Tab")
    assert seen > 10
    assert covered == []


def test_form_errors_are_a_list_inside_an_alert(tablet, browser_personas):
    _sign_in(tablet, "manager_ab")
    tablet.goto(f"/sites/{browser_personas.site_a.code}/zones/add/")
    tablet.locator("main form").get_by_role("button").last.click()
    alert = tablet.get_by_role("alert").first
    expect(alert.get_by_role("list")).to_be_visible()
    expect(alert.get_by_role("listitem").first).to_be_visible()
    assert tablet.locator("ul[role]").count() == 0
    for theme in ("light", "dark"):
        assert axe_violations(tablet, theme) == []
