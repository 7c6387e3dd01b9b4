"""Issue #14, done when: a NEW manager of a fresh site sets it up through the pages alone —
a zone, three checkpoints, a route with ordered stops, a schedule (and its week view), a door
with its Kisi id — and invites a guard, who sets a password from the emailed link, signs in
and walks the route on the tablet. The manager then changes the route (a new version), and
the guard's finished round still shows the stops it was walked with."""

import re

from django.core import mail
from playwright.sync_api import expect

from facility_log.models import Checkpoint, DoorExternalId, Role, Route, Run, Schedule
from facility_log.services import accounts, sites
from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

WHY = "setting up the new site"
GUARD_PASSWORD = "a-Long-night-shift-42"
PLAN_V1 = ("Gate", "Dock", "Tank")


def _fresh_site_with_a_new_manager():
    system = accounts.system_actor()
    site = sites.create_site(
        system, code="DELTA", name="Delta Works", time_zone="Europe/Berlin", reason="new site"
    )
    mona = accounts.create_user(
        system, username="mona", password=PASSWORD, first_name="Mona", reason="new manager"
    )
    sites.grant_membership(site, system, user=mona, role=Role.MANAGER, reason="new manager")
    return site


def _sign_in(page, username: str, password: str = PASSWORD) -> None:
    ready_for_second_step(username)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    # Wait for the signed-out page, so the next navigation does not cut the sign-out short.
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def _reason(page) -> None:
    page.get_by_label("Reason for this change").fill(WHY)


def _add_zone(page) -> None:
    page.get_by_role("link", name="Add zone").click()
    page.get_by_label("Name").fill("Yard")
    _reason(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="Yard", exact=True)).to_be_visible()


def _add_checkpoints(page, names) -> None:
    page.get_by_role("link", name="Checkpoints and routes").click()
    for name in names:
        page.get_by_role("link", name="Add checkpoint").click()
        page.get_by_label("Zone").select_option(label="DELTA / Yard")
        page.get_by_label("Name").fill(name)
        _reason(page)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()


def _fill_stops(page, stops) -> None:
    for row, (name, minutes) in enumerate(stops, start=1):
        page.get_by_label(f"Stop {row} checkpoint").select_option(label=f"{name} (Yard)")
        page.get_by_label(f"Stop {row} due after minutes").fill(str(minutes))


def _add_route(page) -> None:
    page.get_by_role("link", name="Add a route").click()
    page.get_by_label("Route name").fill("Yard round")
    page.get_by_label("Checkpoints must be scanned in this order").check()
    _fill_stops(page, [("Gate", 0), ("Dock", 5), ("Tank", 10)])
    _reason(page)
    page.get_by_role("button", name="Add the route").click()
    card = page.locator("section.card", has_text="Yard round")
    expect(card.locator("ol li")).to_have_text(["Gate (+0 min)", "Dock (+5 min)", "Tank (+10 min)"])


def _add_schedule(page) -> None:
    page.get_by_role("link", name="Schedules (week view)").click()
    page.get_by_role("link", name="Add a schedule").click()
    page.get_by_label("Route").select_option(label="DELTA / Yard round")
    page.get_by_label("Kind").select_option("fixed")
    page.get_by_label("Fixed times (local)").fill("08:00, 20:00")
    _reason(page)
    page.get_by_role("button", name="Add the schedule").click()
    # The week view: every day of the week shows the two rounds at their local times.
    week = page.locator(".week")
    expect(week.locator(".week-day")).to_have_count(7)
    expect(week.get_by_text("20:00").first).to_be_visible()


def _add_door_with_kisi_id(page, site_code: str) -> None:
    page.goto(f"/sites/{site_code}/")
    page.get_by_role("link", name="Doors").first.click()
    page.get_by_role("link", name=f"Add a door at {site_code}").click()
    expect(page.get_by_role("link", name=re.compile("Vendor event types"))).to_be_visible()
    page.get_by_label("Zone").select_option(label="DELTA / Yard")
    page.get_by_label("Door code").fill("YARD-GATE")
    page.get_by_label("Name").fill("Yard gate")
    _reason(page)
    page.get_by_role("button", name="Add the door").click()
    page.get_by_role("link", name="Add an id… (door-system id for YARD-GATE)").click()
    page.get_by_label("Door system").select_option("kisi")
    page.get_by_label("The system's id for this door").fill("kisi-lock-4711")
    _reason(page)
    page.get_by_role("button", name="Add the id").click()
    expect(page.get_by_text("kisi: kisi-lock-4711")).to_be_visible()
    # The mapping of vendor event types is one click from the door set-up pages.
    page.get_by_role("link", name="Vendor event types").click()
    expect(page.get_by_role("heading", name="Vendor types to map")).to_be_visible()


def _invite_guard(page, site_code: str) -> str:
    page.goto(f"/sites/{site_code}/")
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email address").fill("gus@example.org")
    page.get_by_label("First name").fill("Gus")
    page.get_by_label("Username").fill("gus")
    page.get_by_label("Role at this site").select_option("guard")
    _reason(page)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("gus invited")).to_be_visible()
    (message,) = [m for m in mail.outbox if m.to == ["gus@example.org"]]
    return re.search(r"https?://\S+?(/set-password/\S+)", message.body).group(1)


def _guard_sets_password_and_walks(page, link: str) -> Run:
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(GUARD_PASSWORD)
    page.get_by_label("New password confirmation").fill(GUARD_PASSWORD)
    page.get_by_role("button", name=re.compile("password", re.IGNORECASE)).click()
    expect(page.get_by_text("Your password is set: sign in with it.")).to_be_visible()
    _sign_in(page, "gus", GUARD_PASSWORD)
    page.get_by_role("link", name="Rounds").first.click()
    page.get_by_role("button", name="Start Yard round").click()
    for name in ("Gate", "Dock", "Tank"):
        expect(page.get_by_role("heading", name=f"Next: {name}")).to_be_visible()
        code = Checkpoint.objects.get(site__code="DELTA", name=name).tag_display
        page.get_by_label("Checkpoint code").fill(code.lower())
        page.get_by_role("button", name="Scan", exact=True).click()
        expect(page.get_by_text(f"Scanned {name}.")).to_be_visible()
    page.get_by_role("button", name="Finish round").click()
    expect(page.get_by_text("Round Yard round finished.")).to_be_visible()
    return Run.objects.get(route__name="Yard round")


def _change_route(page, site_code: str) -> None:
    page.goto(f"/sites/{site_code}/checkpoints/")
    page.get_by_role("link", name="Change Yard round").click()
    # Drop the tank, walk the dock first.
    _fill_stops(page, [("Dock", 0), ("Gate", 5)])
    page.get_by_label("Stop 3 checkpoint").select_option("")
    page.get_by_label("Stop 3 due after minutes").fill("")
    _reason(page)
    page.get_by_role("button", name="Save as version 2").click()
    card = page.locator("section.card", has_text="Yard round")
    expect(card.get_by_text("version 2")).to_be_visible()
    expect(card.locator("ol li")).to_have_text(["Dock (+0 min)", "Gate (+5 min)"])


def test_a_new_manager_sets_up_a_fresh_site_and_a_guard_walks_it(
    browser, live_server, browser_personas, settings
):
    settings.SITE_URL = live_server.url
    site = _fresh_site_with_a_new_manager()
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, base_url=live_server.url, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _sign_in(page, "mona")
        page.get_by_role("link", name="Open DELTA").click()
        _add_zone(page)
        _add_checkpoints(page, ("Gate", "Dock", "Tank"))
        _add_route(page)
        _add_schedule(page)
        _add_door_with_kisi_id(page, site.code)
        link = _invite_guard(page, site.code)
        _sign_out(page)

        run = _guard_sets_password_and_walks(page, link)
        assert run.finished_at is not None and run.scans.count() == 3
        _sign_out(page)

        _sign_in(page, "mona")
        _change_route(page, site.code)
        route = Route.objects.get(name="Yard round")
        assert route.version == 2
        # The finished round keeps its own plan: the three stops it was walked with.
        page.goto(f"/rounds/runs/{run.pk}/")
        expect(page.get_by_text("route version 1")).to_be_visible()
        stops = page.locator("ol.stops li")
        expect(stops).to_have_text([re.compile(rf"^{name} .*scanned") for name in PLAN_V1])
        assert Schedule.objects.filter(route=route).count() == 1
        assert DoorExternalId.objects.get(external_id="kisi-lock-4711").door.site == site
    finally:
        context.close()
