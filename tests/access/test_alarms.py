"""Alarms: one per matching event, acknowledged and resolved with who and a note in history,
escalated once by check_alarms."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from facility_log.models import Alarm, AlarmState
from facility_log.services import access
from facility_log.services.audit import audited_change
from tests.access.helpers import door, forced_open_at, ingest, row


@pytest.mark.django_db
def test_forced_open_event_raises_exactly_one_alarm(personas):
    event = forced_open_at(personas.site_a, personas.zone_a)
    alarm = Alarm.objects.get()
    assert (alarm.event, alarm.state, alarm.event_type) == (event, AlarmState.NEW, "forced_open")
    ingest(personas.site_a, [row(event_type="forced_open", external_id="forced-1")])
    assert Alarm.objects.count() == 1


@pytest.mark.django_db
def test_ordinary_events_raise_no_alarm(personas):
    door(personas.site_a, personas.zone_a)
    types = ["granted", "denied", "door_opened", "door_closed", "rex", "online"]
    ingest(
        personas.site_a,
        [row(line=n, event_type=t, external_id=f"x{n}") for n, t in enumerate(types)],
    )
    assert Alarm.objects.count() == 0


@pytest.mark.django_db
def test_acknowledging_records_user_and_note_in_history(personas):
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    access.acknowledge_alarm(alarm, personas.supervisor_a, note="Guard sent to the door")
    latest = alarm.history.latest()
    assert latest.state == AlarmState.ACKNOWLEDGED
    assert latest.history_user == personas.supervisor_a
    assert latest.history_user_name == "supervisor_a"
    assert latest.acknowledge_note == "Guard sent to the door"
    assert "Guard sent to the door" in latest.history_change_reason
    access.resolve_alarm(alarm, personas.manager_ab, note="Door closed, nothing taken")
    latest = alarm.history.latest()
    assert (latest.state, latest.history_user_name) == (AlarmState.RESOLVED, "manager_ab")
    assert latest.resolution_note == "Door closed, nothing taken"


@pytest.mark.django_db
def test_acknowledge_needs_a_note_and_a_reviewer(personas):
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    with pytest.raises(ValidationError):
        access.acknowledge_alarm(alarm, personas.supervisor_a, note="  ")
    with pytest.raises(PermissionDenied):
        access.acknowledge_alarm(alarm, personas.guard_a, note="seen")
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.NEW


@pytest.mark.django_db
def test_console_acknowledges_in_one_post_with_a_quick_note(personas, client_for):
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    client = client_for("supervisor_a")
    feed = client.get(reverse("access-alarm-feed")).json()
    assert [a["id"] for a in feed["alarms"]] == [alarm.pk]
    assert feed["alarms"][0]["can_acknowledge"] is True
    response = client.post(
        feed["alarms"][0]["acknowledge_url"],
        {"note": "Checked on camera: no threat"},
        HTTP_ACCEPT="application/json",
    )
    assert response.json() == {"id": alarm.pk, "state": "acknowledged"}
    alarm.refresh_from_db()
    assert (alarm.acknowledged_by, alarm.acknowledge_note) == (
        personas.supervisor_a,
        "Checked on camera: no threat",
    )


@pytest.mark.django_db
def test_guard_sees_alarm_but_cannot_acknowledge(personas, client_for):
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    client = client_for("guard_a")
    assert client.get(reverse("access-alarm-feed")).json()["alarms"][0]["can_acknowledge"] is False
    url = reverse("access-alarm-acknowledge", args=[alarm.pk])
    assert client.post(url, {"note": "seen"}).status_code == 403
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.NEW


@pytest.mark.django_db
def test_console_lists_newest_first(personas, client_for):
    door(personas.site_a, personas.zone_a)
    ingest(
        personas.site_a,
        [
            row(line=2, event_type="tamper", external_id="t1", occurred_at="2026-03-28T22:00:00Z"),
            row(line=3, event_type="duress", external_id="t2", occurred_at="2026-03-28T23:00:00Z"),
        ],
    )
    feed = client_for("manager_ab").get(reverse("access-alarm-feed")).json()
    assert [a["type"] for a in feed["alarms"]] == ["Duress", "Tamper"]


@pytest.mark.django_db
def test_a_switched_off_rule_raises_no_alarm(personas):
    door_a = door(personas.site_a, personas.zone_a)
    access.set_alarm_rule(
        personas.site_a,
        personas.manager_ab,
        event_type="held_open",
        door=door_a,
        is_active=False,
        reason="dock door is propped open during deliveries",
    )
    ingest(personas.site_a, [row(event_type="held_open", external_id="h1")])
    ingest(personas.site_a, [row(event_type="tamper", external_id="t1")])
    assert list(Alarm.objects.values_list("event_type", flat=True)) == ["tamper"]


def _emails(personas) -> None:
    addresses = [
        (personas.supervisor_a, "sam@example.org"),
        (personas.manager_ab, "mia@example.org"),
        (personas.guard_a, "gina@example.org"),
    ]
    for person, email in addresses:
        person.email = email
        with audited_change(personas.admin, "test: email address"):
            person.save()


@pytest.mark.django_db
def test_alarm_is_not_escalated_before_its_delay(personas):
    _emails(personas)
    forced_open_at(personas.site_a, personas.zone_a)
    call_command("check_alarms", stdout=StringIO())
    assert mail.outbox == []


@pytest.mark.django_db
def test_check_alarms_escalates_once_to_supervisors_and_managers(
    personas, django_capture_on_commit_callbacks
):
    _emails(personas)
    access.set_alarm_rule(
        personas.site_a,
        personas.manager_ab,
        event_type="forced_open",
        escalate_after_minutes=0,
        reason="forced doors escalate at once",
    )
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_alarms", stdout=StringIO())
    # One email to each supervisor and manager (each person's own notice), none to the guard.
    assert sorted(m.to[0] for m in mail.outbox) == ["mia@example.org", "sam@example.org"]
    assert all("Forced open" in m.subject for m in mail.outbox)
    assert f"/access/alarms/{alarm.pk}/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_alarms", stdout=StringIO())
    assert len(mail.outbox) == 2
    alarm.refresh_from_db()
    assert alarm.escalated_at is not None
    assert "escalated by email" in alarm.history.latest().history_change_reason


@pytest.mark.django_db
def test_acknowledged_alarm_is_not_escalated(personas):
    personas.supervisor_a.email = "sam@example.org"
    personas.supervisor_a.save()
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    access.acknowledge_alarm(alarm, personas.supervisor_a, note="on it")
    now = alarm.raised_at + timedelta(hours=2)
    assert access.alarms_to_escalate(now) == []
