"""The fixes from the tablet walk-through (issue #16), as a guard sees them: what a scan means
is said at once (instructions, or why it is refused, in the error style, keeping the code),
a round's misses are summed up, a round open on another device is taken up, the route due
now comes first, the screen shows the notes just left, times read as on the desk pages, and
an incident with the people involved is submitted from the tablet, offline included."""

import re
import uuid
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from facility_log.models import Incident, Run, Scan
from facility_log.models.incidents import Status
from facility_log.services import rounds
from facility_log.services import shifts as shift_services
from facility_log.templatetags.facility_log_tags import site_time
from tests.browser.conftest import open_tab
from tests.browser.test_tablet import (
    SYNC_TIMEOUT_MS,
    _all_sent,
    _open_tablet,
    _sign_in,
    _start_shift_and_round,
    _unsynced,
)
from tests.rounds_helpers import night_route, scan

CHECKPOINTS = ("Gate", "Dock", "Roof", "Lobby", "Stairs")


def _ordered_route(p):
    return night_route(
        p,
        names=CHECKPOINTS,
        minutes=(0, 5, 10, 15, 20),
        route_name="Night round",
        must_follow_order=True,
    )


def _type_code(page, code: str) -> None:
    page.get_by_label("Checkpoint code").fill(code)
    page.get_by_role("button", name="Record scan").click()


def test_scans_offline_say_what_they_mean_and_the_round_end_sums_up_what_was_missed(
    tablet, live_server, browser_personas
):
    p = browser_personas
    route, checkpoints = _ordered_route(p)
    boiler = rounds.create_checkpoint(
        p.site_a, p.manager_ab, zone=p.zone_a, name="Boiler room", reason="set-up"
    )
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        # A typed code the tablet does not know: not sent; finishing the round: yes.
        if "matches no checkpoint" in dialog.message:
            dialog.dismiss()
        else:
            dialog.accept()

    tablet.on("dialog", answer)
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.context.set_offline(True)
    _start_shift_and_round(tablet, route.name)
    problem = tablet.locator("#scan-problem")
    code = tablet.get_by_label("Checkpoint code")

    _type_code(tablet, checkpoints[0].tag_display)
    expect(tablet.locator("#scan-hint")).to_have_text("Saved on this tablet: Gate.")
    expect(tablet.locator("#checkpoint-instructions")).to_contain_text("Instructions at Gate")
    expect(tablet.locator("#checkpoint-instructions")).to_contain_text("Check Gate")
    expect(problem).to_be_hidden()
    expect(code).to_have_value("")

    # Out of order: recorded, with a warning.
    _type_code(tablet, checkpoints[2].tag_display)
    expect(problem).to_have_text(re.compile("out of order: Roof was scanned before Dock"))
    expect(problem).to_have_attribute("role", "alert")
    expect(tablet.locator("#checkpoint-instructions")).to_contain_text("Check Roof")

    # Refused: a repeat, another route's checkpoint, an unknown code. Each says why, in the
    # error colour, and leaves the typed code in the field.
    danger = tablet.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--danger').trim()"
    )
    for typed, words in (
        (checkpoints[0].tag_display, "Gate was already scanned in this round at"),
        (boiler.tag_display, "Boiler room is a checkpoint of this site but not on the route"),
        ("ZZZZ-ZZZZ-ZZZZ", "the code ZZZZZZZZZZZZ matches no checkpoint of this site"),
    ):
        _type_code(tablet, typed)
        expect(problem).to_contain_text(f"Not recorded: {words}")
        expect(problem).to_be_visible()
        expect(code).to_have_value(typed)
        expect(code).to_have_attribute("aria-invalid", "true")
        expect(tablet.locator("#checkpoint-instructions")).to_be_hidden()
    colour = problem.evaluate("el => getComputedStyle(el).color")
    swatch = tablet.evaluate(
        "c => { const s = document.createElement('span'); s.style.color = c;"
        " document.body.appendChild(s); const v = getComputedStyle(s).color; s.remove();"
        " return v; }",
        danger,
    )
    assert colour == swatch
    assert any("matches no checkpoint" in q for q in questions)
    expect(tablet.get_by_text(f"{route.name}: 2 of 5 checkpoints scanned")).to_be_visible()
    expect(_unsynced(tablet)).to_have_text("Unsynced: 4")  # shift, round, Gate, Roof

    tablet.get_by_role("button", name="Finish round").click()
    report = tablet.locator("#round-report")
    expect(report).to_contain_text(f"{route.name}: 2 of 5 checkpoints scanned.")
    for name in ("Dock", "Lobby", "Stairs"):
        expect(report).to_contain_text(f"Missed: {name}")
    expect(report).not_to_contain_text("Missed: Gate")
    # Late: a stop scanned after the round's start + its minutes + the grace.
    late = tablet.evaluate(
        """() => FacilityLogTabletRound.roundReport(
              {routeName: "R", startedAt: "2026-01-01T00:00:00Z", graceMinutes: 5,
               stops: [{name: "A", minutes: 0}, {name: "B", minutes: 10}]},
              [{stop: "A", at: "2026-01-01T00:04:00Z"}, {stop: "B", at: "2026-01-01T00:22:00Z"}])"""
    )
    assert late["late"] == [{"name": "B", "minutes": 7}] and late["missed"] == []

    tablet.context.set_offline(False)
    _all_sent(tablet)
    assert sorted(s.checkpoint.name for s in Scan.objects.all()) == ["Gate", "Roof"]
    assert Run.objects.get().finished_at is not None


def test_a_round_open_on_another_device_is_shown_and_taken_up(
    tablet, live_server, browser_personas
):
    p = browser_personas
    route, checkpoints = _ordered_route(p)
    shift_services.start_shift(
        p.site_a,
        p.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now() - timedelta(minutes=30),
    )
    started = timezone.now() - timedelta(minutes=10)
    run = rounds.start_run(route, p.guard_a, started_at=started, client_uuid=uuid.uuid4())
    scan(p.guard_a, run, checkpoints[0], started + timedelta(minutes=1))
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    expect(tablet.get_by_text("On shift at")).to_be_visible()
    open_tab(tablet, "Round")
    open_box = tablet.locator("#open-elsewhere")
    expect(open_box).to_contain_text("A round of yours is still open")
    expect(open_box).to_contain_text(f"{site_time(run.started_at, p.site_a)}")
    expect(open_box).to_contain_text("checkpoints scanned: 1 of 5")
    tablet.get_by_role("button", name=f"Take up this round: {route.name}").click()
    expect(tablet.get_by_text(f"{route.name}: 1 of 5 checkpoints scanned")).to_be_visible()
    expect(open_box).to_be_hidden()
    _type_code(tablet, checkpoints[0].tag_display)  # scanned on the other device
    expect(tablet.locator("#scan-problem")).to_contain_text("Gate was already scanned")
    _type_code(tablet, checkpoints[1].tag_display)
    expect(tablet.locator("#scan-hint")).to_have_text("Saved on this tablet: Dock.")
    _all_sent(tablet)
    assert Run.objects.count() == 1
    assert sorted(s.checkpoint.name for s in Scan.objects.filter(run=run)) == ["Dock", "Gate"]
    tablet.get_by_role("button", name="Finish round").click()
    expect(tablet.get_by_text("Round finished. Saved on this tablet.")).to_be_visible()
    _all_sent(tablet)
    run.refresh_from_db()
    assert run.finished_at is not None
    tablet.reload()
    tablet.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    open_tab(tablet, "Round")
    expect(tablet.locator("#open-elsewhere")).to_be_hidden()


def test_the_route_due_now_is_offered_first_and_selected(tablet, live_server, browser_personas):
    p = browser_personas
    night_route(p, names=("A1",), minutes=(0,), route_name="Annex")
    route, _checkpoints = night_route(p, route_name="Warehouse loop")
    now = timezone.now().astimezone(p.site_a.tzinfo)
    rounds.create_schedule(
        route,
        p.manager_ab,
        reason="set-up",
        kind="fixed",
        fixed_times=[now.strftime("%H:%M")],
        grace_minutes=30,
        active_from=now - timedelta(days=1),
    )
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.get_by_role("button", name="Start shift").click()
    open_tab(tablet, "Round")
    routes = tablet.get_by_label("Route")
    expect(routes.locator("option").first).to_have_text("Warehouse loop (3 checkpoints) — due now")
    assert routes.evaluate("el => el.selectedOptions[0].textContent") == (
        "Warehouse loop (3 checkpoints) — due now"
    )
    expect(routes.locator("option").nth(1)).to_have_text("Annex (1 checkpoints)")
    _all_sent(tablet)


def test_ending_a_shift_shows_the_notes_just_left_with_the_sites_time(
    tablet, live_server, browser_personas
):
    p = browser_personas
    earlier, _ = shift_services.start_shift(p.site_a, p.supervisor_a, client_uuid=uuid.uuid4())
    shift_services.end_shift(earlier, p.supervisor_a, pass_down_notes="Gate 3 sticks.")
    earlier.refresh_from_db()
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    handover = tablet.locator("#handover-before")
    expect(handover).to_contain_text("Gate 3 sticks.")
    # The desk pages' format: the site's time with its zone and offset.
    expect(handover).to_contain_text(f"at {site_time(earlier.ended_at, p.site_a)}")
    tablet.get_by_role("button", name="Start shift").click()
    summary = tablet.locator("#shift-summary")
    expect(summary).to_have_text(
        re.compile(r"since \d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T \(UTC\+0[12]:00\)\.$")
    )
    tablet.get_by_role("button", name="End shift", exact=True).click()
    tablet.get_by_label("Pass-down notes for the next shift").fill("Side door wedge removed.")
    tablet.get_by_role("region", name="End shift").get_by_role("button", name="End shift").click()
    expect(tablet.get_by_text("Shift ended and saved on this tablet.")).to_be_visible()
    expect(handover).to_contain_text("Side door wedge removed.")
    expect(handover).not_to_contain_text("Gate 3 sticks.")
    _all_sent(tablet)


def test_an_incident_with_a_witness_is_submitted_offline_once_its_required_fields_are_given(
    tablet, live_server, browser_personas
):
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.get_by_role("button", name="Start shift").click()
    # In the outbox first (the page says so), then sent: an outbox counted before the start
    # was written is already empty, and going offline would then keep the start unsent.
    expect(tablet.get_by_text("Shift started and saved on this tablet.")).to_be_visible()
    _all_sent(tablet)
    tablet.context.set_offline(True)
    open_tab(tablet, "Incident")
    tablet.get_by_label("Short title").fill("Van at the loading dock")
    tablet.get_by_role("button", name="Submit for review").click()
    category_error = tablet.locator("#incident-category-error")
    expect(category_error).to_have_text(
        "Category: required to submit. Choose one, or save the report as a draft."
    )
    expect(category_error).to_have_attribute("role", "alert")
    expect(tablet.locator("#incident-narrative-error")).to_have_text(
        "What happened: required to submit."
    )
    expect(_unsynced(tablet)).to_have_text("Unsynced: 0")  # nothing was saved

    tablet.get_by_label("Category").select_option(label="Trespass")
    tablet.get_by_label("What happened (incident)").fill("A white van waited 20 minutes.")
    tablet.get_by_role("button", name="Add this person").click()
    expect(tablet.locator("#person-error")).to_have_text("Give the person's name or a description.")
    tablet.get_by_label("Role in this incident").select_option("witness")
    tablet.get_by_label("Name (if known)").fill("Dana Driver")
    tablet.get_by_role("button", name="Add this person").click()
    expect(tablet.locator("#person-list li")).to_contain_text("Witness: Dana Driver")
    tablet.get_by_role("button", name="Submit for review").click()
    expect(
        tablet.get_by_text(
            "Incident saved on this tablet and submitted for review once it is sent."
        )
    ).to_be_visible()
    expect(category_error).to_be_hidden()
    expect(_unsynced(tablet)).to_have_text("Unsynced: 2")  # the incident, its submission
    expect(tablet.locator("#incident-list li")).to_contain_text("submitted for review")
    assert not Incident.objects.exists()

    tablet.context.set_offline(False)
    expect(_unsynced(tablet)).to_have_text("Unsynced: 0", timeout=SYNC_TIMEOUT_MS)
    incident = Incident.objects.get()
    assert incident.status == Status.SUBMITTED and incident.number
    assert [(w.role, w.name) for w in incident.persons.all()] == [("witness", "Dana Driver")]
    expect(tablet.locator("#problems li")).to_have_count(0)


def test_nothing_is_sent_while_the_browser_is_offline(tablet, live_server, browser_personas):
    """The outbox tries nothing while the browser says it is offline (a request a service
    worker makes is not held back by the browser's offline switch)."""
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.context.set_offline(True)
    tablet.get_by_role("button", name="Start shift").click()
    expect(_unsynced(tablet)).to_have_text("Unsynced: 1")
    status = tablet.evaluate("() => FacilityLogOutbox.sync()")
    assert status["state"] == "offline"
    expect(tablet.locator("#connection")).to_have_text("Offline — saving on this tablet")
    expect(_unsynced(tablet)).to_have_text("Unsynced: 1")
    tablet.context.set_offline(False)
    _all_sent(tablet)
