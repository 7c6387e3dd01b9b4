"""A found item recorded on the guard tablet with no network: queued in the outbox and listed
as waiting; once the network is back it reaches the server, and the same record sent again
(put back into the outbox, as a restored backup would) leaves exactly one FoundItem."""

import uuid

from playwright.sync_api import expect

from facility_log.models import FoundItem
from facility_log.services import shifts as shift_services
from tests.browser.test_tablet import _all_sent, _open_tablet, _sign_in

CAPTURE = """async () => (await FacilityLogOutbox.entries())
    .filter(e => e.kind === 'found-item')
    .map(e => ({uuid: e.uuid, kind: e.kind, kindLabel: e.kindLabel, label: e.label,
                url: e.url, body: e.body}))"""


def test_an_offline_found_item_reaches_the_server_once(tablet, live_server, browser_personas):
    p = browser_personas
    shift_services.start_shift(p.site_a, p.guard_a, client_uuid=uuid.uuid4())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    expect(tablet.get_by_text("On shift at")).to_be_visible()

    tablet.context.set_offline(True)
    tablet.get_by_role("button", name="Found item", exact=True).click()
    tablet.get_by_label("What was found").fill("Black umbrella")
    tablet.get_by_label("Found by").fill("Cleaner at the lobby")
    tablet.get_by_label("Kept at").fill("Gate house, shelf 2")
    tablet.get_by_role("button", name="Record found item").click()
    row = tablet.locator("#found-list li.found-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Black umbrella, kept at Gate house, shelf 2")
    expect(row).to_contain_text("waiting to send")
    queued = tablet.evaluate(CAPTURE)
    assert len(queued) == 1 and not FoundItem.objects.exists()

    tablet.context.set_offline(False)
    tablet.evaluate("async () => { await FacilityLogOutbox.sync(); }")
    _all_sent(tablet)
    item = FoundItem.objects.get()
    assert (item.description, item.found_by, item.storage_location) == (
        "Black umbrella",
        "Cleaner at the lobby",
        "Gate house, shelf 2",
    )
    assert item.site == p.site_a and item.recorded_by == p.guard_a
    assert str(item.client_uuid) == queued[0]["uuid"]
    expect(row).to_contain_text("sent")

    # A forced replay: the same record put back into the outbox and sent again.
    tablet.evaluate(
        "async (entries) => { await FacilityLogOutbox.add(entries, []);"
        " await FacilityLogOutbox.sync({retryRefused: true}); }",
        queued,
    )
    _all_sent(tablet)
    assert FoundItem.objects.count() == 1
    expect(row).to_have_count(1)
