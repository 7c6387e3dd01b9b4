"""The live rounds page stays current without reloading under the reader (it used a
`<meta http-equiv="refresh">`): it fetches itself every minute, swaps the tables in place,
keeps focus, and says politely when something changed."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_focus import _sign_in
from tests.rounds_helpers import night_route, walk


def test_live_rounds_update_in_place_and_keep_focus(tablet, browser_personas):
    p = browser_personas
    route, checkpoints = night_route(p)
    tablet.clock.install()
    _sign_in(tablet, "supervisor_a")
    tablet.goto(f"/sites/{p.site_a.code}/rounds/live/")
    assert tablet.locator("meta[http-equiv]").count() == 0
    expect(tablet.get_by_text("No round in progress.")).to_be_visible()
    tablet.evaluate("window.notReloaded = true")
    refresh = tablet.get_by_role("link", name="Refresh now")
    refresh.focus()

    started = timezone.now() - timedelta(minutes=5)
    walk(p, route, checkpoints, started, (0, None, None), finish=False)
    tablet.clock.run_for("01:01")

    expect(tablet.get_by_role("link", name="Night round")).to_be_visible()
    expect(tablet.get_by_role("status")).to_have_text("Rounds updated.")
    assert tablet.evaluate("window.notReloaded") is True
    expect(refresh).to_be_focused()
