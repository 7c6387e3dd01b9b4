"""/api/v1/shifts/ and /api/v1/shift-entries/: the tablet's shift log."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Role, Shift, ShiftEntry
from facility_log.services import accounts, sites
from tests.shifts_helpers import ago, entry, start, worked

pytestmark = pytest.mark.django_db


def _start_body(**extra) -> dict:
    return {"site": "ALPHA", "client_uuid": str(uuid.uuid4()), **extra}


def test_starting_is_idempotent_201_200_and_a_changed_payload_is_422(personas, api_client_for):
    client = api_client_for("guard_a")
    body = _start_body(started_at=ago(minutes=20).isoformat())
    first = client.post("/api/v1/shifts/", body, format="json")
    again = client.post("/api/v1/shifts/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert first.json()["id"] == again.json()["id"] and Shift.objects.count() == 1
    assert first.json()["guard"] == "guard_a" and first.json()["site"] == "ALPHA"
    assert first.json()["report_url"] == f"/shifts/{first.json()['id']}/"
    changed = client.post(
        "/api/v1/shifts/", {**body, "started_at": ago(hours=3).isoformat()}, format="json"
    )
    assert changed.status_code == 422 and "client_uuid" in changed.json()
    assert Shift.objects.count() == 1


def test_a_second_open_shift_is_a_409_naming_the_site(personas, api_client_for):
    client = api_client_for("guard_a")
    assert client.post("/api/v1/shifts/", _start_body(), format="json").status_code == 201
    response = client.post("/api/v1/shifts/", _start_body(), format="json")
    assert response.status_code == 409
    assert "You already have a shift open at ALPHA since" in response.json()["site"][0]
    assert Shift.objects.count() == 1


def test_the_new_shift_reads_the_previous_pass_down_notes(personas, api_client_for):
    before = worked(personas, at=ago(hours=10), hours=8, guard=personas.supervisor_a, notes="N1")
    response = api_client_for("guard_a").post("/api/v1/shifts/", _start_body(), format="json")
    assert response.json()["previous_pass_down"] == {
        "shift": before.pk,
        "guard": "supervisor_a",
        "ended_at": before.ended_at.isoformat().replace("+00:00", "Z"),
        "pass_down_notes": "N1",
    }
    listed = api_client_for("guard_a").get("/api/v1/shifts/?open=true").json()["results"]
    assert [s["id"] for s in listed] == [response.json()["id"]]


def test_ending_is_200_again_200_and_a_different_end_is_409(personas, api_client_for):
    shift = start(personas, at=ago(hours=4))
    client = api_client_for("guard_a")
    body = {"ended_at": ago(minutes=5).isoformat(), "pass_down_notes": "Alarm panel beeps."}
    url = f"/api/v1/shifts/{shift.pk}/end/"
    first, again = (client.post(url, body, format="json") for _ in range(2))
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["pass_down_notes"] == "Alarm panel beeps."
    conflict = client.post(url, {**body, "pass_down_notes": "Something else"}, format="json")
    assert conflict.status_code == 409 and "already ended" in conflict.json()["ended_at"][0]
    early = client.post(
        f"/api/v1/shifts/{start(personas, at=ago(hours=1)).pk}/end/",
        {"ended_at": ago(hours=2).isoformat()},
        format="json",
    )
    assert early.status_code == 422 and "ended_at" in early.json()


def test_entries_are_idempotent_201_200_422(personas, api_client_for):
    shift = start(personas, at=ago(hours=2))
    client = api_client_for("guard_a")
    body = {
        "shift": shift.pk,
        "client_uuid": str(uuid.uuid4()),
        "kind": "delivery",
        "occurred_at": ago(hours=1).isoformat(),
        "text": "Pallets for hall 1",
    }
    first = client.post("/api/v1/shift-entries/", body, format="json")
    again = client.post("/api/v1/shift-entries/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["recorded_by"] == "guard_a" and first.json()["site"] == "ALPHA"
    changed = client.post("/api/v1/shift-entries/", {**body, "kind": "other"}, format="json")
    assert changed.status_code == 422 and "client_uuid" in changed.json()
    assert ShiftEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "gossip"), ("text", ""), ("text", "   "), ("occurred_at", "yesterday")],
)
def test_bad_entries_are_a_400_naming_the_field(personas, api_client_for, field, value):
    shift = start(personas, at=ago(hours=2))
    body = {
        "shift": shift.pk,
        "client_uuid": str(uuid.uuid4()),
        "kind": "patrol",
        "occurred_at": ago(hours=1).isoformat(),
        "text": "Fence walked",
        field: value,
    }
    response = api_client_for("guard_a").post("/api/v1/shift-entries/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert ShiftEntry.objects.count() == 0


def test_another_guard_cannot_write_into_the_shift(personas, api_client_for):
    other = accounts.create_user(
        personas.admin, username="guard2_a", password="x-very-long-pw-1", reason="test"
    )
    sites.grant_membership(personas.site_a, personas.admin, user=other, role=Role.GUARD, reason="t")
    shift = start(personas, at=ago(hours=2))
    body = {
        "shift": shift.pk,
        "client_uuid": str(uuid.uuid4()),
        "kind": "other",
        "occurred_at": ago(hours=1).isoformat(),
        "text": "Not my shift",
    }
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(other)
    assert client.post("/api/v1/shift-entries/", body, format="json").status_code == 403
    assert client.post(f"/api/v1/shifts/{shift.pk}/end/", {}, format="json").status_code == 403
    assert ShiftEntry.objects.count() == 0 and Shift.objects.get().ended_at is None


def test_outsider_sees_nothing_and_writes_nothing_at_site_a(personas, api_client_for):
    shift = start(personas, at=ago(hours=2))
    written = entry(shift, "Alpha secret entry", at=ago(hours=1))
    client = api_client_for("outsider_c")
    assert client.get("/api/v1/shifts/").json()["results"] == []
    assert client.get("/api/v1/shift-entries/").json()["results"] == []
    assert client.get(f"/api/v1/shifts/{shift.pk}/").status_code == 404
    assert client.get(f"/api/v1/shift-entries/{written.pk}/").status_code == 404
    assert client.post(f"/api/v1/shifts/{shift.pk}/end/", {}, format="json").status_code == 404
    started = client.post("/api/v1/shifts/", _start_body(), format="json")
    logged = client.post(
        "/api/v1/shift-entries/",
        {
            "shift": shift.pk,
            "client_uuid": str(uuid.uuid4()),
            "kind": "other",
            "occurred_at": ago(hours=1).isoformat(),
            "text": "Hijacked",
        },
        format="json",
    )
    reused = client.post(
        "/api/v1/shifts/",
        {"site": "CHARLIE", "client_uuid": str(shift.client_uuid)},
        format="json",
    )
    assert (started.status_code, logged.status_code) == (422, 422)
    assert "site" in started.json() and "shift" in logged.json()
    assert reused.status_code == 422 and "ALPHA" not in reused.content.decode()
    assert (Shift.objects.count(), ShiftEntry.objects.count()) == (1, 1)


def test_list_filters(personas, api_client_for):
    ended = worked(personas, at=ago(hours=20), hours=8)
    open_a = start(personas, at=ago(hours=2), guard=personas.supervisor_a)
    open_b = start(personas, at=ago(hours=2), guard=personas.manager_ab, site=personas.site_b)
    client = api_client_for("manager_ab")

    def ids(query):
        return {s["id"] for s in client.get(f"/api/v1/shifts/?{query}").json()["results"]}

    assert ids("") == {ended.pk, open_a.pk, open_b.pk}
    assert ids("open=true") == {open_a.pk, open_b.pk}
    assert ids("open=false") == {ended.pk}
    assert ids("site__code=BRAVO") == {open_b.pk}
    assert ids("guard__username=guard_a") == {ended.pk}
    entry(open_a, "In A", at=ago(hours=1))
    other = entry(ended, "In ended", at=ended.started_at)
    found = client.get(f"/api/v1/shift-entries/?shift={ended.pk}").json()["results"]
    assert [e["id"] for e in found] == [other.pk]


@pytest.mark.parametrize("path", ["shifts", "shift-entries"])
def test_shift_api_lists_query_count_does_not_grow(personas, api_client_for, path):
    client = api_client_for("manager_ab")

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            guard = personas.guard_a if i % 2 else personas.supervisor_a
            begin = ago(days=40) + timedelta(hours=i)
            shift = worked(personas, at=begin, hours=0.5, guard=guard, notes=f"n{i}")
            entry(shift, f"entry {i}", at=begin + timedelta(minutes=1))

    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/api/v1/{path}/").json()["count"] == 3
    add(27, 3)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/api/v1/{path}/").json()["count"] == 30
    assert len(many) == len(few)
