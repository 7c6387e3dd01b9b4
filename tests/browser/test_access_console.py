"""A supervisor acknowledges a forced door on the tablet console in two taps."""

import re

from playwright.sync_api import expect

from facility_log.models import Alarm
from tests.access.helpers import forced_open_at
from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

SMALL_TARGETS = """() => [...document.querySelectorAll('main a, main button, main input')]
    .filter(el => el.offsetParent !== null)
    .map(el => ({el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect()}))
    .filter(x => x.r.height < 44 || x.r.width < 44)
    .map(x => x.el)"""


def _sign_in(page, username: str) -> None:
    ready_for_second_step(username)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)


def test_supervisor_acknowledges_an_alarm_in_two_taps(tablet, live_server, browser_personas):
    p = browser_personas
    alarm = forced_open_at(p.site_a, p.zone_a).alarm
    _sign_in(tablet, "supervisor_a")
    tablet.goto("/access/alarms/")
    item = tablet.locator(f"li[data-id='{alarm.pk}']")
    expect(item).to_contain_text("Forced open")
    tablet.get_by_role("button", name="Acknowledge").click()  # tap 1
    assert tablet.evaluate(SMALL_TARGETS) == []
    tablet.get_by_role("button", name="Guard sent to the door").click()  # tap 2
    expect(tablet.get_by_role("status").first).to_contain_text(re.compile("acknowledged"))
    expect(item).to_contain_text("Note: Guard sent to the door")
    alarm.refresh_from_db()
    assert (alarm.state, alarm.acknowledged_by) == ("acknowledged", p.supervisor_a)
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    assert all(url.startswith(live_server.url) for url in tablet.requested_urls)


def test_event_browser_fits_the_tablet_and_labels_every_filter(tablet, browser_personas):
    p = browser_personas
    forced_open_at(p.site_a, p.zone_a)
    _sign_in(tablet, "manager_ab")
    tablet.goto("/access/events/")
    unlabelled = tablet.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select')]
            .filter(el => !(el.labels && el.labels.length)).map(el => el.name)"""
    )
    assert unlabelled == []
    tablet.get_by_label("Type").select_option("forced_open")
    tablet.get_by_role("button", name="Filter").click()
    expect(tablet.get_by_role("cell", name="D-1")).to_be_visible()
    assert tablet.evaluate(SMALL_TARGETS) == []
    assert Alarm.objects.count() == 1
