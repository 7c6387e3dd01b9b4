"""Guided procedures: managers write the steps per alarm type or incident category (versioned,
with reasons); supervisors tick them on an alarm, reporters on an incident; every tick is an
append-only record with who and when, in the record's history and the ledger, and taking one
back is a new record with a reason; the outsider reaches nothing."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import LedgerEntry, Procedure, ProcedureTick
from facility_log.models.base import HistoryBypassError
from facility_log.services import history, procedures
from tests.access.helpers import door, ingest, row, site_a_alarm
from tests.incident_factories import category, draft
from tests.onsite.procedure_helpers import (
    FORCED_STEPS,
    TRESPASS_STEPS,
    alarm_procedure,
    incident_procedure,
)

pytestmark = pytest.mark.django_db


def _write(p, actor=None, **fields):
    fields.setdefault("title", "Forced door")
    fields.setdefault("steps", FORCED_STEPS)
    fields.setdefault("reason", "new procedure")
    if "category" not in fields:
        fields.setdefault("alarm_type", "forced_open")
    return procedures.save_procedure(p.site_a, actor or p.manager_ab, **fields)


# --- writing procedures ------------------------------------------------------------------------


def test_a_manager_writes_a_procedure_and_each_edit_is_a_version_with_its_reason(personas):
    procedure = _write(personas)
    assert (procedure.version, procedure.steps) == (1, FORCED_STEPS)
    edited = procedures.save_procedure(
        personas.site_a,
        personas.manager_ab,
        procedure=procedure,
        title="Forced door",
        steps=[*FORCED_STEPS, "Write the incident"],
        alarm_type="forced_open",
        reason="the report was forgotten twice",
    )
    assert edited.version == 2 and edited.steps[-1] == "Write the incident"
    rows = list(Procedure.history.filter(id=procedure.pk).order_by("history_id"))
    assert [r.history_change_reason for r in rows] == [
        "procedure: new procedure",
        "procedure: the report was forgotten twice",
    ]
    assert {r.history_user_name for r in rows} == {"manager_ab"}


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "outsider_c"])
def test_only_the_sites_managers_write_procedures(personas, who):
    with pytest.raises(PermissionDenied):
        _write(personas, actor=getattr(personas, who))
    assert not Procedure.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"steps": []}, "steps", "at least one step"),
        ({"steps": ["Call", "  ", "Check"]}, "steps", "Step 2 is empty"),
        ({"steps": ["x" * 301]}, "steps", "Step 1 is longer"),
        ({"alarm_type": ""}, "alarm_type", "one of the two"),
        ({"alarm_type": "lunch"}, "alarm_type", "not an alarm type"),
        ({"reason": " "}, "reason", "Say why"),
        ({"title": ""}, "title", "title"),
    ],
)
def test_bad_procedures_are_refused_naming_the_field(personas, fields, field, words):
    with pytest.raises(ValidationError) as error:
        _write(personas, **fields)
    assert words in " ".join(error.value.message_dict[field])
    assert not Procedure.objects.exists()


def test_one_active_procedure_per_alarm_type_and_per_category(personas):
    _write(personas)
    with pytest.raises(ValidationError, match="already has a procedure"):
        _write(personas, title="Another")
    incident_procedure(personas)
    with pytest.raises(ValidationError, match="already has a procedure"):
        _write(personas, alarm_type="", category=category("Trespass"))
    # Both at once is refused.
    with pytest.raises(ValidationError, match="one of the two"):
        _write(personas, alarm_type="tamper", category=category("Theft"))


def test_a_retired_procedure_is_kept_and_no_longer_applies(personas):
    alarm = site_a_alarm(personas)
    procedure = alarm_procedure(personas)
    procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=1)
    procedures.retire_procedure(procedure, personas.manager_ab, reason="replaced")
    assert procedures.alarm_checklist(alarm) is None
    assert ProcedureTick.objects.filter(procedure=procedure).count() == 1
    assert _write(personas, title="New forced door").version == 1


# --- ticking -------------------------------------------------------------------------------------


def test_a_supervisor_ticks_alarm_steps_with_time_and_user_in_history_and_ledger(personas):
    alarm = site_a_alarm(personas)
    procedure = alarm_procedure(personas)
    tick, created = procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=2)
    assert created and (tick.ticked_by, tick.alarm, tick.step_text) == (
        personas.supervisor_a,
        alarm,
        FORCED_STEPS[1],
    )
    assert tick.procedure_version == procedure.version and tick.ticked_at is not None
    steps = procedures.alarm_checklist(alarm)[1]
    assert [s.done for s in steps] == [False, True, False]
    entries = [e for e in history.alarm_history(alarm) if e.kind == "step ticked"]
    assert [(e.user_name, e.when, e.record) for e in entries] == [
        ("supervisor_a", tick.ticked_at, "procedure step 2")
    ]
    assert LedgerEntry.objects.filter(record_label=f"procedure tick #{tick.pk}").exists()


def test_a_tick_cannot_be_changed_or_silently_undone(personas):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    tick, _ = procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=1)
    with pytest.raises(ValidationError, match="already ticked"):
        procedures.tick_step(personas.manager_ab, alarm=alarm, step_number=1)
    tick.undone = True
    with pytest.raises(HistoryBypassError):
        tick.save()
    with pytest.raises(HistoryBypassError):
        ProcedureTick.objects.filter(pk=tick.pk).delete()
    with pytest.raises(ValidationError, match="Say why"):
        procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=1, undo=True)
    back, _ = procedures.tick_step(
        personas.manager_ab, alarm=alarm, step_number=1, undo=True, reason="ticked by mistake"
    )
    assert back.undone and ProcedureTick.objects.count() == 2
    assert not procedures.alarm_checklist(alarm)[1][0].done
    kinds = [(e.kind, e.user_name, e.reason) for e in history.alarm_history(alarm)[-2:]]
    assert kinds == [
        ("step ticked", "supervisor_a", ""),
        ("step taken back", "manager_ab", "ticked by mistake"),
    ]


def test_guards_and_outsiders_do_not_tick_alarms_and_bad_steps_are_named(personas):
    alarm = site_a_alarm(personas)
    for who in (personas.guard_a, personas.outsider_c):
        with pytest.raises(PermissionDenied):
            procedures.tick_step(who, alarm=alarm, step_number=1)
    with pytest.raises(ValidationError, match="No procedure applies"):
        procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=1)
    alarm_procedure(personas)
    with pytest.raises(ValidationError, match="Step 4 is not a step"):
        procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=4)
    assert not ProcedureTick.objects.exists()


def test_a_tick_sent_again_with_its_client_uuid_is_recorded_once(personas):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    key = uuid.uuid4()
    first, created = procedures.tick_step(
        personas.supervisor_a, alarm=alarm, step_number=1, client_uuid=key
    )
    again, created_again = procedures.tick_step(
        personas.supervisor_a, alarm=alarm, step_number=1, client_uuid=key
    )
    assert created and not created_again and first == again
    with pytest.raises(procedures.IdempotencyConflict):
        procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=2, client_uuid=key)


def test_a_reworded_step_asks_to_be_ticked_again(personas):
    alarm = site_a_alarm(personas)
    procedure = alarm_procedure(personas)
    procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=1)
    procedures.save_procedure(
        personas.site_a,
        personas.manager_ab,
        procedure=procedure,
        title=procedure.title,
        steps=["Check the door on camera and the event log", *FORCED_STEPS[1:]],
        alarm_type="forced_open",
        reason="be precise",
    )
    assert not procedures.alarm_checklist(alarm)[1][0].done


def test_a_guard_ticks_the_procedure_of_the_incident_category(personas):
    incident_procedure(personas)
    incident = draft(personas, category=category("Trespass"))
    tick, _ = procedures.tick_step(personas.guard_a, incident=incident, step_number=1)
    assert tick.incident == incident and tick.step_text == TRESPASS_STEPS[0]
    entries = history.incident_history(incident)
    assert ("step ticked", "guard_a") in [(e.kind, e.user_name) for e in entries]
    with pytest.raises(PermissionDenied):
        procedures.tick_step(personas.outsider_c, incident=incident, step_number=2)


# --- pages ---------------------------------------------------------------------------------------


def test_the_alarm_page_shows_the_steps_and_ticks_with_a_post(personas, client_for):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    client = client_for("supervisor_a")
    page = client.get(f"/access/alarms/{alarm.pk}/").content.decode()
    assert FORCED_STEPS[0] in page and "Tick step 1" in page
    answer = client.post(f"/access/alarms/{alarm.pk}/procedure/tick/", {"step": 1})
    assert answer.status_code == 302 and answer["Location"] == f"/access/alarms/{alarm.pk}/"
    page = client.get(f"/access/alarms/{alarm.pk}/").content.decode()
    assert "ticked by supervisor_a at" in page and "step ticked" in page
    # A guard sees the steps, has no button, and a post is refused.
    guard = client_for("guard_a")
    assert "Tick step 2" not in guard.get(f"/access/alarms/{alarm.pk}/").content.decode()
    assert guard.post(f"/access/alarms/{alarm.pk}/procedure/tick/", {"step": 2}).status_code == 403
    assert ProcedureTick.objects.count() == 1


def test_the_console_feed_carries_the_procedure_and_ticks_by_json(personas, client_for):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    client = client_for("supervisor_a")
    url = f"/access/alarms/{alarm.pk}/procedure/tick/"
    answer = client.post(url, {"step": 3}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200, answer.content
    again = client.post(url, {"step": 3}, HTTP_ACCEPT="application/json")
    assert again.status_code == 400 and "already ticked" in again.json()["error"]
    shown = client.get("/access/alarms/feed/").json()["alarms"][0]["procedure"]
    assert [s["done"] for s in shown["steps"]] == [False, False, True]
    assert shown["steps"][2]["by"] == "supervisor_a" and "UTC" in shown["steps"][2]["at"]
    assert shown["can_tick"] is True
    assert client_for("outsider_c").get("/access/alarms/feed/").json()["alarms"] == []


def _forced_alarms(p, site, zone, n, prefix):
    door(site, zone)
    rows = [
        row(line=i + 2, event_type="forced_open", external_id=f"{prefix}-{i}") for i in range(n)
    ]
    ingest(site, rows)


def test_console_feed_queries_do_not_grow_with_alarms_and_ticks(personas, client_for):
    alarm_procedure(personas)
    alarm_procedure(personas, site=personas.site_b)
    client = client_for("manager_ab")
    _forced_alarms(personas, personas.site_a, personas.zone_a, 2, "a")
    procedures.tick_step(personas.manager_ab, alarm=personas.site_a.alarms.first(), step_number=1)
    with CaptureQueriesContext(connection) as few:
        client.get("/access/alarms/feed/")
    _forced_alarms(personas, personas.site_b, personas.zone_b, 12, "b")
    for alarm in personas.site_b.alarms.all()[:6]:
        procedures.tick_step(personas.manager_ab, alarm=alarm, step_number=2)
    with CaptureQueriesContext(connection) as many:
        feed = client.get("/access/alarms/feed/").json()["alarms"]
    assert len(feed) == 14 and all(a["procedure"] for a in feed)
    assert len(many) == len(few)


def test_a_manager_writes_edits_and_retires_procedures_on_pages(personas, client_for):
    client = client_for("manager_ab")
    answer = client.post(
        "/sites/ALPHA/procedures/new/",
        {
            "title": "Duress",
            "alarm_type": "duress",
            "steps": "Call the guard back\n\nCall the police\n",
            "reason": "night team asked",
        },
    )
    assert answer.status_code == 302, answer.content.decode()
    procedure = Procedure.objects.get()
    assert procedure.steps == ["Call the guard back", "Call the police"]
    answer = client.post(
        f"/sites/ALPHA/procedures/{procedure.pk}/edit/",
        {"title": "Duress", "alarm_type": "duress", "steps": "", "reason": "x"},
    )
    assert answer.status_code == 200 and "This field is required" in answer.content.decode()
    answer = client.post(
        f"/sites/ALPHA/procedures/{procedure.pk}/edit/",
        {
            "title": "Duress",
            "alarm_type": "duress",
            "category": category().pk,
            "steps": "A",
            "reason": "x",
        },
    )
    assert "one of the two" in answer.content.decode()
    assert client.get(f"/sites/ALPHA/procedures/{procedure.pk}/retire/").status_code == 200
    client.post(f"/sites/ALPHA/procedures/{procedure.pk}/retire/", {"reason": "replaced"})
    procedure.refresh_from_db()
    assert not procedure.is_active and procedure.version == 2
    page = client.get("/sites/ALPHA/procedures/").content.decode()
    assert "retired" in page and "replaced" in page


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a"])
def test_only_managers_reach_the_procedure_forms(personas, client_for, who):
    client = client_for(who)
    assert client.get("/sites/ALPHA/procedures/").status_code == 200
    assert client.get("/sites/ALPHA/procedures/new/").status_code in (403, 404)
    answer = client.post(
        "/sites/ALPHA/procedures/new/",
        {"title": "x", "alarm_type": "duress", "steps": "a", "reason": "x"},
    )
    assert answer.status_code in (403, 404) and not Procedure.objects.exists()


def test_procedure_list_queries_do_not_grow(personas, client_for):
    client = client_for("manager_ab")
    incident_procedure(personas)
    with CaptureQueriesContext(connection) as few:
        client.get("/sites/ALPHA/procedures/")
    for alarm_type in ("duress", "tamper", "held_open", "forced_open"):
        alarm_procedure(personas, alarm_type=alarm_type)
    with CaptureQueriesContext(connection) as many:
        assert "tamper response" in client.get("/sites/ALPHA/procedures/").content.decode()
    assert len(many) == len(few)


def test_the_incident_page_shows_its_categorys_procedure_and_ticks(personas, client_for):
    incident_procedure(personas)
    incident = draft(personas, category=category("Trespass"))
    client = client_for("guard_a")
    assert TRESPASS_STEPS[1] in client.get(f"/incidents/{incident.pk}/").content.decode()
    answer = client.post(f"/incidents/{incident.pk}/procedure/tick/", {"step": 2})
    assert answer.status_code == 302
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "ticked by guard_a at" in page
    outsider = client_for("outsider_c")
    assert (
        outsider.post(f"/incidents/{incident.pk}/procedure/tick/", {"step": 1}).status_code == 404
    )
    assert ProcedureTick.objects.count() == 1


def test_taking_a_tick_back_on_the_alarm_page_needs_a_reason_and_adds_a_record(
    personas, client_for
):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=1)
    client = client_for("manager_ab")
    url = f"/access/alarms/{alarm.pk}/procedure/tick/"
    client.post(url, {"step": 1, "undo": "on", "reason": ""})
    assert ProcedureTick.objects.count() == 1
    answer = client.post(url, {"step": 1, "undo": "on", "reason": "wrong alarm"}, follow=True)
    page = answer.content.decode()
    assert "taken back by manager_ab at" in page and "wrong alarm" in page
    assert [t.undone for t in ProcedureTick.objects.order_by("pk")] == [False, True]
