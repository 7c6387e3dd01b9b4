"""Offline at the gate and at an incident: the guard signs a visitor in and out on the
tablet's Visitors screen and ticks a procedure step of the incident being reported, all with
no network; once it is back, the server holds exactly one visitor (signed in and out), one
incident and one tick, and sending the outbox again adds nothing."""

import uuid

from playwright.sync_api import expect

from facility_log.models import Incident, ProcedureTick, Visitor
from facility_log.services import shifts as shift_services
from tests.browser.conftest import open_tab
from tests.browser.test_tablet import _all_sent, _open_tablet, _sign_in
from tests.onsite.procedure_helpers import TRESPASS_STEPS, incident_procedure


def test_offline_visitor_in_and_out_and_a_tick_reach_the_server_once(
    tablet, live_server, browser_personas
):
    p = browser_personas
    procedure = incident_procedure(p)
    shift_services.start_shift(p.site_a, p.guard_a, client_uuid=uuid.uuid4())
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    expect(tablet.get_by_text("On shift at")).to_be_visible()

    tablet.context.set_offline(True)
    tablet.get_by_role("button", name="Visitors", exact=True).click()
    tablet.get_by_label("Visitor's name").fill("Vera Visitor")
    tablet.get_by_label("Visiting (host)").fill("Hal Host")
    tablet.get_by_label("Company").fill("Acme")
    tablet.get_by_role("button", name="Sign in", exact=True).click()
    row = tablet.locator("#visitor-list li.visitor-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Vera Visitor · from Acme · visiting Hal Host")
    expect(row).to_contain_text("waiting to send")
    tablet.get_by_role("button", name="Sign out Vera Visitor").click()
    expect(row).to_contain_text(" · out ")
    expect(tablet.get_by_role("button", name="Sign out Vera Visitor")).to_have_count(0)

    open_tab(tablet, "Incident")
    tablet.get_by_label("Category").select_option(label=procedure.category.name)
    steps = tablet.locator("#tablet-procedure-steps input.procedure-tick")
    expect(steps).to_have_count(len(TRESPASS_STEPS))
    tablet.get_by_label(TRESPASS_STEPS[1]).check()
    tablet.get_by_label("What happened (incident)").fill("Person at the fence at night.")
    tablet.get_by_role("button", name="Save incident draft").click()
    expect(tablet.locator("#saved-message")).to_contain_text("Steps ticked: 1.")
    assert not Visitor.objects.exists() and not ProcedureTick.objects.exists()

    tablet.context.set_offline(False)
    tablet.evaluate("async () => { await FacilityLogOutbox.sync(); }")
    _all_sent(tablet)
    visitor = Visitor.objects.get()
    assert (visitor.name, visitor.host, visitor.company) == ("Vera Visitor", "Hal Host", "Acme")
    assert visitor.signed_in_by == visitor.signed_out_by == p.guard_a
    assert visitor.signed_out_at is not None and visitor.client_uuid is not None
    incident = Incident.objects.get()
    tick = ProcedureTick.objects.get()
    assert (tick.incident, tick.step_number, tick.ticked_by) == (incident, 2, p.guard_a)

    # The outbox sent again (a restored backup): still one of each.
    tablet.evaluate("async () => { await FacilityLogOutbox.sync({retryRefused: true}); }")
    assert Visitor.objects.count() == ProcedureTick.objects.count() == 1
    # Back on the Visitors screen the server's sheet and the tablet's own are one row.
    tablet.get_by_role("button", name="Visitors", exact=True).click()
    expect(tablet.locator("#visitors-source")).to_contain_text("updated")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("sent")
