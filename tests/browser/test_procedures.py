"""Guided procedures in the browser: a guard offline presses panic, the network returns and
the duress alarm reaches the top of the console within 10 s (as tests/browser/test_panic.py);
then the supervisor follows the duress procedure on the console, ticking each step, and
acknowledges. The alarm's history (its page and the API) holds every tick with user and time."""

import time

from playwright.sync_api import expect

from facility_log.models import Alarm, AlarmState, ProcedureTick
from facility_log.services import procedures
from tests.browser.conftest import TABLET, open_tab
from tests.browser.test_panic import _route
from tests.browser.test_tablet import (
    _all_sent,
    _open_tablet,
    _scan,
    _sign_in,
    _start_shift_and_round,
)
from tests.onsite.procedure_helpers import DURESS_STEPS


def _duress_procedure(p):
    return procedures.save_procedure(
        p.site_a,
        p.manager_ab,
        title="Guard in danger",
        steps=DURESS_STEPS,
        alarm_type="duress",
        reason="agreed with the police liaison",
    )


def _press_panic_offline(tablet, route, checkpoints):
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    _start_shift_and_round(tablet, route.name)
    _scan(tablet, checkpoints[0])
    _all_sent(tablet)
    tablet.context.set_offline(True)
    tablet.get_by_role("button", name="Panic", exact=True).click()
    tablet.get_by_role("button", name="Send duress alarm").click()
    expect(tablet.locator("#panic-status")).to_contain_text("NOT SENT YET")


def test_supervisor_follows_the_duress_procedure_on_the_console_and_acknowledges(
    browser, tablet, live_server, browser_personas
):
    p = browser_personas
    _duress_procedure(p)
    route, checkpoints = _route(p)
    desk = browser.new_context(viewport=TABLET, base_url=live_server.url)
    console = desk.new_page()
    _sign_in(console, "supervisor_a")
    console.goto("/access/alarms/")
    expect(console.locator("#alarm-list")).to_contain_text("No open alarms.")

    _press_panic_offline(tablet, route, checkpoints)
    tablet.context.set_offline(False)
    back = time.monotonic()
    top = console.locator("#alarm-list li.alarm").first
    expect(top).to_contain_text("Duress", timeout=10_000)
    assert time.monotonic() - back < 10
    expect(top).to_contain_text("last checkpoint: Gate")
    expect(top).to_contain_text("Procedure: Guard in danger")

    # Follow the procedure: tick each step, in order, on the console.
    for number, text in enumerate(DURESS_STEPS, start=1):
        step = top.locator(f"li.procedure-step[data-step='{number}']")
        expect(step).to_contain_text(text)
        step.get_by_role("button", name=f"Tick step {number}").click()
        expect(step).to_contain_text("✓ ticked by supervisor_a at", timeout=10_000)
    top.get_by_role("button", name="Acknowledge").click()
    top.get_by_role("button", name="Guard sent to the door").click()
    expect(console.locator("#console-status")).to_contain_text("acknowledged")

    alarm = Alarm.objects.get()
    assert alarm.state == AlarmState.ACKNOWLEDGED and alarm.acknowledged_by == p.supervisor_a
    ticks = list(ProcedureTick.objects.filter(alarm=alarm).order_by("ticked_at"))
    assert [(t.step_number, t.ticked_by, t.undone) for t in ticks] == [
        (1, p.supervisor_a, False),
        (2, p.supervisor_a, False),
        (3, p.supervisor_a, False),
    ]
    assert all(t.ticked_at <= alarm.acknowledged_at for t in ticks)

    # The history, as the API gives it: each tick with its user and time, before the ack.
    answer = console.request.get(f"/api/v1/alarms/{alarm.pk}/history/")
    assert answer.ok, answer.text()
    rows = answer.json()["results"]
    ticked = [r for r in rows if r["kind"] == "step ticked"]
    assert [(r["record"], r["user"]) for r in ticked] == [
        (f"procedure step {n}", "supervisor_a") for n in (1, 2, 3)
    ]
    assert [r["when"] for r in ticked] == [
        t.ticked_at.isoformat().replace("+00:00", "Z") for t in ticks
    ]
    kinds = [r["kind"] for r in rows]
    assert kinds.index("step ticked") < len(kinds) - 1  # the acknowledgement comes after
    # And on the alarm's page, in the site's time.
    console.goto(f"/access/alarms/{alarm.pk}/")
    history = console.locator("table").last
    for text in DURESS_STEPS:
        expect(history).to_contain_text(f"({text})")
    expect(history.locator("tr", has_text="step ticked")).to_have_count(3)
    expect(history.locator("tr", has_text="step ticked").first).to_contain_text("supervisor_a")
    desk.close()


def test_the_tablet_shows_the_procedure_of_the_category_a_guard_reports_under(
    tablet, live_server, browser_personas
):
    from tests.onsite.procedure_helpers import TRESPASS_STEPS, incident_procedure

    p = browser_personas
    procedure = incident_procedure(p)
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.get_by_role("button", name="Start shift").click()
    open_tab(tablet, "Incident")
    shown = tablet.locator("#tablet-procedure")
    expect(shown).to_be_hidden()
    tablet.get_by_label("Category").select_option(label="Trespass")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text(procedure.title)
    expect(tablet.locator("#tablet-procedure-steps li")).to_have_text(TRESPASS_STEPS)
    tablet.get_by_label("Category").select_option(label="Theft")
    expect(shown).to_be_hidden()
