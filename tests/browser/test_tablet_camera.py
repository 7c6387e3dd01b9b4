"""The tablet's camera and service worker under the security headers: the Permissions-Policy
allows the camera for this origin only, the Content-Security-Policy lets the page, its worker
and the QR reader run, and the browser reports no violation. Chromium's fake camera stands in
for the tablet's."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TABLET
from tests.browser.test_tablet import _open_tablet, _route, _sign_in, _start_shift_and_round

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def camera_tablet(browser, live_server, browser_personas):
    # The shared browser has no fake camera: this test starts its own Chromium beside it.
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_CAMERA]
    )
    context = chromium.new_context(
        viewport=TABLET, base_url=live_server.url, has_touch=True, permissions=["camera"]
    )
    page = context.new_page()
    page.violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.violations.append(message.text)
        ),
    )
    yield page
    context.close()
    chromium.close()


def test_the_camera_and_the_service_worker_work_under_the_policies(camera_tablet, browser_personas):
    page = camera_tablet
    route, _checkpoints = _route(browser_personas)
    _sign_in(page, "guard_a")
    _open_tablet(page)  # waits until the service worker controls the page
    assert page.evaluate("() => document.featurePolicy.allowsFeature('camera')")
    assert not page.evaluate("() => document.featurePolicy.allowsFeature('geolocation')")
    assert not page.evaluate("() => document.featurePolicy.allowsFeature('microphone')")

    _start_shift_and_round(page, route.name)
    page.get_by_role("button", name="Scan QR code with camera").click()
    expect(page.locator("#camera-box")).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.getElementById('camera-video');"
        " return v.srcObject !== null && v.readyState >= 2 && v.videoWidth > 0; }"
    )
    page.wait_for_timeout(500)  # a few frames through the QR reader
    page.get_by_role("button", name="Stop camera").click()
    assert page.violations == []
