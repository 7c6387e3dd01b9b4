"""Incidents opened from alarms and checkpoint observations, and the door events and round
scans shown around an incident (page and PDF)."""

import io
import shutil
import subprocess
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Incident, IncidentSource
from facility_log.models.base import HistoryBypassError
from facility_log.services import links
from facility_log.services.incident_package import build_incident_package
from facility_log.services.incidents import submit_incident
from tests.access.helpers import ingest, row, site_a_alarm
from tests.rounds_helpers import site_a_rounds


@pytest.mark.django_db
def test_supervisor_opens_one_incident_from_an_alarm_with_zone_time_and_event(personas):
    alarm = site_a_alarm(personas)
    incident = links.open_incident_from_alarm(alarm, personas.supervisor_a)
    assert (incident.site, incident.zone, incident.status) == (
        personas.site_a,
        alarm.door.zone,
        "draft",
    )
    assert incident.occurred_from == alarm.event.occurred_at
    assert incident.category.name == "Alarm"
    assert links.open_incident_from_alarm(alarm, personas.supervisor_a) == incident
    assert IncidentSource.objects.get().alarm == alarm
    nearby = links.incident_surroundings(incident)
    assert [n.linked for n in nearby if n.when == alarm.event.occurred_at] == [True]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "auditor_a", "outsider_c"])
def test_only_supervisors_and_managers_open_incidents_from_alarms(personas, who):
    alarm = site_a_alarm(personas)
    with pytest.raises(PermissionDenied):
        links.open_incident_from_alarm(alarm, personas.all_people()[who])
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_alarm_page_button_opens_the_incident(personas, client_for):
    alarm = site_a_alarm(personas)
    client = client_for("supervisor_a")
    page = client.get(reverse("access-alarm-page", args=[alarm.pk])).content.decode()
    url = reverse("access-alarm-open-incident", args=[alarm.pk])
    assert url in page
    response = client.post(url)
    incident = Incident.objects.get()
    assert response["Location"] == reverse("incident-page", args=[incident.pk])
    page = client.get(reverse("access-alarm-page", args=[alarm.pk])).content.decode()
    assert "Go to the incident opened from this alarm" in page


@pytest.mark.django_db
def test_guard_reports_an_observation_from_a_checkpoint_scan(personas, client_for):
    scan = site_a_rounds(personas).scan
    client = client_for("guard_a")
    run_page = client.get(reverse("round-run", args=[scan.run_id])).content.decode()
    url = reverse("round-scan-report-incident", args=[scan.pk])
    assert url in run_page
    response = client.post(url)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert (incident.site, incident.zone, incident.occurred_from) == (
        personas.site_a,
        scan.checkpoint.zone,
        scan.effective_time,
    )
    assert incident.location_text == scan.checkpoint.name
    assert client.post(url).status_code == 302 and Incident.objects.count() == 1


@pytest.mark.django_db
def test_links_are_append_only(personas):
    incident = links.open_incident_from_alarm(site_a_alarm(personas), personas.manager_ab)
    source = IncidentSource.objects.get(incident=incident)
    with pytest.raises(HistoryBypassError):
        source.delete()


def _events_around(p, incident, minutes: list[int]):
    rows = [
        row(
            line=n + 2,
            external_id=f"near-{n}",
            door="D-1",
            event_type="granted",
            cardholder="Pat Holder",
            occurred_at=(incident.occurred_from + timedelta(minutes=m)).isoformat(),
        )
        for n, m in enumerate(minutes)
    ]
    ingest(p.site_a, rows)


@pytest.mark.django_db
def test_surroundings_hold_the_zones_door_events_and_scans_within_30_minutes(personas):
    alarm = site_a_alarm(personas)
    incident = links.open_incident_from_alarm(alarm, personas.supervisor_a)
    _events_around(personas, incident, [-45, -20, 10, 25, 40])
    shown = [n for n in links.incident_surroundings(incident) if not n.linked]
    offsets = sorted(
        round((n.when - incident.occurred_from).total_seconds() / 60)
        for n in shown
        if n.kind.startswith("door")
    )
    assert offsets == [-20, 10, 25]


@pytest.mark.django_db
def test_incident_page_shows_surroundings_in_constant_queries(personas, client_for):
    incident = links.open_incident_from_alarm(site_a_alarm(personas), personas.supervisor_a)
    client = client_for("supervisor_a")
    url = reverse("incident-page", args=[incident.pk])
    _events_around(personas, incident, [1])
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    assert "Around this incident" in html and "Pat Holder" in html
    _events_around(personas, incident, list(range(2, 22)))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.mark.django_db
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_police_pdf_lists_the_linked_door_event(personas, tmp_path):
    alarm = site_a_alarm(personas)
    incident = links.open_incident_from_alarm(alarm, personas.supervisor_a)
    incident = submit_incident(incident, personas.supervisor_a)
    data, _ = build_incident_package(incident, personas.manager_ab, recipient="P", reason="r")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(zipfile.ZipFile(io.BytesIO(data)).read("report.pdf"))
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "Door events and round scans around the incident" in text
    assert "(linked)" in text
    assert alarm.door.name in text
