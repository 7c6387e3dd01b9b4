"""Routes from the set-up pages: a manager adds a route with ordered stops, changes it (a new
version), and a run started before keeps showing its own plan."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Route
from facility_log.services import rounds
from tests.rounds_helpers import WHY

pytestmark = pytest.mark.django_db


def _checkpoints(p, names=("Gate", "Dock", "Roof")):
    return [
        rounds.create_checkpoint(p.site_a, p.manager_ab, zone=p.zone_a, name=n, reason=WHY)
        for n in names
    ]


def _route_post(stops, **extra):
    data = {
        "name": "Night round",
        "reason": "new round",
        "stop-TOTAL_FORMS": str(len(stops) + 1),
        "stop-INITIAL_FORMS": "0",
    }
    for i, (checkpoint, minutes) in enumerate(stops):
        data[f"stop-{i}-checkpoint"] = checkpoint.pk
        data[f"stop-{i}-expected_minutes"] = minutes
    data.update(extra)
    return data


def test_a_manager_adds_and_changes_a_route_and_old_runs_keep_their_plan(personas, client_for):
    gate, dock, roof = _checkpoints(personas)
    client = client_for("manager_ab")
    add = reverse("route-add", args=["ALPHA"])
    assert "Stops, in order" in client.get(add).content.decode()
    response = client.post(add, _route_post([(gate, 0), (dock, 10), (roof, 20)]))
    assert response.status_code == 302, response.content.decode()[-2000:]
    route = Route.objects.get(name="Night round")
    assert list(route.stops.values_list("checkpoint_id", "expected_minutes")) == [
        (gate.pk, 0),
        (dock.pk, 10),
        (roof.pk, 20),
    ]
    old_run = rounds.start_run(
        route, personas.guard_a, started_at=timezone.now() - timedelta(hours=1)
    )

    edit = reverse("route-edit", args=["ALPHA", route.pk])
    form = client.get(edit).content.decode()
    assert "Save as version 2" in form
    response = client.post(
        edit, _route_post([(roof, 0), (gate, 5)], version=1, reason="roof first")
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.version == 2
    page = client.get(reverse("round-run", args=[old_run.pk])).content.decode()
    assert "route version 1" in page and "Dock" in page
    listing = client.get(reverse("checkpoints", args=["ALPHA"])).content.decode()
    assert "version 2" in listing and edit in listing


def test_route_form_errors_name_the_problem_and_save_nothing(personas, client_for):
    gate, dock, _ = _checkpoints(personas)
    client = client_for("manager_ab")
    add = reverse("route-add", args=["ALPHA"])
    html = client.post(add, _route_post([(gate, 10), (dock, 5)])).content.decode()
    assert "Expected minutes must not decrease" in html
    html = client.post(add, _route_post([])).content.decode()
    assert "A route needs at least one checkpoint" in html
    data = _route_post([(gate, 0)])
    data["stop-1-expected_minutes"] = "5"
    assert "Stop 2: choose a checkpoint" in client.post(add, data).content.decode()
    assert not Route.objects.exists()


def test_a_stale_route_edit_is_refused_with_both_versions(personas, client_for):
    gate, dock, _ = _checkpoints(personas)
    route = rounds.create_route(
        personas.site_a, personas.manager_ab, name="R", stops=[(gate, 0)], reason=WHY
    )
    rounds.update_route(route, personas.manager_ab, reason="x", stops=[(dock, 0)])
    html = (
        client_for("manager_ab")
        .post(
            reverse("route-edit", args=["ALPHA", route.pk]),
            _route_post([(gate, 0)], version=1, name="R"),
        )
        .content.decode()
    )
    assert "you edited version 1, the stored version is 2" in html


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "outsider_c"])
def test_only_managers_set_up_routes(personas, client_for, who):
    gate, *_ = _checkpoints(personas)
    route = rounds.create_route(
        personas.site_a, personas.manager_ab, name="R", stops=[(gate, 0)], reason=WHY
    )
    client = client_for(who)
    assert client.post(
        reverse("route-add", args=["ALPHA"]), _route_post([(gate, 0)])
    ).status_code in (403, 404)
    edit = reverse("route-edit", args=["ALPHA", route.pk])
    assert client.post(edit, _route_post([(gate, 5)], version=1)).status_code in (403, 404)
    route.refresh_from_db()
    assert route.version == 1
