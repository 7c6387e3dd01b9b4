"""The lone-worker check-in on the guard's tablet: with the site's rule on and a check-in due,
the tablet asks "I'm OK"; tapped offline, the check-in waits in the outbox and reaches the
server once when the network returns, with the shift and the time only; then the tablet says
when the next one is due, and the check finds nothing missed."""

import io
import uuid
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from facility_log.models import Alarm, CheckIn
from facility_log.services import lone_worker
from facility_log.services import shifts as shift_services
from tests.browser.test_tablet import _all_sent, _open_tablet, _sign_in
from tests.onsite.test_lone_worker import clock_at


def test_an_offline_check_in_reaches_the_server_once_and_nothing_is_missed(
    tablet, live_server, browser_personas
):
    p = browser_personas
    earlier = timezone.now() - timedelta(minutes=10)
    with clock_at(earlier):  # the rule and the shift since 10 minutes: a check-in is due
        lone_worker.set_lone_worker_policy(
            p.site_a,
            p.manager_ab,
            enabled=True,
            interval_minutes=5,
            grace_minutes=2,
            reason="night guard alone",
        )
    shift, _ = shift_services.start_shift(
        p.site_a, p.guard_a, client_uuid=uuid.uuid4(), started_at=earlier
    )
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    box = tablet.locator("#checkin")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Check-in due since")
    ok = tablet.get_by_role("button", name="I’m OK")
    expect(ok).to_be_visible()
    size = ok.bounding_box()
    assert size["height"] >= 44 and size["width"] >= 44  # a touch target

    tablet.context.set_offline(True)
    ok.click()
    expect(box).to_contain_text("Working alone: next check-in due at")
    expect(ok).to_be_hidden()
    assert not CheckIn.objects.exists()

    tablet.context.set_offline(False)
    tablet.evaluate("async () => { await FacilityLogOutbox.sync(); }")
    _all_sent(tablet)
    check_in = CheckIn.objects.get()
    assert check_in.shift == shift
    # Sent again (a restored outbox): still one.
    tablet.evaluate("async () => { await FacilityLogOutbox.sync({retryRefused: true}); }")
    assert CheckIn.objects.count() == 1
    call_command("check_lone_workers", stdout=io.StringIO())
    assert not Alarm.objects.exists()
