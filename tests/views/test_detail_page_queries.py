"""The detail pages (incident, alarm, round, shift report) cost the same queries for one
related row as for thirty, and show every row: the incident's persons, vehicles, property,
supplements, attachments, corrections and surroundings; the alarm's history and ticks; the
run's scans. Also what the rows written in one pass must keep saying (docs/performance.md)."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Alarm
from facility_log.services import incidents as svc
from facility_log.services import lone_worker, panic, procedures
from facility_log.services import shifts as shift_services
from facility_log.services.accounts import system_actor
from tests.access.helpers import door, forced_open_at, ingest, row
from tests.incident_factories import draft, png_bytes
from tests.onsite.procedure_helpers import alarm_procedure
from tests.rounds_helpers import night_route, scan, walk

pytestmark = pytest.mark.django_db


def _page(client, url) -> tuple[int, str]:
    client.get(url)  # the session and caches warm, as on a second visit
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


# --- the incident page ---------------------------------------------------------------------


def _incident_with(p, n: int, occurred, gate=None):
    """An incident with `n` of each related kind, around it `n` door events and scans (on
    `gate`, a route and its checkpoint)."""
    incident = draft(p, occurred_from=occurred)
    for i in range(n):
        svc.add_person(incident, p.guard_a, role="witness", name=f"Person {i}")
        svc.add_vehicle(incident, p.guard_a, registration=f"CAR-{i}")
        svc.add_property_item(incident, p.guard_a, kind="stolen", description=f"Item {i}")
    incident = svc.submit_incident(incident, p.guard_a)
    for i in range(n):
        svc.add_supplement(incident, p.guard_a, text=f"Note {i}", reason="more")
        svc.add_attachment(
            incident,
            p.guard_a,
            upload=SimpleUploadedFile(f"f{i}.png", png_bytes(colour=(i, 30, 30))),
        )
        incident.refresh_from_db()
        svc.correct_field(
            incident, p.supervisor_a, field="location_text", value=f"Spot {i}", reason=f"r{i}"
        )
    door(p.site_a, p.zone_a)
    ingest(
        p.site_a,
        [
            row(
                line=i + 2,
                external_id=f"around-{uuid.uuid4()}",
                occurred_at=(occurred + timedelta(seconds=10 * i)).isoformat(),
                event_type="denied",
                reason="expired",
                cardholder=f"Holder {i}",
            )
            for i in range(n)
        ],
    )
    route, checkpoints = gate or night_route(p, names=("Gate",), minutes=(0,))
    for i in range(n):
        walk(p, route, checkpoints, occurred + timedelta(seconds=10 * i), (0,))
    return incident


def test_the_incident_page_costs_the_same_queries_for_1_and_30_related_rows(personas, client_for):
    client = client_for("supervisor_a")
    occurred = timezone.now() - timedelta(hours=3)
    gate = night_route(personas, names=("Gate",), minutes=(0,))
    one = _incident_with(personas, 1, occurred, gate)
    many = _incident_with(personas, 30, occurred - timedelta(days=2), gate)
    few_count, _few = _page(client, reverse("incident-page", args=[one.pk]))
    many_count, html = _page(client, reverse("incident-page", args=[many.pk]))
    assert many_count == few_count
    for i in range(30):
        for text in (f"Person {i}", f"CAR-{i}", f"Item {i}", f"Note {i} (more)", f"f{i}.png"):
            assert text in html, text
        assert f"correction: r{i}" in html  # the timeline's corrections
        assert f"<td>Holder {i} Expired</td>" in html
    around = html[html.index('id="around-h"') :]
    assert around.count("<tr><td>") == 60  # 30 door events and 30 scans
    assert around.count("door: Access denied") == 30 and around.count("<td>round scan</td>") == 30


def test_the_incident_page_shows_no_form_it_does_not_offer(personas, client_for):
    # An approved incident seen by its site's guard: no draft forms, but a supplement and an
    # attachment may still be added (the forms are only built where the page shows them).
    incident = _incident_with(personas, 1, timezone.now() - timedelta(hours=1))
    svc.approve_incident(incident, personas.supervisor_a, comment="fine")
    html = client_for("guard_a").get(reverse("incident-page", args=[incident.pk])).content.decode()
    assert 'id="supplement_text"' in html and 'id="attach_file"' in html
    assert "persons-role" not in html and "Add a person" not in html
    editable = draft(personas)
    html = client_for("guard_a").get(reverse("incident-page", args=[editable.pk])).content.decode()
    assert 'id="id_persons-role"' in html and "Add a vehicle" in html


def test_the_surroundings_say_what_the_template_said(personas, client_for):
    occurred = timezone.now() - timedelta(hours=1)
    incident = _incident_with(personas, 1, occurred)
    html = client_for("supervisor_a").get(reverse("incident-page", args=[incident.pk]))
    html = html.content.decode()
    print(html[html.index('id="around-h"') :])
    site = personas.site_a
    from facility_log.templatetags.facility_log_tags import site_time

    event_cells = (
        f"<tr><td>{site_time(occurred, site)}</td><td>door: Access denied</td>"
        f"<td>Door D-1</td><td>Holder 0 Expired</td></tr>"
    )
    assert event_cells in html
    assert "<td>round scan</td><td>Gate</td><td>guard_a</td></tr>" in html


# --- the alarm page ------------------------------------------------------------------------


def _alarm_with_ticks(p, n: int, external_id: str) -> Alarm:
    alarm_procedure(p)
    door(p.site_a, p.zone_a)
    ingest(p.site_a, [row(event_type="forced_open", external_id=external_id)])
    alarm = Alarm.objects.get(event__external_id=external_id)
    for i in range(n):
        procedures.tick_step(p.supervisor_a, step_number=1 + i % 3, alarm=alarm)
        procedures.tick_step(
            p.supervisor_a, step_number=1 + i % 3, alarm=alarm, undo=True, reason=f"why {i}"
        )
    return alarm


def test_the_alarm_page_costs_the_same_queries_for_1_and_30_ticks(personas, client_for):
    client = client_for("supervisor_a")
    one = _alarm_with_ticks(personas, 1, "one")
    many = _alarm_with_ticks(personas, 30, "many")
    few_count, _ = _page(client, reverse("access-alarm-page", args=[one.pk]))
    many_count, html = _page(client, reverse("access-alarm-page", args=[many.pk]))
    assert many_count == few_count
    for i in range(30):
        assert f"why {i}" in html
    assert "Check the door on camera" in html  # the checklist
    assert "Open an incident from this alarm" in html


def test_the_alarm_page_links_the_incident_opened_from_it(personas, client_for):
    from facility_log.services import links

    alarm = forced_open_at(personas.site_a, personas.zone_a)
    alarm = Alarm.objects.get(event__external_id="forced-1")
    incident = links.open_incident_from_alarm(alarm, personas.supervisor_a)
    html = client_for("supervisor_a").get(reverse("access-alarm-page", args=[alarm.pk]))
    html = html.content.decode()
    assert reverse("incident-page", args=[incident.pk]) in html
    assert "Open an incident from this alarm" not in html


def test_the_alarm_page_shows_the_sites_own_priority(personas, client_for):
    from facility_log.services import alarm_priorities

    forced_open_at(personas.site_a, personas.zone_a)
    alarm = Alarm.objects.get()
    url = reverse("access-alarm-page", args=[alarm.pk])
    client = client_for("supervisor_a")
    default = alarm_priorities.default_priority("forced_open")
    assert str(alarm_priorities.PRIORITY_NAMES[default]) in client.get(url).content.decode()
    own = 1 if default != 1 else 3
    alarm_priorities.set_alarm_priority(
        personas.site_a, personas.manager_ab, event_type="forced_open", priority=own, reason="r"
    )
    html = client.get(url).content.decode()
    assert f"priority {alarm_priorities.PRIORITY_CLASSES[own]}" in html


def test_a_panic_alarms_page_names_the_guard_shift_and_checkpoint(personas, client_for):
    route, checkpoints = night_route(personas, names=("Gate", "Dock"), minutes=(0, 10))
    shift, _ = shift_services.start_shift(
        personas.site_a,
        personas.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now() - timedelta(hours=1),
    )
    run = walk(
        personas, route, checkpoints, timezone.now() - timedelta(minutes=30), [], finish=False
    )
    scan(personas.guard_a, run, checkpoints[1], timezone.now() - timedelta(minutes=20))
    alarm, _ = panic.raise_panic(
        personas.guard_a,
        site=personas.site_a,
        client_uuid=uuid.uuid4(),
        pressed_at=timezone.now() - timedelta(minutes=5),
    )
    count, html = _page(client_for("supervisor_a"), reverse("access-alarm-page", args=[alarm.pk]))
    assert "panic button" in html and "Dock (" in html
    assert reverse("shift-report", args=[shift.pk]) in html
    assert "guard_a" in html
    forced_open_at(personas.site_a, personas.zone_a)
    door_alarm = Alarm.objects.get(event__external_id="forced-1")
    door_count, _ = _page(
        client_for("supervisor_a"), reverse("access-alarm-page", args=[door_alarm.pk])
    )
    assert count == door_count + 1  # the press and its guard, shift and checkpoint: one read


def test_a_missed_check_ins_alarm_page_says_since_when_and_links_the_shift(personas, client_for):
    from unittest import mock

    shift, _ = shift_services.start_shift(
        personas.site_a,
        personas.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now() - timedelta(hours=1),
    )
    policy = lone_worker.set_lone_worker_policy(
        personas.site_a,
        personas.manager_ab,
        enabled=True,
        interval_minutes=30,
        grace_minutes=5,
        reason="alone at night",
    )
    with mock.patch.object(timezone, "now", return_value=policy.changed_at + timedelta(minutes=36)):
        lone_worker.raise_missed_check_ins(system_actor())
    alarm = Alarm.objects.get(missed_check_in__isnull=False)
    _count, html = _page(client_for("supervisor_a"), reverse("access-alarm-page", args=[alarm.pk]))
    assert "Check-in due" in html and "Last sign of life" in html
    assert reverse("shift-report", args=[shift.pk]) in html


# --- the round screen ----------------------------------------------------------------------


def test_the_run_page_costs_the_same_queries_for_1_and_30_scans(personas, client_for):
    names = tuple(f"Point {i}" for i in range(31))
    route, checkpoints = night_route(personas, names=names, minutes=tuple(range(31)))
    start = timezone.now() - timedelta(hours=1)
    one = walk(personas, route, checkpoints, start, [0], finish=False)
    many = walk(personas, route, checkpoints, start, list(range(30)), finish=False)
    client = client_for("supervisor_a")
    few_count, few = _page(client, reverse("round-run", args=[one.pk]))
    many_count, html = _page(client, reverse("round-run", args=[many.pk]))
    assert many_count == few_count
    assert html.count("round-scan-report-incident") == 0  # a URL, not its name
    assert html.count('aria-label="Report an incident at Point ') == 30
    # A form (with its CSRF input) per scan, beside the page's own forms.
    assert html.count('name="csrfmiddlewaretoken"') == few.count('name="csrfmiddlewaretoken"') + 29
    assert html.count('<li class="done">') == 30 and html.count('<li class="">') == 1
    assert "Point 30 <span" in html and "— due " in html
    assert few.count('<li class="">') == 30


def test_the_run_page_escapes_what_a_manager_typed(personas, client_for):
    route, checkpoints = night_route(personas, names=("<b>Gate</b>",), minutes=(0,))
    run = walk(
        personas, route, checkpoints, timezone.now() - timedelta(minutes=10), [0], finish=False
    )
    html = client_for("supervisor_a").get(reverse("round-run", args=[run.pk])).content.decode()
    assert "<b>Gate</b>" not in html and "&lt;b&gt;Gate&lt;/b&gt;" in html
