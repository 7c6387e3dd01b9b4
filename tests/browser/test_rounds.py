"""A guard walks a round on a tablet, typing each checkpoint's code by hand."""

from playwright.sync_api import expect

from tests.personas import PASSWORD
from tests.rounds_helpers import night_route
from tests.two_factor_helpers import pass_second_step, ready_for_second_step


def _sign_in(page, username: str) -> None:
    ready_for_second_step(username)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)


def test_guard_starts_a_round_and_scans_checkpoints_by_code(tablet, live_server, browser_personas):
    route, checkpoints = night_route(browser_personas)
    _sign_in(tablet, "guard_a")
    tablet.get_by_role("link", name="Rounds").click()
    tablet.get_by_role("button", name="Start Night round").click()

    for done, checkpoint in enumerate(checkpoints):
        expect(tablet.get_by_role("heading", name=f"Next: {checkpoint.name}")).to_be_visible()
        expect(tablet.get_by_text(f"Check {checkpoint.name}")).to_be_visible()
        expect(tablet.get_by_role("status")).to_have_text(f"{done} of 3 checkpoints scanned")
        tablet.get_by_label("Checkpoint code").fill(checkpoint.tag_display.lower())
        tablet.get_by_role("button", name="Scan", exact=True).click()
        expect(tablet.get_by_text(f"Scanned {checkpoint.name}.")).to_be_visible()

    expect(tablet.get_by_role("status")).to_have_text("3 of 3 checkpoints scanned")
    small = tablet.evaluate(
        """() => [...document.querySelectorAll('main a, main button, main input, main textarea')]
            .filter(el => el.offsetParent !== null && el.type !== 'hidden')
            .map(el => ({el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect()}))
            .filter(x => x.r.height < 44 || x.r.width < 44).map(x => x.el)"""
    )
    assert small == []
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    tablet.get_by_role("button", name="Finish round").click()
    expect(tablet.get_by_text("Round Night round finished.")).to_be_visible()
    assert route.runs.get().finished_at is not None
    assert all(url.startswith(live_server.url) for url in tablet.requested_urls)


def test_a_mistyped_code_is_said_plainly_on_the_field(tablet, browser_personas):
    night_route(browser_personas)
    _sign_in(tablet, "guard_a")
    tablet.goto(f"/sites/{browser_personas.site_a.code}/rounds/")
    tablet.get_by_role("button", name="Start Night round").click()
    tablet.get_by_label("Checkpoint code").fill("WRONG-CODE")
    tablet.get_by_role("button", name="Scan", exact=True).click()
    expect(tablet.get_by_role("alert")).to_contain_text("No checkpoint at ALPHA has this tag code.")
