"""The tablet shows the site's changed post orders before a shift starts, with no network,
holds the start back until "I have read these" is ticked, and the acknowledgement reaches
the server with the start through the outbox."""

import pytest
from playwright.sync_api import expect

from facility_log.models import PostOrderAck, Shift
from tests.browser.test_tablet import _all_sent, _open_tablet, _sign_in
from tests.post_orders_helpers import write

pytestmark = pytest.mark.browser


def test_offline_start_needs_the_tick_and_the_ack_rides_with_it(tablet, browser_personas):
    p = browser_personas
    write(p, title="Gate procedure", body="Close the gate at **22:00**.\n\n- Dock 2 only")
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.context.set_offline(True)
    tablet.reload()
    tablet.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")

    pending = tablet.locator("#post-orders-pending")
    expect(pending).to_be_visible()
    expect(pending.locator("strong")).to_have_text("22:00")
    expect(pending.get_by_text("Dock 2 only")).to_be_visible()
    tablet.get_by_role("button", name="Start shift").click()
    expect(tablet.locator("#post-orders-refused")).to_be_visible()
    expect(tablet.get_by_text("On shift at")).to_be_hidden()

    tablet.get_by_label("I have read these post orders").check()
    tablet.get_by_role("button", name="Start shift").click()
    expect(tablet.get_by_text("On shift at")).to_be_visible()
    assert not Shift.objects.exists()

    tablet.context.set_offline(False)
    tablet.locator("#sync-now").click()
    _all_sent(tablet)
    shift = Shift.objects.get()
    ack = PostOrderAck.objects.get()
    assert (ack.shift, ack.guard, ack.version.title) == (shift, p.guard_a, "Gate procedure")
