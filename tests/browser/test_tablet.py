"""The guard's tablet with no network: what is entered survives a reload and reaches the
server exactly once, whatever is replayed and however many tabs send it."""

import io
from datetime import timedelta

import pytest
from django.core.signals import request_started
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from facility_log.models import Attachment, Incident, Run, Scan, Shift, ShiftEntry
from tests.browser.conftest import open_tab
from tests.personas import PASSWORD
from tests.rounds_helpers import night_route
from tests.two_factor_helpers import pass_second_step, ready_for_second_step

CHECKPOINTS = ("Gate", "Dock", "Roof", "Lobby", "Stairs")
SYNC_TIMEOUT_MS = 20_000


def _photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "#c83").save(buffer, "JPEG")
    return buffer.getvalue()


def _sign_in(page, username: str) -> None:
    ready_for_second_step(username)
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)


def _open_tablet(page) -> None:
    """The tablet page, once its service worker controls it (so it opens offline)."""
    page.goto("/tablet/")
    page.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


@pytest.fixture
def served_paths():
    """The paths the live server answers during the test (to prove a page came from the
    service worker's copy, not from the server)."""
    paths: list[str] = []

    def record(sender, environ, **kwargs):
        paths.append(environ.get("PATH_INFO", ""))

    request_started.connect(record, weak=False)
    yield paths
    request_started.disconnect(record)


def _all_sent(page) -> None:
    """Wait until the outbox is empty and the page says so."""
    page.wait_for_function(
        "async () => (await FacilityLogOutbox.count()) === 0", timeout=SYNC_TIMEOUT_MS
    )
    expect(_unsynced(page)).to_have_text("Unsynced: 0", timeout=SYNC_TIMEOUT_MS)


def _unsynced(page):
    return page.locator("#unsynced")


def _start_shift_and_round(page, route_name: str) -> None:
    page.get_by_role("button", name="Start shift").click()
    expect(page.get_by_text("On shift at")).to_be_visible()
    open_tab(page, "Round")
    page.get_by_label("Route").select_option(label=f"{route_name} ({len(CHECKPOINTS)} checkpoints)")
    page.get_by_role("button", name="Start round").click()
    expect(
        page.get_by_text(f"{route_name}: 0 of {len(CHECKPOINTS)} checkpoints scanned")
    ).to_be_visible()


def _scan(page, checkpoint) -> None:
    page.get_by_label("Checkpoint code").fill(checkpoint.tag_display.lower())
    page.get_by_role("button", name="Record scan").click()
    expect(page.locator("#scan-hint")).to_have_text(f"Saved on this tablet: {checkpoint.name}.")


def _save_incident_with_photo(page, title: str) -> None:
    open_tab(page, "Incident")
    page.get_by_label("Short title").fill(title)
    page.get_by_label("Severity").select_option("medium")
    page.get_by_label("What happened (incident)").fill("Side door found propped open with a wedge.")
    page.get_by_label("Photo").set_input_files(
        {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": _photo_bytes()}
    )
    page.get_by_role("button", name="Save incident draft").click()
    expect(page.get_by_text("Incident draft saved on this tablet with its photo.")).to_be_visible()


def _log_entry(page, kind: str, text: str) -> None:
    open_tab(page, "Log")
    page.get_by_label("Entry type").select_option(label=kind)
    page.get_by_label("What happened", exact=True).fill(text)
    page.get_by_role("button", name="Add to log").click()
    expect(page.get_by_text("Log entry saved on this tablet.")).to_be_visible()


def _small_targets(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll(
                'main a, main button, main input, main select, main textarea')]
            .filter(el => el.offsetParent !== null && el.type !== 'hidden')
            .map(el => ({el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect()}))
            .filter(x => x.r.height < 44 || x.r.width < 44).map(x => x.el)"""
    )


def _route(p):
    route, checkpoints = night_route(
        p, names=CHECKPOINTS, minutes=(0, 5, 10, 15, 20), route_name="Night round"
    )
    return route, checkpoints


def test_offline_scans_and_incident_survive_a_reload_and_reach_the_server_once(
    tablet, live_server, browser_personas, served_paths
):
    p = browser_personas
    route, checkpoints = _route(p)
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    _start_shift_and_round(tablet, route.name)
    _log_entry(tablet, "Patrol", "Perimeter walked, all gates locked.")
    open_tab(tablet, "Round")
    for checkpoint in checkpoints[:3]:
        _scan(tablet, checkpoint)
    _all_sent(tablet)
    assert Scan.objects.filter(run__route=route).count() == 3

    tablet.context.set_offline(True)
    for checkpoint in checkpoints[3:]:
        _scan(tablet, checkpoint)
    _save_incident_with_photo(tablet, "Propped side door")
    expect(_unsynced(tablet)).to_have_text("Unsynced: 4")  # 2 scans, the incident, its photo

    served_paths.clear()
    tablet.reload()
    tablet.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    assert "/tablet/" not in served_paths  # the page came from the service worker's copy
    expect(tablet.locator("#connection")).to_have_text("Offline — saving on this tablet")
    expect(_unsynced(tablet)).to_have_text("Unsynced: 4")
    open_tab(tablet, "Round")
    expect(tablet.get_by_text(f"{route.name}: 5 of 5 checkpoints scanned")).to_be_visible()
    expect(tablet.locator("#scan-list li")).to_have_count(5)
    expect(tablet.locator("#scan-list li .pending")).to_have_count(2)
    open_tab(tablet, "Incident")
    expect(tablet.locator("#incident-list li")).to_contain_text("Propped side door · with photo")
    assert Scan.objects.filter(run__route=route).count() == 3
    assert not Incident.objects.exists()

    tablet.context.set_offline(False)
    expect(_unsynced(tablet)).to_have_text("Unsynced: 0", timeout=SYNC_TIMEOUT_MS)
    # The two scans went together, in one request to the batch endpoint.
    assert served_paths.count("/api/v1/sync/") == 1
    assert "/api/v1/scans/" not in served_paths
    scans = Scan.objects.filter(run__route=route)
    assert scans.count() == 5
    assert sorted(s.checkpoint.name for s in scans) == sorted(CHECKPOINTS)
    assert Run.objects.filter(route=route).count() == 1
    incident = Incident.objects.get()
    assert incident.title == "Propped side door"
    # "When it happened" defaulted to now in the site's zone (Europe/Berlin), not the
    # tablet's (UTC here): the stored instant is now.
    assert str(p.site_a.time_zone) != "UTC"
    assert abs(incident.occurred_from - timezone.now()) < timedelta(minutes=5)
    assert incident.site == p.site_a and incident.author == p.guard_a
    assert Attachment.objects.filter(incident=incident).count() == 1
    assert Shift.objects.filter(guard=p.guard_a).count() == 1
    assert ShiftEntry.objects.count() == 1


def test_daily_activity_report_lists_the_entries_the_round_and_the_incident(
    tablet, live_server, browser_personas
):
    p = browser_personas
    route, checkpoints = _route(p)
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    _start_shift_and_round(tablet, route.name)
    for checkpoint in checkpoints:
        _scan(tablet, checkpoint)
    tablet.get_by_role("button", name="Finish round").click()
    _log_entry(tablet, "Visitor", "Courier for reception signed in at the gate.")
    _save_incident_with_photo(tablet, "Propped side door")
    # The report takes an incident the server received during the shift (or one that
    # occurred in it: this one's time is the minute the shift started, floored): let it
    # arrive before the shift ends, or a slow send leaves it out.
    _all_sent(tablet)
    tablet.get_by_role("button", name="End shift", exact=True).click()
    tablet.get_by_label("Pass-down notes for the next shift").fill("Side door wedge removed.")
    tablet.get_by_role("region", name="End shift").get_by_role("button", name="End shift").click()
    expect(tablet.get_by_text("Shift ended and saved on this tablet.")).to_be_visible()
    _all_sent(tablet)

    shift = Shift.objects.get(guard=p.guard_a)
    assert shift.ended_at is not None and shift.pass_down_notes == "Side door wedge removed."
    tablet.get_by_role("link", name="Report of your last shift").click()
    report = tablet.locator("main")
    expect(report).to_contain_text("Courier for reception signed in at the gate.")
    expect(report).to_contain_text(route.name)
    incident = Incident.objects.get()
    expect(report.locator(f"a[href='/incidents/{incident.pk}/']")).to_be_visible()
    expect(report).to_contain_text("Propped side door")
    expect(report).to_contain_text("Side door wedge removed.")
    assert _small_targets(tablet) == []
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768


def test_a_replayed_outbox_and_two_tabs_sending_at_once_create_nothing_twice(
    tablet, live_server, browser_personas
):
    p = browser_personas
    route, checkpoints = _route(p)
    answers = []
    tablet.context.on(
        "response",
        lambda r: answers.append(r) if "/api/v1/" in r.url and r.request.method == "POST" else None,
    )

    def statuses() -> list[int]:
        """Each record's answer: a batch's per record, any other request's own."""
        found = []
        for answer in answers:
            if answer.url.endswith("/api/v1/sync/") and answer.status == 200:
                found += [result["status"] for result in answer.json()["results"]]
            else:
                found.append(answer.status)
        return found

    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    # The second tab is opened while the network is up: a page created after the context went
    # offline can run its first send before Chromium applies the offline switch to it, and its
    # requests then pass through the service worker, which the switch does not hold back.
    second = tablet.context.new_page()
    second.goto("/tablet/")
    second.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    tablet.context.set_offline(True)
    # ...and its API requests are refused as a dead network would, whichever way they go.
    tablet.context.route("**/api/v1/**", lambda request: request.abort("internetdisconnected"))
    _start_shift_and_round(tablet, route.name)
    for checkpoint in checkpoints[:3]:
        _scan(tablet, checkpoint)
    _log_entry(tablet, "Observation", "Light out in stairwell B.")
    _save_incident_with_photo(tablet, "Propped side door")
    # shift, run, 3 scans, log entry, incident, photo
    expect(_unsynced(tablet)).to_have_text("Unsynced: 8")
    tablet.evaluate("async () => { window.savedOutbox = await FacilityLogOutbox.entries(); }")

    second.reload()
    second.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    expect(_unsynced(second)).to_have_text("Unsynced: 8")

    tablet.context.unroute("**/api/v1/**")
    tablet.context.set_offline(False)
    # Both tabs are told the network is back and both try to send at the same moment.
    for page in (tablet, second):
        page.evaluate("() => { window.syncing = FacilityLogOutbox.sync(); }")
    for page in (tablet, second):
        page.evaluate("() => window.syncing")
        expect(_unsynced(page)).to_have_text("Unsynced: 0", timeout=SYNC_TIMEOUT_MS)

    def stored():
        return {
            "shifts": Shift.objects.count(),
            "runs": Run.objects.count(),
            "scans": Scan.objects.count(),
            "entries": ShiftEntry.objects.count(),
            "incidents": Incident.objects.count(),
            "attachments": Attachment.objects.count(),
        }

    expected = {"shifts": 1, "runs": 1, "scans": 3, "entries": 1, "incidents": 1, "attachments": 1}
    assert stored() == expected
    assert statuses().count(201) == 8

    # The same outbox twice more, as a tablet restored from a backup would send it, from both
    # tabs at once: the server answers with what it has (200) and stores nothing new.
    for _replay in range(2):
        answers.clear()
        tablet.evaluate("async () => { await FacilityLogOutbox.restore(window.savedOutbox); }")
        expect(_unsynced(second)).to_have_text("Unsynced: 8")
        for page in (second, tablet):
            page.evaluate("() => { window.syncing = FacilityLogOutbox.sync(); }")
        for page in (tablet, second):
            page.evaluate("() => window.syncing")
            expect(_unsynced(page)).to_have_text("Unsynced: 0", timeout=SYNC_TIMEOUT_MS)
        assert stored() == expected
        assert statuses().count(200) == 8 and set(statuses()) == {200}
    expect(tablet.locator("#problems li")).to_have_count(0)


def test_sign_out_is_refused_while_anything_is_unsynced(tablet, live_server, browser_personas):
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    tablet.get_by_role("button", name="Start shift").click()
    expect(tablet.get_by_text("On shift at")).to_be_visible()
    _all_sent(tablet)
    tablet.context.set_offline(True)
    _log_entry(tablet, "Maintenance", "Fire door closer on level 2 is loose.")
    expect(_unsynced(tablet)).to_have_text("Unsynced: 1")

    tablet.get_by_role("button", name="Sign out").click()
    refusal = tablet.get_by_role("alert")
    expect(refusal).to_contain_text("You cannot sign out yet: 1 item is still only on this tablet")
    expect(refusal).to_contain_text("Connect to the network and wait until Unsynced shows 0")
    assert tablet.url.endswith("/tablet/")

    tablet.context.set_offline(False)
    expect(_unsynced(tablet)).to_have_text("Unsynced: 0", timeout=SYNC_TIMEOUT_MS)
    tablet.get_by_role("button", name="Sign out").click()
    expect(tablet.get_by_label("Username")).to_be_visible()
    assert ShiftEntry.objects.get().text == "Fire door closer on level 2 is loose."
    # The stored page (guard_a's site data) is gone; the scripts stay for the next guard, whose
    # tablet then opens with no network.
    stored_page = tablet.evaluate(
        """async () => { for (const name of await caches.keys()) {
               if (await (await caches.open(name)).match('/tablet/')) return name; }
             return null; }"""
    )
    assert stored_page is None
    _sign_in(tablet, "supervisor_a")
    _open_tablet(tablet)
    tablet.context.set_offline(True)
    tablet.reload()
    tablet.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    assert tablet.evaluate("document.body.dataset.user") == "supervisor_a"
    expect(tablet.get_by_role("button", name="Start shift")).to_be_visible()


@pytest.mark.parametrize(
    "viewport", [{"width": 768, "height": 1024}, {"width": 1280, "height": 800}], ids=str
)
def test_tablet_screens_fit_portrait_and_landscape_with_large_targets(
    browser, live_server, browser_personas, viewport
):
    _route(browser_personas)
    context = browser.new_context(viewport=viewport, base_url=live_server.url, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, "guard_a")
        _open_tablet(page)
        page.get_by_role("button", name="Start shift").click()
        for tab in ("Log", "Round", "Incident", "End shift"):
            page.get_by_role("button", name=tab, exact=True).first.click()
            small = _small_targets(page)
            assert small == [], tab
            unlabelled = page.evaluate(
                """() => [...document.querySelectorAll('main input, main select, main textarea')]
                    .filter(el => el.offsetParent !== null && el.labels.length === 0)
                    .map(el => el.id)"""
            )
            assert unlabelled == [], tab
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.evaluate("document.documentElement.dataset.theme") in {"dark", "light"}
        # Persistent storage was asked for and the answer is shown; Web NFC is offered only
        # where the browser has it (not desktop Chromium).
        expect(page.locator("#storage-note")).to_contain_text("storage")
        open_tab(page, "Round")
        page.get_by_role("button", name="Start round").click()
        expect(page.get_by_role("button", name="Scan QR code with camera")).to_be_visible()
        expect(page.get_by_role("button", name="Read NFC tag")).to_be_hidden()
        assert _small_targets(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        # Let the shift and round starts reach the server before the page goes: a request
        # still being written when the test database is emptied deadlocks with it.
        _all_sent(page)
    finally:
        context.close()


def test_a_shift_already_open_elsewhere_is_taken_up_not_refused(
    tablet, live_server, browser_personas
):
    """The guard opened a shift on another device: the tablet's start is answered 409, and the
    tablet takes up that shift; what was logged here goes into it."""
    import uuid

    from facility_log.services import shifts as shift_services

    p = browser_personas
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    elsewhere, _ = shift_services.start_shift(p.site_a, p.guard_a, client_uuid=uuid.uuid4())
    tablet.get_by_role("button", name="Start shift").click()
    _log_entry(tablet, "Patrol", "Car park level -2 checked.")
    _all_sent(tablet)
    expect(tablet.locator("#problems li")).to_have_count(0)
    assert Shift.objects.get() == elsewhere
    assert ShiftEntry.objects.get().shift == elsewhere


def test_a_refused_scan_is_shown_kept_and_can_become_a_log_note(
    tablet, live_server, browser_personas
):
    """A code the server refuses stays on the tablet, shown with what to do, across reloads
    and retries; the guard can keep it as a note in the shift log instead, which reaches the
    server, and only then may they sign out."""
    route, _checkpoints = _route(browser_personas)
    tablet.on("dialog", lambda dialog: dialog.accept())
    _sign_in(tablet, "guard_a")
    _open_tablet(tablet)
    _start_shift_and_round(tablet, route.name)
    tablet.get_by_label("Checkpoint code").fill("ZZZZ-ZZZZ-ZZZZ")
    tablet.get_by_role("button", name="Record scan").click()
    problem = tablet.locator("#problems li")
    expect(problem).to_contain_text("Scan ZZZZZZZZZZZZ", timeout=SYNC_TIMEOUT_MS)
    expect(problem).to_contain_text("tag_code")
    expect(problem).to_contain_text("Show this to your supervisor")
    expect(_unsynced(tablet)).to_have_text("Unsynced: 1")
    tablet.reload()
    tablet.wait_for_function("() => document.getElementById('tablet').dataset.ready === 'yes'")
    tablet.get_by_role("button", name="Try again: Scan ZZZZZZZZZZZZ").click()
    expect(problem).to_contain_text("tag_code")
    expect(_unsynced(tablet)).to_have_text("Unsynced: 1")
    assert not Scan.objects.exists()
    tablet.get_by_role("button", name="Sign out").click()
    expect(tablet.get_by_role("alert")).to_contain_text("You cannot sign out yet")

    tablet.get_by_role("button", name="Keep as a note in the shift log: Scan ZZZZZZZZZZZZ").click()
    _all_sent(tablet)
    note = ShiftEntry.objects.get()
    assert note.kind == "other"
    assert "Not accepted by the server" in note.text and "ZZZZZZZZZZZZ" in note.text
    assert not Scan.objects.exists()
    tablet.get_by_role("button", name="Sign out").click()
    expect(tablet.get_by_label("Username")).to_be_visible()


def _qr_video(path, code: str) -> None:
    """A short Y4M video of a QR label, for Chromium's fake camera."""
    import segno

    width, height = 640, 480
    label = io.BytesIO()
    # A full QR code, as the printed labels are (never a Micro QR, which cameras do not read).
    segno.make_qr(code, error="m").save(label, kind="png", scale=8, border=4)
    frame = Image.new("RGB", (width, height), "white")
    qr = Image.open(label).convert("RGB")
    frame.paste(qr, ((width - qr.width) // 2, (height - qr.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    chroma = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(chroma).tobytes() + cr.resize(chroma).tobytes()
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + planes)


def test_the_camera_reads_a_checkpoint_qr_label(browser, live_server, browser_personas, tmp_path):
    """Chromium's fake camera shows a QR label; the page decodes it (BarcodeDetector where
    the browser has one, otherwise the vendored jsQR) and records a QR scan."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    route, checkpoints = _route(browser_personas)
    video = tmp_path / "label.y4m"
    _qr_video(video, checkpoints[1].tag_code)
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(
            viewport={"width": 768, "height": 1024},
            base_url=live_server.url,
            permissions=["camera"],
        )
        page = context.new_page()
        _sign_in(page, "guard_a")
        _open_tablet(page)
        _start_shift_and_round(page, route.name)
        page.get_by_role("button", name="Scan QR code with camera").click()
        expect(page.locator("#scan-hint")).to_have_text(
            f"Saved on this tablet: {checkpoints[1].name}.", timeout=15_000
        )
        expect(page.locator("#camera-box")).to_be_hidden()
        _all_sent(page)
        scan = Scan.objects.get()
        assert (scan.checkpoint, scan.method) == (checkpoints[1], "qr")
    finally:
        camera_browser.close()
