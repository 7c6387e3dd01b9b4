"""Routes change by versions: a change of stops or order rules makes a new version, runs keep
the version and the plan they walked, a stale edit is refused, and the ledger still verifies."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from facility_log.services import rounds
from facility_log.services.verify import verify_audit
from tests.rounds_helpers import WHY, night_route

pytestmark = pytest.mark.django_db


def test_new_stops_make_a_new_version_and_the_old_run_keeps_its_plan(personas):
    route, (gate, dock, roof) = night_route(personas)
    old_run = rounds.start_run(
        route, personas.guard_a, started_at=timezone.now() - timedelta(hours=2)
    )
    assert (route.version, old_run.route_version) == (1, 1)

    route = rounds.update_route(
        route,
        personas.manager_ab,
        reason="roof closed",
        stops=[(gate, 0), (dock, 15)],
        expected_version=1,
    )
    assert route.version == 2
    assert list(route.stops.values_list("checkpoint_id", "expected_minutes")) == [
        (gate.pk, 0),
        (dock.pk, 15),
    ]
    new_run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    assert new_run.route_version == 2
    assert [stop["checkpoint"] for stop in new_run.plan] == [gate.pk, dock.pk]
    old_run.refresh_from_db()
    assert [stop["checkpoint"] for stop in old_run.plan] == [gate.pk, dock.pk, roof.pk]
    assert route.history.latest().history_change_reason == "roof closed"
    assert verify_audit().intact


def test_a_new_name_alone_keeps_the_version(personas):
    route, _ = night_route(personas)
    route = rounds.update_route(route, personas.manager_ab, reason="rename", name="Late round")
    assert (route.name, route.version) == ("Late round", 1)
    route = rounds.update_route(route, personas.manager_ab, reason="strict", must_follow_order=True)
    assert route.version == 2


def test_stale_and_bad_edits_are_refused_and_change_nothing(personas):
    route, (gate, dock, roof) = night_route(personas)
    rounds.update_route(route, personas.manager_ab, reason="x", stops=[(gate, 0)])
    with pytest.raises(rounds.RouteVersionConflict, match="you edited version 1"):
        rounds.update_route(
            route, personas.manager_ab, reason="y", stops=[(dock, 0)], expected_version=1
        )
    with pytest.raises(ValidationError, match="must not decrease"):
        rounds.update_route(route, personas.manager_ab, reason="y", stops=[(gate, 9), (dock, 1)])
    with pytest.raises(PermissionDenied):
        rounds.update_route(route, personas.supervisor_a, reason="y", name="Mine")
    route.refresh_from_db()
    assert (route.version, route.name) == (2, "Night round")
    assert list(route.stops.values_list("checkpoint_id", flat=True)) == [gate.pk]
    assert WHY


def test_the_api_changes_a_route_by_version(personas, api_client_for):
    route, (gate, dock, _roof) = night_route(personas)
    client = api_client_for("manager_ab")
    url = f"/api/v1/routes/{route.pk}/"
    body = {
        "version": 1,
        "stops": [
            {"checkpoint": gate.pk, "expected_minutes": 0},
            {"checkpoint": dock.pk, "expected_minutes": 12},
        ],
        "reason": "roof closed",
    }
    response = client.patch(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert [s["expected_minutes"] for s in response.json()["stops"]] == [0, 12]
    stale = client.patch(url, body, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2
    # The old field name is refused by name, not silently saved as 0.
    wrong = client.patch(
        url,
        {"version": 2, "stops": [{"checkpoint": gate.pk, "minutes": 5}], "reason": "x"},
        format="json",
    )
    assert wrong.status_code == 400 and "minutes" in wrong.content.decode()
    assert client.put(url, body, format="json").status_code == 405
    assert (
        api_client_for("supervisor_a")
        .patch(url, {"version": 2, "name": "x", "reason": "y"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_client_for("outsider_c")
        .patch(url, {"version": 2, "name": "x", "reason": "y"}, format="json")
        .status_code
        == 404
    )
