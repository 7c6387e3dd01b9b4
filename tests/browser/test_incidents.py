"""The incident workflow on a tablet: a guard reports with a photo and a witness and submits;
the supervisor returns it; the guard adds a supplement and resubmits; the supervisor approves;
the history shows every step with names and reasons."""

import re

from playwright.sync_api import expect

from facility_log.services import incidents as svc
from tests.incident_factories import png_bytes
from tests.personas import PASSWORD
from tests.two_factor_helpers import pass_second_step, ready_for_second_step


def _sign_in(page, username: str) -> None:
    ready_for_second_step(username)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _sign_out(page) -> None:
    # Sign-out first checks the tablet outbox is empty (outbox.js), then leaves the page.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def _small_targets(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('a, button, input, select, textarea, summary')]
            .filter(el => el.offsetParent !== null && !el.classList.contains('skip'))
            .map(el => ({el: el.outerHTML.slice(0, 80), r: el.getBoundingClientRect()}))
            .filter(x => x.r.height < 44 || x.r.width < 44)
            .map(x => x.el)"""
    )


def _unlabelled(page) -> list[str]:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    return page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name)"""
    )


def test_report_return_supplement_approve_and_history(tablet, live_server, browser_personas):
    svc.ensure_default_categories(None)
    page = tablet

    # The guard reports on the tablet: site and time are filled in already; the zone is the
    # guard's to choose (no round open says where they are).
    _sign_in(page, "guard_a")
    page.get_by_role("link", name="Report").click()
    expect(page.get_by_label("Site")).to_have_value(str(browser_personas.site_a.pk))
    expect(page.get_by_label("Zone")).to_have_value("")
    page.get_by_label("Zone").select_option(str(browser_personas.zone_a.pk))
    assert page.get_by_label("Occurred from").input_value() != ""
    assert page.get_by_label("Photo").get_attribute("capture") == "environment"
    assert _small_targets(page) == []
    assert _unlabelled(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.get_by_label("Category").select_option(label="Trespass")
    page.get_by_label("Severity").select_option("medium")
    page.get_by_label("What happened").fill("Man climbed the fence at Gate B and ran off.")
    page.get_by_label("Photo").set_input_files(
        {"name": "fence.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_label("Person's role").select_option("witness")
    page.get_by_label("Name (optional)").fill("Walter Witness")
    page.get_by_label("Statement").fill("I saw him jump over.")
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_text(re.compile(r"Incident submitted as ALPHA-\d{4}-0001"))).to_be_visible()
    number = page.get_by_role("heading", level=1).inner_text().split()[0]
    expect(page.get_by_text("Walter Witness")).to_be_visible()
    expect(page.get_by_role("img", name="photo")).to_be_visible()
    incident_url = page.url
    _sign_out(page)

    # The supervisor finds it in the review queue and returns it.
    _sign_in(page, "supervisor_a")
    page.goto("/incidents/review/")
    page.get_by_role("link", name=number).click()
    assert _unlabelled(page) == []
    assert _small_targets(page) == []
    page.get_by_label("What the author should add or correct").fill("Describe the man.")
    page.get_by_role("button", name="Return to author").click()
    expect(page.get_by_text("Returned to author", exact=True)).to_be_visible()
    _sign_out(page)

    # The guard adds a supplement and resubmits.
    _sign_in(page, "guard_a")
    page.goto(incident_url)
    expect(page.get_by_role("note")).to_contain_text("Returned by Sam Tester: Describe the man.")
    page.get_by_label("Supplement", exact=True).fill("Tall, dark jacket, red backpack.")
    page.get_by_label("Why you add it").fill("supervisor asked for a description")
    page.get_by_role("button", name="Add supplement").click()
    expect(page.get_by_text("Supplement added.")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submit for review: done.")).to_be_visible()
    _sign_out(page)

    # The supervisor approves; the history shows every step with names and reasons.
    _sign_in(page, "supervisor_a")
    page.goto(incident_url)
    page.get_by_label("Approval comment (optional)").fill("Good report")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved", exact=True)).to_be_visible()
    page.get_by_role("link", name="History").click()
    # The history page has loaded before it is measured (measured while the click's navigation
    # was still replacing the document, the page had no document element).
    history = page.locator("table.history")
    expect(history).to_be_visible()
    page.wait_for_load_state("load")
    assert _small_targets(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    for text in (
        "guard_a",
        "supervisor_a",
        "incident reported",
        "submitted for review",
        "returned: Describe the man.",
        "supervisor asked for a description",
        "Tall, dark jacket, red backpack.",
        "approved: Good report",
        "status: returned → submitted",
        "status: submitted → approved",
        "fence.png",
    ):
        expect(history).to_contain_text(text)
    assert all(url.startswith(live_server.url) for url in page.requested_urls)


def test_void_needs_confirmation(tablet, browser_personas):
    svc.ensure_default_categories(None)
    incident, _ = svc.create_incident(
        browser_personas.guard_a, site=browser_personas.site_a, narrative="Test alarm"
    )
    _sign_in(tablet, "guard_a")
    tablet.goto(f"/incidents/{incident.pk}/")
    tablet.get_by_role("link", name="Void…").click()
    expect(tablet.get_by_text("It cannot be undone.")).to_be_visible()
    tablet.get_by_label("Reason").fill("entered by mistake")
    tablet.get_by_role("button", name="Void this incident").click()
    expect(tablet.get_by_role("note")).to_have_text("Void: entered by mistake")


def test_report_form_offers_only_the_zones_of_the_chosen_site(tablet, browser_personas):
    _sign_in(tablet, "manager_ab")
    tablet.goto("/incidents/new/")
    zone = tablet.get_by_label("Zone")
    tablet.get_by_label("Site").select_option(label="BRAVO – Bravo Depot")
    assert zone.input_value() == ""
    enabled = tablet.evaluate(
        "[...document.getElementById('id_zone').options].filter(o => !o.disabled).map(o => o.text)"
    )
    assert enabled == ["Choose the zone (leave empty if not known)", "BRAVO / Bravo Depot lobby"]


def test_export_for_police_downloads_once_and_shows_its_disclosure(tablet, browser_personas):
    from facility_log.models import Disclosure
    from tests.incident_factories import seed_site_a_incident

    incident = seed_site_a_incident(browser_personas)
    _sign_in(tablet, "supervisor_a")
    tablet.goto(f"/incidents/{incident.pk}/police-package/")
    tablet.get_by_label("Recipient (agency or organisation)").fill("City Police")
    tablet.get_by_label("Their case number").fill("2026/4711")
    tablet.get_by_label("Why it is disclosed").fill("theft reported")
    button = tablet.get_by_role("button", name="Export and download")
    with tablet.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == f"{incident.number}.zip"
    disclosure = Disclosure.objects.get()
    # After the download the page shows what was made, with its disclosure number.
    expect(
        tablet.get_by_role("heading", name=f"Exported: disclosure {disclosure.pk}")
    ).to_be_visible(timeout=10_000)
    expect(tablet.get_by_text(disclosure.package_sha256)).to_be_visible()
    assert Disclosure.objects.count() == 1
