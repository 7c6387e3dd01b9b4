"""Alarm priorities: duress > forced > tamper > held open > other unless a site's managers
say otherwise (with reason and history); the console sorts, colours, filters and counts by
them and acknowledges several alarms with one note; an incident from an alarm takes its
severity from the priority."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Alarm, AlarmPriority, AlarmState
from facility_log.services import access, alarm_console_reads, alarm_priorities, links
from tests.access.helpers import door, ingest, row


def _alarms(site, zone, types, prefix="e"):
    """One alarm per type at `site`, raised in the given order (the last is the newest)."""
    door(site, zone)
    ingest(
        site,
        [
            row(
                line=n + 2,
                event_type=t,
                external_id=f"{prefix}-{n}",
                occurred_at=f"2026-03-28T22:{n:02d}:00Z",
            )
            for n, t in enumerate(types)
        ],
    )
    return {a.event_type: a for a in Alarm.objects.filter(site=site)}


TYPES = ["offline", "held_open", "tamper", "forced_open", "duress"]


@pytest.mark.django_db
def test_duress_sorts_first_then_forced_tamper_held_open_other(personas, client_for):
    # Raised least urgent last, so newest-first would give the opposite order.
    _alarms(personas.site_a, personas.zone_a, list(reversed(TYPES)))
    feed = client_for("supervisor_a").get("/access/alarms/feed/").json()
    assert [a["event_type"] for a in feed["alarms"]] == list(reversed(TYPES))
    assert [a["priority"] for a in feed["alarms"]] == [1, 2, 3, 4, 5]
    assert feed["alarms"][0]["priority_class"] == "p-critical"
    page = client_for("supervisor_a").get("/access/alarms/").content.decode()
    page = page[page.index('id="alarm-list"') :]  # after the filters' type choices
    assert page.index("Duress") < page.index("Forced open") < page.index("Held open")
    assert 'class="alarm alarm-new p-critical"' in page


@pytest.mark.django_db
def test_a_duress_alarm_opens_an_incident_of_critical_severity_never_low(personas):
    alarms = _alarms(personas.site_a, personas.zone_a, TYPES)
    incident = links.open_incident_from_alarm(alarms["duress"], personas.supervisor_a)
    assert incident.severity == "critical"
    forced = links.open_incident_from_alarm(alarms["forced_open"], personas.supervisor_a)
    assert forced.severity == "high"
    held = links.open_incident_from_alarm(alarms["held_open"], personas.supervisor_a)
    assert held.severity == "low"


@pytest.mark.django_db
def test_managers_set_a_sites_priority_with_reason_and_history(personas, client_for):
    alarms = _alarms(personas.site_a, personas.zone_a, TYPES)
    url = reverse("access-alarm-priorities", args=[personas.site_a.code])
    manager = client_for("manager_ab")
    refused = manager.post(url, {"event_type": "held_open", "priority": 1, "reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    assert not AlarmPriority.objects.exists()
    answer = manager.post(
        url, {"event_type": "held_open", "priority": 1, "reason": "Cold store door: stock spoils"}
    )
    assert answer.status_code == 302
    row_ = AlarmPriority.objects.get()
    latest = row_.history.latest()
    assert (latest.history_user_name, latest.priority) == ("manager_ab", 1)
    assert "Cold store door" in latest.history_change_reason
    page = manager.get(url).content.decode()
    assert "Cold store door: stock spoils" in page and "this site" in page
    # Read live: the open held-open alarm now ranks with duress (newer first among equals).
    feed = client_for("supervisor_a").get("/access/alarms/feed/").json()
    assert [a["priority"] for a in feed["alarms"]][:2] == [1, 1]
    held = links.open_incident_from_alarm(alarms["held_open"], personas.supervisor_a)
    assert held.severity == "critical"
    # Site B keeps the default.
    assert alarm_priorities.site_priorities(personas.site_b)["held_open"] == 4


@pytest.mark.django_db
def test_only_managers_of_the_site_set_priorities(personas, client_for):
    url = reverse("access-alarm-priorities", args=[personas.site_a.code])
    data = {"event_type": "tamper", "priority": 1, "reason": "x"}
    assert client_for("supervisor_a").post(url, data).status_code == 403
    assert client_for("outsider_c").post(url, data).status_code == 404
    assert client_for("outsider_c").get(url).status_code == 404
    with pytest.raises(PermissionDenied):
        alarm_priorities.set_alarm_priority(
            personas.site_a, personas.supervisor_a, event_type="tamper", priority=1, reason="x"
        )
    with pytest.raises(ValidationError):
        alarm_priorities.set_alarm_priority(
            personas.site_a, personas.manager_ab, event_type="tamper", priority=9, reason="x"
        )
    assert not AlarmPriority.objects.exists()


@pytest.mark.django_db
def test_console_filters_by_door_type_state_and_priority_and_counts(personas, client_for):
    alarms = _alarms(personas.site_a, personas.zone_a, TYPES)
    door(personas.site_a, personas.zone_a, "D-2")
    ingest(personas.site_a, [row(door="D-2", event_type="forced_open", external_id="d2")])
    access.acknowledge_alarm(alarms["tamper"], personas.supervisor_a, note="seen")
    client = client_for("supervisor_a")

    def ids(query):
        return [a["id"] for a in client.get(f"/access/alarms/feed/?{query}").json()["alarms"]]

    feed = client.get("/access/alarms/feed/").json()
    assert feed["counts"]["total"] == 6
    assert (feed["counts"]["new"], feed["counts"]["acknowledged"]) == (5, 1)
    assert {p["label"]: p["n"] for p in feed["counts"]["priorities"]} == {
        "Critical": 1,
        "High": 2,
        "Elevated": 1,
        "Normal": 1,
        "Low": 1,
    }
    d2 = Alarm.objects.get(door__code="D-2")
    assert ids("door=D-2") == [d2.pk]
    assert ids("type=duress") == [alarms["duress"].pk]
    assert ids("state=acknowledged") == [alarms["tamper"].pk]
    assert sorted(ids("priority=2")) == sorted([d2.pk, alarms["forced_open"].pk])
    assert client.get("/access/alarms/feed/?priority=2").json()["counts"]["total"] == 2
    assert ids("priority=9") == []  # a bad filter shows nothing, not everything
    page = client.get("/access/alarms/?type=nonsense").content.decode()
    assert "Select a valid choice" in page


@pytest.mark.django_db
def test_several_alarms_acknowledged_with_one_note_all_or_none(personas, client_for):
    alarms = _alarms(personas.site_a, personas.zone_a, TYPES)
    client = client_for("supervisor_a")
    url = reverse("access-alarm-acknowledge-many")
    chosen = [alarms["duress"].pk, alarms["forced_open"].pk]
    access.acknowledge_alarm(alarms["tamper"], personas.supervisor_a, note="seen")
    # One of them is not new any more: nothing is acknowledged, the answer names it.
    refused = client.post(
        url,
        {"alarm": [*chosen, alarms["tamper"].pk], "note": "Guard sent"},
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 400 and f"#{alarms['tamper'].pk}" in refused.json()["error"]
    assert Alarm.objects.filter(pk__in=chosen, state=AlarmState.NEW).count() == 2
    assert client.post(url, {"alarm": chosen, "note": " "}).status_code == 302
    assert Alarm.objects.filter(pk__in=chosen, state=AlarmState.NEW).count() == 2
    done = client.post(url, {"alarm": chosen, "note": "Guard sent"}, HTTP_ACCEPT="application/json")
    assert done.json() == {"acknowledged": sorted(chosen)}
    for pk in chosen:
        latest = Alarm.objects.get(pk=pk).history.latest()
        assert (latest.state, latest.acknowledge_note) == ("acknowledged", "Guard sent")
        assert latest.history_user_name == "supervisor_a"


@pytest.mark.django_db
def test_outsiders_and_guards_cannot_acknowledge_several(personas, client_for):
    alarms = _alarms(personas.site_a, personas.zone_a, TYPES)
    url = reverse("access-alarm-acknowledge-many")
    for name in ("outsider_c", "guard_a"):
        answer = client_for(name).post(
            url, {"alarm": [alarms["duress"].pk], "note": "x"}, HTTP_ACCEPT="application/json"
        )
        assert answer.status_code == 400
    assert not Alarm.objects.exclude(state=AlarmState.NEW).exists()
    feed = client_for("outsider_c").get("/access/alarms/feed/").json()
    assert feed["alarms"] == [] and feed["counts"]["total"] == 0


@pytest.mark.django_db
def test_console_queries_do_not_grow_with_alarms(personas, client_for):
    client = client_for("manager_ab")
    _alarms(personas.site_a, personas.zone_a, TYPES[:2])
    client.get("/access/alarms/feed/")  # a session seen before, as every later request's
    with CaptureQueriesContext(connection) as few:
        client.get("/access/alarms/feed/")
    with CaptureQueriesContext(connection) as few_page:
        client.get("/access/alarms/")
    _alarms(personas.site_b, personas.zone_b, TYPES * 3, prefix="b")
    alarm_priorities.set_alarm_priority(
        personas.site_b, personas.manager_ab, event_type="tamper", priority=1, reason="test"
    )
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/access/alarms/feed/").json()["alarms"]) == 17
    with CaptureQueriesContext(connection) as many_page:
        client.get("/access/alarms/")
    assert len(many) == len(few)
    assert len(many_page) == len(few_page)


@pytest.mark.django_db
def test_console_picks_the_same_alarms_in_the_same_order_as_sorting_all(
    personas, client_for, monkeypatch
):
    # More open alarms than the console shows, of several types and both sites, with a site's
    # own priority: the alarms picked per (site, type) are those a sort of all would give.
    monkeypatch.setattr(alarm_console_reads, "CONSOLE_LIMIT", 4)
    _alarms(personas.site_a, personas.zone_a, TYPES * 3)
    _alarms(personas.site_b, personas.zone_b, TYPES * 2 + ["denied"], prefix="b")
    alarm_priorities.set_alarm_priority(
        personas.site_b, personas.manager_ab, event_type="held_open", priority=1, reason="test"
    )
    first_duress = Alarm.objects.filter(event_type="duress").first()
    access.acknowledge_alarm(first_duress, personas.manager_ab, note="seen")
    client = client_for("manager_ab")
    site_ids = [personas.site_a.pk, personas.site_b.pk]
    for query, narrow in (
        ("", {}),
        ("priority=1", {"priority": 1}),
        ("state=new", {"state": AlarmState.NEW}),
        ("site=BRAVO", {"site": personas.site_b}),
        ("type=held_open", {"event_type": "held_open"}),
        ("door=D-1&state=new", {"door__code": "D-1", "state": AlarmState.NEW}),
        ("state=acknowledged&type=duress", {"state": "acknowledged", "event_type": "duress"}),
    ):
        everything = alarm_priorities.with_priority(
            Alarm.objects.exclude(state=AlarmState.RESOLVED).filter(site_id__in=site_ids),
            site_ids,
        ).filter(**narrow)
        ordered = everything.order_by("priority", "-raised_at", "-id")
        feed = client.get(f"/access/alarms/feed/?{query}").json()
        assert [a["id"] for a in feed["alarms"]] == [a.pk for a in ordered[:4]], query
        # The page reads its rows in the union itself (alarm_console_reads): the same ones.
        page = client.get(f"/access/alarms/?{query}").content.decode()
        assert [int(pk) for pk in re.findall(r'data-id="(\d+)"', page)] == [
            a.pk for a in ordered[:4]
        ], query
        assert [a["priority"] for a in feed["alarms"]] == [a.priority for a in ordered[:4]]
        assert feed["counts"]["total"] == everything.count()
        by_priority = {p["value"]: p["n"] for p in feed["counts"]["priorities"]}
        assert by_priority == {
            level: everything.filter(priority=level).count()
            for level in {a.priority for a in everything}
        }
        assert feed["counts"]["new"] == everything.filter(state=AlarmState.NEW).count()


# The console page: 11 queries before; one grouped query now counts the open alarms (two
# before), the shown ones are picked per (site, type) by id, then read, and the user's sites
# are read once. The feed the same (it reads the shown alarms' procedures instead of the
# sites a manager may set priorities at).
CONSOLE_PAGE_QUERIES = 10


@pytest.mark.django_db
def test_console_page_query_count(personas, client_for):
    _alarms(personas.site_a, personas.zone_a, TYPES)
    client = client_for("manager_ab")
    client.get("/access/alarms/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/access/alarms/").status_code == 200
    assert len(captured) <= CONSOLE_PAGE_QUERIES, len(captured)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/access/alarms/feed/").status_code == 200
    assert len(captured) <= CONSOLE_PAGE_QUERIES, len(captured)
