"""/api/v1/alarms/: the console's list, one alarm, acknowledge, resolve, open an incident."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Alarm, AlarmState, Incident
from facility_log.services.verify import verify_audit
from tests.access.helpers import forced_open_at, site_a_alarm

pytestmark = pytest.mark.django_db

EVERYONE = ["guard_a", "supervisor_a", "manager_ab", "auditor_a"]


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [a["id"] for a in response.json()["results"]]


def test_members_of_the_site_list_and_read_its_alarms_the_outsider_nothing(
    personas, api_client_for
):
    alarm = site_a_alarm(personas)
    forced_open_at(personas.site_c, personas.zone_c, "forced-c")
    for name in EVERYONE:
        client = api_client_for(name)
        assert alarm.pk in _ids(client.get("/api/v1/alarms/")), name
        body = client.get(f"/api/v1/alarms/{alarm.pk}/").json()
        assert (body["site"], body["kind"], body["status"]) == ("ALPHA", "forced_open", "new")
        assert body["history_url"] == f"/api/v1/alarms/{alarm.pk}/history/"
    outsider = api_client_for("outsider_c")
    assert alarm.pk not in _ids(outsider.get("/api/v1/alarms/"))
    assert "ALPHA" not in outsider.get("/api/v1/alarms/").content.decode()
    assert outsider.get(f"/api/v1/alarms/{alarm.pk}/").status_code == 404


def test_filters_by_site_status_and_kind_and_refuse_unknown_values(personas, api_client_for):
    alarm = site_a_alarm(personas)
    client = api_client_for("manager_ab")
    assert _ids(client.get("/api/v1/alarms/?site=ALPHA&status=new&kind=forced_open")) == [alarm.pk]
    assert _ids(client.get("/api/v1/alarms/?site=BRAVO")) == []
    assert _ids(client.get("/api/v1/alarms/?status=resolved")) == []
    assert _ids(client.get("/api/v1/alarms/?open=true")) == [alarm.pk]
    bad = client.get("/api/v1/alarms/?status=sleeping&kind=boom")
    assert bad.status_code == 400 and {"status", "kind"} <= set(bad.json())


def test_supervisor_acknowledges_then_resolves_with_notes_in_history(personas, api_client_for):
    alarm = site_a_alarm(personas)
    client = api_client_for("supervisor_a")
    url = f"/api/v1/alarms/{alarm.pk}/"
    missing = client.post(url + "acknowledge/", {}, format="json")
    assert missing.status_code == 400 and "note" in missing.json()
    done = client.post(url + "acknowledge/", {"note": "Guard sent"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "acknowledged"
    assert done.json()["acknowledged_by"] == "supervisor_a"
    again = client.post(url + "acknowledge/", {"note": "again"}, format="json")
    assert again.status_code == 409 and "already acknowledged" in again.json()["state"][0]
    assert again.json()["current"]["acknowledge_note"] == "Guard sent"
    extra = client.post(url + "resolve/", {"note": "x", "state": "resolved"}, format="json")
    assert extra.status_code == 400 and "state" in extra.json()
    resolved = client.post(url + "resolve/", {"note": "Door secured"}, format="json")
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution_note"] == "Door secured"
    history = client.get(url + "history/").json()["results"]
    assert [h["reason"] for h in history[-2:]] == [
        "alarm acknowledged: Guard sent",
        "alarm resolved: Door secured",
    ]
    assert verify_audit().intact


def test_guards_auditors_and_outsiders_cannot_act(personas, api_client_for):
    alarm = site_a_alarm(personas)
    for name, code in [("guard_a", 403), ("auditor_a", 403), ("outsider_c", 404)]:
        client = api_client_for(name)
        for step in ("acknowledge", "resolve", "open-incident"):
            response = client.post(f"/api/v1/alarms/{alarm.pk}/{step}/", {"note": "x"})
            assert response.status_code == code, (name, step)
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.NEW and not Incident.objects.exists()


def test_opening_an_incident_is_201_then_200_with_the_same_draft(personas, api_client_for):
    alarm = site_a_alarm(personas)
    client = api_client_for("supervisor_a")
    url = f"/api/v1/alarms/{alarm.pk}/open-incident/"
    first, again = client.post(url), client.post(url)
    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert first.json()["id"] == again.json()["id"] and first.json()["status"] == "draft"
    assert Incident.objects.count() == 1
    assert client.get(f"/api/v1/alarms/{alarm.pk}/").json()["incident"] == first.json()["id"]
    assert verify_audit().intact


def test_the_list_costs_the_same_queries_for_more_alarms(personas, api_client_for):
    client = api_client_for("manager_ab")
    forced_open_at(personas.site_a, personas.zone_a, "f-1")
    client.post(f"/api/v1/alarms/{Alarm.objects.get().pk}/open-incident/")
    with CaptureQueriesContext(connection) as few:
        assert len(_ids(client.get("/api/v1/alarms/"))) == 1
    for n in range(2, 8):
        alarm = forced_open_at(personas.site_a, personas.zone_a, f"f-{n}").alarm
        client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge/", {"note": "seen"})
    with CaptureQueriesContext(connection) as many:
        assert len(_ids(client.get("/api/v1/alarms/"))) == 7
    assert len(many) == len(few)


def test_priority_in_the_list_with_its_filter_and_ordering(personas, api_client_for):
    from tests.access.helpers import door, ingest, row

    door(personas.site_a, personas.zone_a)
    types = ["duress", "held_open", "forced_open"]  # duress oldest, forced newest
    ingest(
        personas.site_a,
        [
            row(
                line=n + 2, event_type=t, external_id=f"p{n}", occurred_at=f"2026-03-28T22:0{n}:00Z"
            )
            for n, t in enumerate(types)
        ],
    )
    client = api_client_for("supervisor_a")
    newest = client.get("/api/v1/alarms/").json()["results"]
    assert [a["kind"] for a in newest] == ["forced_open", "held_open", "duress"]
    urgent = client.get("/api/v1/alarms/?ordering=priority").json()["results"]
    assert [(a["kind"], a["priority"]) for a in urgent] == [
        ("duress", 1),
        ("forced_open", 2),
        ("held_open", 4),
    ]
    assert urgent[0]["priority_label"] == "Critical" and urgent[0]["panic"] is None
    assert [a["kind"] for a in client.get("/api/v1/alarms/?priority=1").json()["results"]] == [
        "duress"
    ]
    bad = client.get("/api/v1/alarms/?priority=0&ordering=door")
    assert bad.status_code == 400 and {"priority", "ordering"} <= set(bad.json())
