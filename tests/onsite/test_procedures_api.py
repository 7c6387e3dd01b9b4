"""Procedures over the API: read for the caller's sites only; ticks created with the status
codes the schema declares (201, 200 again, 409 state, 422 content, 403 role); the outsider
gets nothing and writes nothing."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import ProcedureTick
from facility_log.services import procedures
from tests.access.helpers import site_a_alarm
from tests.incident_factories import category, draft
from tests.onsite.procedure_helpers import alarm_procedure, incident_procedure

pytestmark = pytest.mark.django_db
TICKS = "/api/v1/procedure-ticks/"


def test_procedures_are_read_for_my_sites_only(personas, api_client_for):
    alarm_procedure(personas)
    incident_procedure(personas)
    alarm_procedure(personas, alarm_type="tamper", site=personas.site_b)
    mine = api_client_for("supervisor_a").get("/api/v1/procedures/").json()["results"]
    assert sorted((r["site"], r["alarm_type"] or r["category_name"]) for r in mine) == [
        ("ALPHA", "Trespass"),
        ("ALPHA", "forced_open"),
    ]
    both = api_client_for("manager_ab").get("/api/v1/procedures/?site=BRAVO").json()
    assert [r["alarm_type"] for r in both["results"]] == ["tamper"]
    outsider = api_client_for("outsider_c")
    assert outsider.get("/api/v1/procedures/").json()["results"] == []
    assert outsider.get(f"/api/v1/procedures/{mine[0]['id']}/").status_code == 404


def test_procedure_list_queries_do_not_grow(personas, api_client_for):
    client = api_client_for("manager_ab")
    alarm_procedure(personas)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/procedures/")
    for alarm_type in ("duress", "tamper", "held_open"):
        alarm_procedure(personas, alarm_type=alarm_type)
        alarm_procedure(personas, alarm_type=alarm_type, site=personas.site_b)
    incident_procedure(personas)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/procedures/").json()["count"] == 8
    assert len(many) == len(few)


def test_a_supervisor_ticks_an_alarm_step_once_and_it_is_in_the_history(personas, api_client_for):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    client = api_client_for("supervisor_a")
    body = {"alarm": alarm.pk, "step": 1, "client_uuid": str(uuid.uuid4())}
    first = client.post(TICKS, body, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["ticked_by"], first.json()["step"]) == ("supervisor_a", 1)
    assert client.post(TICKS, body, format="json").status_code == 200
    again = client.post(TICKS, {"alarm": alarm.pk, "step": 1}, format="json")
    assert again.status_code == 409 and "already ticked" in again.json()["state"][0]
    rows = client.get(f"/api/v1/alarms/{alarm.pk}/history/").json()["results"]
    ticked = [r for r in rows if r["kind"] == "step ticked"]
    assert [(r["user"], r["record"]) for r in ticked] == [("supervisor_a", "procedure step 1")]
    assert ticked[0]["when"] == first.json()["ticked_at"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"step": 1}, 422, "alarm"),
        ({"step": 1, "alarm": None}, 422, "alarm"),
        ({"step": 1, "alarm": 999999}, 422, "alarm"),
        ({"step": 1, "alarm": "abc"}, 400, "alarm"),
        ({"step": 0, "alarm": "ALARM"}, 400, "step"),
        ({"step": 1, "alarm": "ALARM", "colour": "red"}, 400, "colour"),
        ({"step": 7, "alarm": "ALARM"}, 422, "step"),
        ({"step": 1, "alarm": "ALARM", "undo": True}, 422, "reason"),
        ({"step": 2, "alarm": "ALARM", "undo": True, "reason": "x"}, 409, "state"),
    ],
)
def test_bad_ticks_are_refused_naming_the_field(personas, api_client_for, body, code, field):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    body = {k: alarm.pk if v == "ALARM" else v for k, v in body.items()}
    answer = api_client_for("supervisor_a").post(TICKS, body, format="json")
    assert answer.status_code == code, answer.content
    assert field in answer.json()
    assert not ProcedureTick.objects.exists()


def test_guards_tick_incidents_not_alarms_and_the_outsider_reaches_nothing(
    personas, api_client_for
):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    incident_procedure(personas)
    incident = draft(personas, category=category("Trespass"))
    guard = api_client_for("guard_a")
    assert guard.post(TICKS, {"alarm": alarm.pk, "step": 1}, format="json").status_code == 403
    answer = guard.post(TICKS, {"incident": incident.pk, "step": 3}, format="json")
    assert answer.status_code == 201 and answer.json()["incident"] == incident.pk
    outsider = api_client_for("outsider_c")
    for body in ({"alarm": alarm.pk, "step": 1}, {"incident": incident.pk, "step": 1}):
        refused = outsider.post(TICKS, body, format="json")
        assert refused.status_code == 422 and "among your sites" in str(refused.json())
    assert ProcedureTick.objects.count() == 1


def test_taking_a_tick_back_needs_a_reason_and_is_a_new_record(personas, api_client_for):
    alarm = site_a_alarm(personas)
    alarm_procedure(personas)
    procedures.tick_step(personas.supervisor_a, alarm=alarm, step_number=2)
    client = api_client_for("manager_ab")
    bare = client.post(TICKS, {"alarm": alarm.pk, "step": 2, "undo": True}, format="json")
    assert bare.status_code == 422 and "reason" in bare.json()
    body = {"alarm": alarm.pk, "step": 2, "undo": True, "reason": "wrong door"}
    answer = client.post(TICKS, body, format="json")
    assert answer.status_code == 201 and answer.json()["undone"] is True
    assert ProcedureTick.objects.count() == 2
