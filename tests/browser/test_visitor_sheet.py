"""The visitor day sheet on a guard's tablet: sign a visitor in, see them on the evacuation
list, sign them out after confirming; touch-sized controls and no sideways scrolling."""

from playwright.sync_api import expect

from facility_log.models import Visitor
from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

SMALL_CONTROLS = """() => [...document.querySelectorAll('main a, main button, main input')]
    .filter(el => el.offsetParent !== null && el.type !== 'hidden')
    .map(el => ({el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect()}))
    .filter(x => x.r.height < 44).map(x => x.el)"""


def test_a_guard_signs_a_visitor_in_and_out_on_the_tablet(tablet, live_server, browser_personas):
    ready_for_second_step("guard_a")
    tablet.set_default_timeout(10_000)
    tablet.goto("/login/")
    tablet.get_by_label("Username").fill("guard_a")
    tablet.get_by_label("Password").fill(PASSWORD)
    tablet.get_by_role("button", name="Sign in").click()
    pass_second_step(tablet, "guard_a")
    tablet.goto("/sites/ALPHA/")
    tablet.get_by_role("link", name="Visitor sheet").click()
    tablet.get_by_label("Visitor's name").fill("Vera Visitor")
    tablet.get_by_label("Company").fill("Acme")
    tablet.get_by_label("Host (whom they visit)").fill("Hal")
    tablet.get_by_label("Badge number").fill("B-7")
    tablet.get_by_role("button", name="Sign in").click()
    expect(tablet.get_by_text("Visitor signed in.")).to_be_visible()
    assert tablet.evaluate(SMALL_CONTROLS) == []
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768

    tablet.get_by_role("link", name="Who is on site now").click()
    expect(tablet.locator("#on-site tbody tr")).to_have_count(1)
    expect(tablet.locator("#on-site")).to_contain_text("Vera Visitor")
    # Signing out asks first: dismissed, nothing changes; accepted, the visitor is out.
    tablet.once("dialog", lambda dialog: dialog.dismiss())
    tablet.get_by_role("button", name="Sign out").last.click()
    assert Visitor.objects.get().signed_out_at is None
    tablet.once("dialog", lambda dialog: dialog.accept())
    tablet.locator("#on-site").get_by_role("button", name="Sign out").click()
    expect(tablet.get_by_text("Nobody is signed in.")).to_be_visible()
    assert Visitor.objects.get().signed_out_by == browser_personas.guard_a
    assert all(url.startswith(live_server.url) for url in tablet.requested_urls)
