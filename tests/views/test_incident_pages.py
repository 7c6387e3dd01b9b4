"""Incident pages: the report form, the incident page, editing, transitions, the history,
the list with filters and CSV export, attachment downloads."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Attachment, Incident, InvolvedPerson
from facility_log.services import incidents as svc
from tests.incident_factories import category, draft, png_bytes, submitted


def _report(personas, **extra):
    data = {
        "site": personas.site_a.pk,
        "zone": personas.zone_a.pk,
        "category": category("Vandalism").pk,
        "severity": "medium",
        "occurred_from": "2026-11-26T02:10",
        "narrative": "Graffiti on the loading bay door.",
        "client_uuid": "6a0f3f5e-2f7a-4b9c-9d1e-0a1b2c3d4e5f",
        "person-TOTAL_FORMS": "1",
        "person-INITIAL_FORMS": "0",
        "person-0-role": "witness",
        "person-0-name": "Wes",
        "person-0-statement": "Two people with spray cans.",
        "action": "submit",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_report_form_has_tablet_defaults_and_camera_capture(personas, client_for):
    html = client_for("guard_a").get(reverse("incident-new")).content.decode()
    assert 'capture="environment"' in html
    assert 'accept="image/*"' in html
    assert f'<option value="{personas.site_a.pk}" selected>' in html
    assert 'type="datetime-local"' in html
    # No zone is chosen for the guard: a silent default sent reports to the wrong place.
    zone_select = _select(html, "zone")
    assert f'<option value="{personas.zone_a.pk}" selected>' not in zone_select
    assert '<option value="" selected>Choose the zone (leave empty if not known)</option>' in (
        zone_select
    )


@pytest.mark.django_db
def test_report_form_offers_the_zone_of_the_guards_open_round(personas, client_for):
    from datetime import timedelta

    from django.utils import timezone

    from facility_log.services import rounds, sites
    from tests.rounds_helpers import WHY, scan

    dock = sites.create_zone(personas.site_a, personas.manager_ab, name="Loading dock", reason=WHY)
    gate = rounds.create_checkpoint(
        personas.site_a, personas.manager_ab, zone=personas.zone_a, name="Gate", reason=WHY
    )
    dock_point = rounds.create_checkpoint(
        personas.site_a, personas.manager_ab, zone=dock, name="Dock door", reason=WHY
    )
    route = rounds.create_route(
        personas.site_a,
        personas.manager_ab,
        name="Dock round",
        reason=WHY,
        stops=[(gate, 0), (dock_point, 15)],
    )
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now() - timedelta(hours=1))
    scan(personas.guard_a, run, gate, run.started_at + timedelta(minutes=5))
    scan(personas.guard_a, run, dock_point, run.started_at + timedelta(minutes=20))
    html = client_for("guard_a").get(reverse("incident-new")).content.decode()
    assert f'<option value="{dock.pk}" selected>' in _select(html, "zone")

    rounds.finish_run(run, personas.guard_a, finished_at=timezone.now())
    html = client_for("guard_a").get(reverse("incident-new")).content.decode()
    assert f'<option value="{dock.pk}" selected>' not in _select(html, "zone")


def _select(html: str, name: str) -> str:
    """The `<select name=...>` element of a page, options included."""
    start = html.index(f'<select name="{name}"')
    return html[start : html.index("</select>", start)]


@pytest.mark.django_db
def test_guard_reports_with_photo_and_witness_and_submits(personas, client_for):
    photo = SimpleUploadedFile("gate.png", png_bytes(), content_type="image/png")
    response = client_for("guard_a").post(reverse("incident-new"), _report(personas, photo=photo))
    assert response.status_code == 302, response.content.decode()[:3000]
    incident = Incident.objects.get()
    assert incident.status == "submitted"
    assert incident.number.startswith("ALPHA-")
    assert incident.persons.get().name == "Wes"
    attachment = incident.attachments.get()
    assert attachment.content_type == "image/png"
    assert attachment.file.name.startswith("incidents/ALPHA/")
    assert "gate" not in attachment.file.name
    # Times typed on the tablet are site time (Europe/Berlin, UTC+1 in November).
    assert incident.occurred_from.isoformat() == "2026-11-26T01:10:00+00:00"


@pytest.mark.django_db
def test_double_posted_report_is_created_once(personas, client_for):
    client = client_for("guard_a")
    client.post(reverse("incident-new"), _report(personas, action="draft"))
    again = client.post(reverse("incident-new"), _report(personas, action="draft"))
    assert again.status_code == 302
    assert Incident.objects.count() == 1
    assert InvolvedPerson.objects.count() == 1


@pytest.mark.django_db
def test_report_with_a_fake_photo_names_the_field_and_saves_nothing(personas, client_for):
    fake = SimpleUploadedFile("gate.png", b"MZ\x90\x00 not a picture", content_type="image/png")
    response = client_for("guard_a").post(reverse("incident-new"), _report(personas, photo=fake))
    assert response.status_code == 200
    assert "not a photo, video, audio recording or PDF" in response.content.decode()
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_report_with_end_before_start_names_the_field(personas, client_for):
    response = client_for("guard_a").post(
        reverse("incident-new"), _report(personas, occurred_to="2026-11-26T01:00")
    )
    assert response.status_code == 200
    assert "The end is before the start." in response.content.decode()
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_submitted_narrative_cannot_be_edited_on_the_page(personas, client_for):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    response = client.post(
        reverse("incident-edit", args=[incident.pk]),
        {"narrative": "Rewritten", "version": incident.version, "severity": "low"},
        follow=True,
    )
    assert "not edited in place" in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).narrative == incident.narrative
    page = client.get(reverse("incident-page", args=[incident.pk])).content.decode()
    assert "Edit draft" not in page


@pytest.mark.django_db
def test_stale_draft_edit_shows_both_versions(personas, client_for):
    incident = draft(personas, title="Original")
    stale_version = incident.version
    svc.update_draft(incident, personas.supervisor_a, expected_version=stale_version, title="Sup")
    response = client_for("guard_a").post(
        reverse("incident-edit", args=[incident.pk]),
        {
            "version": stale_version,
            "title": "Guard's",
            "narrative": incident.narrative,
            "severity": "low",
            "occurred_from": "2026-11-26T02:10",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "changed by someone else" in html
    assert "Guard&#x27;s" in html and "Sup" in html
    assert Incident.objects.get(pk=incident.pk).title == "Sup"


@pytest.mark.django_db
def test_draft_edit_saves(personas, client_for):
    incident = draft(personas)
    response = client_for("guard_a").post(
        reverse("incident-edit", args=[incident.pk]),
        {
            "version": incident.version,
            "title": "New title",
            "narrative": "Updated",
            "severity": "high",
            "occurred_from": "2026-11-26T02:10",
        },
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).title == "New title"


@pytest.mark.django_db
def test_void_asks_for_confirmation_and_a_reason(personas, client_for):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-transition", args=[incident.pk, "void"])
    confirm = client.get(url).content.decode()
    assert "cannot be undone" in confirm
    assert client.post(url, {"reason": ""}).status_code == 200
    assert Incident.objects.get(pk=incident.pk).status == "submitted"
    assert client.post(url, {"reason": "duplicate of another"}).status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == "void"


@pytest.mark.django_db
def test_history_shows_each_step_with_names_and_reasons(personas, client_for):
    incident = submitted(personas)
    svc.return_incident(incident, personas.supervisor_a, comment="Add the gate number")
    svc.add_supplement(incident, personas.guard_a, text="Gate 4", reason="asked for it")
    svc.correct_field(incident, personas.guard_a, field="severity", value="high", reason="hurt")
    svc.submit_incident(incident, personas.guard_a, reason="answered")
    svc.approve_incident(incident, personas.supervisor_a, comment="ok")
    html = client_for("auditor_a").get(reverse("incident-history", args=[incident.pk]))
    html = html.content.decode()
    for text in (
        "guard_a",
        "supervisor_a",
        "returned: Add the gate number",
        "asked for it",
        "Gate 4",
        "correction: hurt",
        "<strong>severity</strong>: low → high",
        "<strong>status</strong>: returned → submitted",
        "approved: ok",
        "<strong>category</strong>: ∅ → Trespass",
        f"<strong>zone</strong>: ∅ → {personas.zone_a.name}",
    ):
        assert text in html, text


@pytest.mark.django_db
def test_review_queue_lists_submitted_incidents_for_reviewers(personas, client_for):
    waiting = submitted(personas, title="Waiting for review")
    draft(personas, title="Still a draft")
    html = client_for("supervisor_a").get(reverse("incident-review-queue")).content.decode()
    assert waiting.number in html
    assert "Still a draft" not in html
    guard_html = client_for("guard_a").get(reverse("incident-review-queue")).content.decode()
    assert "You do not review" in guard_html
    assert waiting.number not in guard_html


@pytest.mark.django_db
def test_list_filters(personas, client_for):
    submitted(personas, title="Fence cut", severity="high")
    draft(personas, title="Lamp out")
    client = client_for("manager_ab")
    html = client.get(reverse("incident-list"), {"severity": "high"}).content.decode()
    assert "Fence cut" in html and "Lamp out" not in html
    html = client.get(reverse("incident-list"), {"text": "lamp"}).content.decode()
    assert "Lamp out" in html and "Fence cut" not in html
    html = client.get(reverse("incident-list"), {"status": "submitted"}).content.decode()
    assert "Fence cut" in html and "Lamp out" not in html
    html = client.get(
        reverse("incident-list"), {"date_from": "2000-01-01", "date_to": "2000-01-02"}
    )
    assert "No incidents match" in html.content.decode()


@pytest.mark.django_db
def test_csv_export_follows_the_filters_and_defuses_formulas(personas, client_for):
    submitted(personas, title="=HYPERLINK(1)")
    draft(personas, title="Lamp out")
    response = client_for("manager_ab").get(reverse("incident-export"), {"status": "submitted"})
    assert response["Content-Disposition"] == 'attachment; filename="incidents.csv"'
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert [r["title"] for r in rows] == ["'=HYPERLINK(1)"]
    assert rows[0]["site"] == "ALPHA"


@pytest.mark.django_db
def test_attachment_download_is_permission_checked_and_never_sniffed(personas, client_for):
    incident = draft(personas)
    attachment = svc.add_attachment(
        incident,
        personas.guard_a,
        upload=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
    )
    url = reverse("attachment-download", args=[attachment.pk])
    response = client_for("auditor_a").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="a.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert client_for("outsider_c").get(url).status_code == 404


@pytest.mark.django_db
def test_page_actions_supplement_correction_person_attachment(personas, client_for):
    incident = draft(personas)
    client = client_for("guard_a")
    client.post(
        reverse("incident-add-item", args=[incident.pk, "persons"]),
        {"persons-role": "victim", "persons-name": "Vic"},
    )
    client.post(
        reverse("incident-add-item", args=[incident.pk, "vehicles"]),
        {"vehicles-registration": "B-XY 123", "vehicles-colour": "blue"},
    )
    client.post(
        reverse("incident-add-item", args=[incident.pk, "property"]),
        {"property-kind": "damaged", "property-description": "Door glass", "property-value": "120"},
    )
    client.post(
        reverse("incident-attach", args=[incident.pk]),
        {"file": SimpleUploadedFile("x.png", png_bytes()), "description": "door"},
    )
    client.post(reverse("incident-transition", args=[incident.pk, "submit"]), {})
    client.post(
        reverse("incident-supplement", args=[incident.pk]),
        {"text": "Also the window", "reason": "noticed later"},
    )
    incident.refresh_from_db()
    client.post(
        reverse("incident-correct", args=[incident.pk]),
        {
            "field": "severity",
            "value": "critical",
            "reason": "fire spread",
            "version": incident.version,
        },
    )
    incident.refresh_from_db()
    assert incident.status == "submitted"
    assert incident.severity == "critical"
    assert incident.persons.get().name == "Vic"
    assert Attachment.objects.filter(incident=incident).count() == 1
    assert incident.supplements.get().reason == "noticed later"
    html = client.get(reverse("incident-page", args=[incident.pk])).content.decode()
    assert incident.vehicles.get().registration == "B-XY 123"
    assert str(incident.property_items.get().value) == "120.00"
    for text in ("Vic", "B-XY 123", "Door glass", "x.png", "Also the window", "corrected"):
        assert text in html, text


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_list_page_query_count_is_the_same_for_10_and_200_incidents(personas, client_for):
    client = client_for("manager_ab")
    for _ in range(10):
        submitted(personas)
    few = _queries(client, reverse("incident-list"))
    export_few = _queries(client, reverse("incident-export"))
    queue_few = _queries(client_for("supervisor_a"), reverse("incident-review-queue"))
    for _ in range(190):
        submitted(personas)
    many = _queries(client, reverse("incident-list"))
    export_many = _queries(client, reverse("incident-export"))
    queue_many = _queries(client_for("supervisor_a"), reverse("incident-review-queue"))
    assert (many, export_many, queue_many) == (few, export_few, queue_few)
    print(f"list page queries: {few} for 10 and 200 incidents; CSV {export_few}; queue {queue_few}")


@pytest.mark.django_db
def test_the_site_time_zone_does_not_leak_into_the_next_request(personas, client_for):
    from django.utils import timezone

    client_for("guard_a").get(reverse("incident-new"))
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.django_db
def test_incident_page_and_history_queries_do_not_grow_with_supplements(personas, client_for):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    pages = [
        reverse("incident-page", args=[incident.pk]),
        reverse("incident-history", args=[incident.pk]),
    ]
    few = [_queries(client, url) for url in pages]
    for n in range(15):
        svc.add_supplement(incident, personas.guard_a, text=f"note {n}", reason="more")
        svc.add_attachment(
            incident, personas.guard_a, upload=SimpleUploadedFile(f"{n}.png", png_bytes())
        )
    many = [_queries(client, url) for url in pages]
    assert many == few


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "manager_ab"])
def test_incident_page_ids_are_unique_so_every_label_finds_its_input(personas, client_for, who):
    import re

    for incident in (draft(personas), submitted(personas)):
        html = client_for(who).get(reverse("incident-page", args=[incident.pk])).content.decode()
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.django_db
def test_correction_on_the_page_takes_a_category_by_name_and_refuses_unknown(personas, client_for):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-correct", args=[incident.pk])
    data = {"field": "category", "value": "arson", "reason": "wrong list", "version": 0}
    response = client.post(url, {**data, "version": incident.version}, follow=True)
    assert "No category called" in response.content.decode()
    client.post(url, {**data, "value": "fire", "version": incident.version})
    incident.refresh_from_db()
    assert incident.category.name == "Fire"
    row = Incident.history.filter(id=incident.pk).latest()
    assert row.history_change_reason == "correction: wrong list"


@pytest.mark.django_db
def test_stale_correction_on_the_page_is_refused_with_both_versions(personas, client_for):
    incident = submitted(personas)
    stale = incident.version
    svc.correct_field(incident, personas.guard_a, field="severity", value="high", reason="r")
    response = client_for("supervisor_a").post(
        reverse("incident-correct", args=[incident.pk]),
        {"field": "severity", "value": "low", "reason": "back", "version": stale},
        follow=True,
    )
    assert response.status_code == 200
    assert f"you edited version {stale}, the stored version is {stale + 1}" in (
        response.content.decode()
    )
    assert Incident.objects.get(pk=incident.pk).severity == "high"


@pytest.mark.django_db
def test_redacted_copy_uploaded_on_the_page_points_at_its_original(personas, client_for):
    incident = submitted(personas)
    original = svc.add_attachment(
        incident, personas.guard_a, upload=SimpleUploadedFile("face.png", png_bytes())
    )
    client_for("supervisor_a").post(
        reverse("incident-attach", args=[incident.pk]),
        {
            "file": SimpleUploadedFile("face-blurred.png", png_bytes(colour=(0, 0, 0))),
            "description": "faces blurred",
            "redacted_from": original.pk,
        },
    )
    copy = Attachment.objects.exclude(pk=original.pk).get()
    assert copy.redacted_from == original
    html = client_for("guard_a").get(reverse("incident-page", args=[incident.pk])).content.decode()
    assert f"redacted copy of #{original.pk}" in html


@pytest.mark.django_db
def test_auditor_reads_incidents_but_cannot_report(personas, client_for):
    incident = submitted(personas)
    client = client_for("auditor_a")
    assert client.get(reverse("incident-new")).status_code == 403
    assert client.get(reverse("incident-page", args=[incident.pk])).status_code == 200
    response = client.post(
        reverse("incident-supplement", args=[incident.pk]), {"text": "x", "reason": "y"}
    )
    assert response.status_code == 403
    assert not incident.supplements.exists()


@pytest.mark.django_db
def test_a_time_is_corrected_in_the_sites_own_time_with_a_date_control(personas, client_for):
    from datetime import UTC, datetime

    incident = submitted(personas)
    client = client_for("guard_a")
    page = client.get(reverse("incident-page", args=[incident.pk])).content.decode()
    url = reverse("incident-correct-field", args=[incident.pk, "occurred_from"])
    assert url in page
    form = client.get(url).content.decode()
    assert 'type="datetime-local"' in form
    # Site A is in Europe/Berlin: 03:10 there on 26 November is 02:10 UTC.
    response = client.post(
        url,
        {"value": "2026-11-26T03:10", "reason": "clock read wrong", "version": incident.version},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.occurred_from == datetime(2026, 11, 26, 2, 10, tzinfo=UTC)
    row = Incident.history.filter(id=incident.pk).latest()
    assert row.history_change_reason == "correction: clock read wrong"


@pytest.mark.django_db
def test_a_zone_is_corrected_from_the_sites_own_zones_only(personas, client_for):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-correct-field", args=[incident.pk, "zone"])
    select = _select(client.get(url).content.decode(), "value")
    assert personas.zone_a.name in select and personas.zone_b.name not in select
    response = client.post(
        url, {"value": personas.zone_b.pk, "reason": "moved", "version": incident.version}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    client.post(url, {"value": personas.zone_a.pk, "reason": "dock", "version": incident.version})
    incident.refresh_from_db()
    assert incident.zone == personas.zone_a


@pytest.mark.django_db
def test_typed_correction_names_missing_reason_stale_version_and_unknown_field(
    personas, client_for
):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-correct-field", args=[incident.pk, "severity"])
    html = client.post(url, {"value": "high", "version": incident.version}).content.decode()
    assert "This field is required" in html
    stale = incident.version
    svc.correct_field(incident, personas.guard_a, field="severity", value="critical", reason="r")
    html = client.post(url, {"value": "low", "reason": "x", "version": stale}).content.decode()
    assert f"you edited version {stale}, the stored version is {stale + 1}" in html
    assert Incident.objects.get(pk=incident.pk).severity == "critical"
    narrative = reverse("incident-correct-field", args=[incident.pk, "narrative"])
    assert client.get(narrative).status_code == 404
    assert client_for("outsider_c").get(url).status_code == 404
    assert client_for("auditor_a").get(url).status_code in (403, 404)
