"""The panic button: a press raises one duress alarm at once, at the top of the console,
with the site, the guard's shift and the last checkpoint scanned — and nothing about where
the guard is beyond that; sent again, it is the same alarm; the outsider reaches nothing."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from facility_log.models import Alarm, PanicAlert
from facility_log.services import links, panic, rounds
from facility_log.services import shifts as shift_services
from tests.access.helpers import door, ingest, row
from tests.rounds_helpers import night_route, scan

pytestmark = pytest.mark.django_db
SYNC = "/api/v1/sync/"


def _on_shift_with_a_scan(p):
    route, checkpoints = night_route(p, names=("Gate", "Dock"), minutes=(0, 10))
    shift, _ = shift_services.start_shift(
        p.site_a,
        p.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now() - timedelta(hours=1),
    )
    run = rounds.start_run(route, p.guard_a, started_at=timezone.now() - timedelta(minutes=30))
    scan(p.guard_a, run, checkpoints[1], timezone.now() - timedelta(minutes=20))
    return shift, checkpoints


def _press(**extra) -> dict:
    body = {
        "type": "panic",
        "client_uuid": str(uuid.uuid4()),
        "site": "ALPHA",
        "pressed_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
    }
    body.update(extra)
    return body


def test_a_press_raises_one_duress_alarm_with_shift_and_last_checkpoint(personas, api_client_for):
    shift, checkpoints = _on_shift_with_a_scan(personas)
    client = api_client_for("guard_a")
    press = _press(shift_uuid=str(shift.client_uuid))
    for _ in range(3):  # retried: still one alarm
        answer = client.post(SYNC, {"records": [press]}, format="json")
        assert answer.status_code == 200, answer.content
    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == [200]
    alarm = Alarm.objects.get()
    assert (alarm.event_type, alarm.door, alarm.event, alarm.site) == (
        "duress",
        None,
        None,
        personas.site_a,
    )
    assert answer.json()["results"][0]["id"] == alarm.pk
    record = alarm.panic
    assert (record.guard, record.shift) == (personas.guard_a, shift)
    # Not sent by the tablet: the server's own last scan of this guard in this shift.
    assert record.last_checkpoint == checkpoints[1] and record.last_scanned_at is not None
    history = alarm.history.latest()
    assert history.history_user_name == "guard_a" and "panic" in history.history_change_reason
    # No field of the press or of its alarm says where the guard is beyond the checkpoint.
    names = {f.name for f in PanicAlert._meta.get_fields()}
    assert not names & {"latitude", "longitude", "location", "position", "gps", "accuracy"}


def test_the_tablets_last_checkpoint_wins_and_a_foreign_one_is_refused(personas, api_client_for):
    _shift, checkpoints = _on_shift_with_a_scan(personas)
    client = api_client_for("guard_a")
    when = (timezone.now() - timedelta(minutes=2)).isoformat()
    sent = _press(last_checkpoint=checkpoints[0].pk, last_scanned_at=when)
    assert (
        client.post(SYNC, {"records": [sent]}, format="json").json()["results"][0]["status"] == 201
    )
    assert PanicAlert.objects.get().last_checkpoint == checkpoints[0]
    at_b = rounds.create_checkpoint(
        personas.site_b, personas.manager_ab, zone=personas.zone_b, name="Far", reason="test"
    )
    bad = _press(last_checkpoint=at_b.pk)
    result = client.post(SYNC, {"records": [bad]}, format="json").json()["results"][0]
    assert result["status"] == 400 and "last_checkpoint" in result["errors"]
    position = client.post(SYNC, {"records": [_press(latitude=52.5)]}, format="json")
    assert position.status_code == 400  # no field for a position: refused, nothing stored
    assert Alarm.objects.count() == 1


def test_a_shift_not_yet_on_the_server_does_not_hold_the_press_back(personas, api_client_for):
    client = api_client_for("guard_a")
    press = _press(shift_uuid=str(uuid.uuid4()))
    result = client.post(SYNC, {"records": [press]}, format="json").json()["results"][0]
    assert result["status"] == 201
    assert Alarm.objects.get().panic.shift is None


def test_the_same_uuid_for_another_press_is_refused(personas, api_client_for):
    client = api_client_for("guard_a")
    press = _press()
    client.post(SYNC, {"records": [press]}, format="json")
    other = dict(press, pressed_at=timezone.now().isoformat())
    result = client.post(SYNC, {"records": [other]}, format="json").json()["results"][0]
    assert result["status"] == 422
    assert Alarm.objects.count() == 1


def test_the_outsider_and_the_auditor_raise_nothing_at_site_a(personas, api_client_for):
    outsider = api_client_for("outsider_c")
    result = outsider.post(SYNC, {"records": [_press()]}, format="json").json()["results"][0]
    assert result["status"] == 400 and "site" in result["errors"]
    assert (
        outsider.post(
            "/api/v1/panic/", {k: v for k, v in _press().items() if k != "type"}, format="json"
        ).status_code
        == 422
    )
    auditor = api_client_for("auditor_a")
    result = auditor.post(SYNC, {"records": [_press()]}, format="json").json()["results"][0]
    assert result["status"] in (400, 403)
    assert not Alarm.objects.exists() and not PanicAlert.objects.exists()
    assert outsider.get("/api/v1/alarms/").json()["results"] == []


def test_the_panic_endpoint_answers_201_then_200_with_the_alarm(personas, api_client_for):
    client = api_client_for("guard_a")
    body = {k: v for k, v in _press(silent=True).items() if k != "type"}
    first = client.post("/api/v1/panic/", body, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["kind"], first.json()["priority"]) == ("duress", 1)
    assert first.json()["panic"]["guard"] == "guard_a" and first.json()["panic"]["silent"]
    again = client.post("/api/v1/panic/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_panic_alarm_tops_the_console_and_opens_a_critical_incident(personas, client_for):
    shift, checkpoints = _on_shift_with_a_scan(personas)
    door(personas.site_a, personas.zone_a)
    ingest(personas.site_a, [row(event_type="forced_open", external_id="newer")])
    alarm, created = panic.raise_panic(
        personas.guard_a,
        site=personas.site_a,
        client_uuid=uuid.uuid4(),
        pressed_at=timezone.now() - timedelta(hours=2),  # older than the forced door
    )
    assert created
    feed = client_for("supervisor_a").get("/access/alarms/feed/").json()["alarms"]
    assert feed[0]["id"] == alarm.pk
    assert feed[0]["panic"]["last_checkpoint"] == "Dock"
    console = client_for("supervisor_a").get("/access/alarms/").content.decode()
    console = console[console.index('id="alarm-list"') :]
    assert console.index(f'data-id="{alarm.pk}"') < console.index("Forced open")
    guard = personas.guard_a
    assert f"Guard: {guard.get_full_name() or guard.get_username()} · last scan " in console
    assert f'id="tick-{alarm.pk}"' in console and f"Tick alarm #{alarm.pk}" in console
    page = client_for("supervisor_a").get(f"/access/alarms/{alarm.pk}/").content.decode()
    assert "panic button" in page and "Dock" in page
    incident = links.open_incident_from_alarm(alarm, personas.supervisor_a)
    assert incident.severity == "critical" and incident.zone == checkpoints[1].zone


def test_the_panic_endpoint_refuses_a_body_as_the_api_contract_says(personas, api_client_for):
    client = api_client_for("guard_a")
    body = {k: v for k, v in _press().items() if k != "type"}
    not_a_bool = client.post("/api/v1/panic/", dict(body, silent=0), format="json")
    assert not_a_bool.status_code == 400 and "silent" in not_a_bool.json()
    both = client.post(
        "/api/v1/panic/", dict(body, shift=1, shift_uuid=_press()["client_uuid"]), format="json"
    )
    assert both.status_code == 422 and "shift" in both.json()
    assert not Alarm.objects.exists()


def test_the_purge_keeps_a_shift_in_which_the_panic_button_was_pressed(personas):
    from facility_log.models import Shift
    from facility_log.services import retention
    from tests.shifts_helpers import worked

    plain = worked(personas, at=timezone.now() - timedelta(days=3))
    shift, _checkpoints = _on_shift_with_a_scan(personas)
    panic.raise_panic(
        personas.guard_a, site=personas.site_a, client_uuid=uuid.uuid4(), pressed_at=timezone.now()
    )
    shift_services.end_shift(shift, personas.guard_a, ended_at=timezone.now())
    retention.purge_expired(personas.admin, apply=True, now=timezone.now() + timedelta(days=3650))
    assert not Shift.objects.filter(pk=plain.pk).exists()  # the purge did run on shifts
    assert Shift.objects.filter(pk=shift.pk).exists()
    assert PanicAlert.objects.get().shift == shift


def test_a_press_tells_supervisors_and_managers_at_once_and_escalates_without_a_door(
    personas, api_client_for
):
    from facility_log.models import Notification
    from facility_log.services import access
    from facility_log.services.accounts import system_actor

    shift, _ = _on_shift_with_a_scan(personas)
    api_client_for("guard_a").post(
        SYNC, {"records": [_press(shift_uuid=str(shift.client_uuid))]}, format="json"
    )
    told = Notification.objects.filter(kind="urgent_alarm")
    assert sorted(n.recipient.username for n in told) == ["manager_ab", "supervisor_a"]
    assert "duress" in told[0].subject.lower()
    # Unacknowledged past its limit, the panic alarm (no door) escalates like any other.
    alarm = Alarm.objects.get()
    assert access.escalate_alarm(alarm, system_actor()) is not None
    late = Notification.objects.filter(kind="alarm_unacknowledged").first()
    assert "panic button" in late.subject and "Gate" not in late.subject
