"""What the tablet page carries for the walk-through fixes: every checkpoint of the site with
its instructions (to say offline what a scan means), the route due now, the rounds the guard
left open on another device, the translated strings; and none of it for another site."""

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.services import rounds
from facility_log.services import shifts as shift_services
from facility_log.services.tablet import tablet_bundle, tag_hint
from tests.rounds_helpers import every_two_hours, night_route, scan

pytestmark = pytest.mark.django_db


def _json(response, element_id: str) -> dict:
    html = response.content.decode()
    marker = f'<script id="{element_id}" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_every_checkpoint_of_the_site_travels_with_its_instructions_not_its_code(
    personas, client_for
):
    _route, on_route = night_route(personas)
    elsewhere = rounds.create_checkpoint(
        personas.site_a,
        personas.manager_ab,
        zone=personas.zone_a,
        name="Boiler room",
        instructions="Read the pressure gauge.",
        reason="set-up",
    )
    response = client_for("guard_a").get("/tablet/")
    (site,) = _json(response, "tablet-data")["sites"]
    by_name = {c["name"]: c for c in site["checkpoints"]}
    assert set(by_name) == {c.name for c in [*on_route, elsewhere]}
    assert by_name["Boiler room"]["instructions"] == "Read the pressure gauge."
    assert by_name["Boiler room"]["hint"] == tag_hint(elsewhere.tag_code)
    assert elsewhere.tag_code not in response.content.decode()
    stops = site["routes"][0]["stops"]
    assert [s["instructions"] for s in stops] == [f"Check {c.name}" for c in on_route]
    assert [s["minutes"] for s in stops] == [0, 10, 20]


def test_the_outsider_gets_no_checkpoint_route_or_open_round_of_site_a(personas, client_for):
    route, checkpoints = night_route(personas)
    shift_services.start_shift(personas.site_a, personas.guard_a, client_uuid=uuid.uuid4())
    rounds.start_run(route, personas.guard_a, client_uuid=uuid.uuid4())
    response = client_for("outsider_c").get("/tablet/")
    body = response.content.decode()
    codes = [s["code"] for s in _json(response, "tablet-data")["sites"]]
    assert codes == [personas.site_c.code]
    for checkpoint in checkpoints:
        assert tag_hint(checkpoint.tag_code) not in body
        assert checkpoint.name not in body


def _night_window(personas) -> datetime:
    """Yesterday's 00:00 window at site A (in the past, so a run may start in it)."""
    local = timezone.now().astimezone(personas.site_a.tzinfo)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


def test_the_route_due_now_is_named_until_its_grace_ends_or_someone_walks_it(personas):
    night_route(personas, names=("A1",), minutes=(0,), route_name="Annex")
    route, _checkpoints = night_route(personas, route_name="Night round")
    window = _night_window(personas)
    every_two_hours(personas, route, active_from=window - timedelta(days=2), grace=15)

    def due(now):
        (site,) = tablet_bundle(personas.guard_a, now=now)["sites"]
        return site["due_route"]

    found = due(window + timedelta(minutes=5))
    assert found["id"] == route.pk
    assert datetime.fromisoformat(found["until"]) == window + timedelta(minutes=15)
    (site,) = tablet_bundle(personas.guard_a, now=window)["sites"]
    night = next(r for r in site["routes"] if r["id"] == route.pk)
    assert night["grace_minutes"] == 15
    assert due(window + timedelta(minutes=50)) is None  # between windows
    rounds.start_run(route, personas.supervisor_a, started_at=window + timedelta(minutes=1))
    assert due(window + timedelta(minutes=5)) is None  # this window is walked


def test_a_round_open_in_this_shift_on_another_device_is_carried_with_its_scans(personas):
    route, checkpoints = night_route(personas)
    before = rounds.start_run(
        route, personas.guard_a, started_at=timezone.now() - timedelta(hours=2)
    )
    shift, _ = shift_services.start_shift(
        personas.site_a,
        personas.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now() - timedelta(hours=1),
    )
    started = timezone.now() - timedelta(minutes=20)
    open_run = rounds.start_run(
        route, personas.guard_a, started_at=started, client_uuid=uuid.uuid4()
    )
    first = scan(personas.guard_a, open_run, checkpoints[0], started + timedelta(minutes=1))
    done = rounds.start_run(route, personas.guard_a, started_at=started + timedelta(minutes=2))
    rounds.finish_run(done, personas.guard_a)
    rounds.start_run(route, personas.supervisor_a, started_at=started)
    (site,) = tablet_bundle(personas.guard_a)["sites"]
    assert site["open_shift"]["id"] == shift.pk
    (carried,) = site["open_runs"]
    assert carried["id"] == open_run.pk and carried["route"] == route.pk
    assert carried["client_uuid"] == str(open_run.client_uuid)
    assert carried["scans"] == [
        {
            "client_uuid": str(first.client_uuid),
            "checkpoint": checkpoints[0].pk,
            "at": first.effective_time.isoformat(),
        }
    ]
    assert before.pk != carried["id"]
    (supervisor_site,) = tablet_bundle(personas.supervisor_a)["sites"]
    assert supervisor_site["open_runs"] == []  # no open shift: nothing to take up


def test_the_unsynced_count_says_counting_until_the_outbox_is_counted(personas, client_for):
    body = client_for("guard_a").get("/tablet/").content.decode()
    assert "Unsynced: counting…" in body
    assert "Unsynced: 0" not in body


def test_the_scripts_sentences_come_translated_with_the_page(personas, client_for):
    strings = _json(client_for("guard_a").get("/tablet/"), "tablet-strings")
    assert strings["unsynced"] == "Unsynced: %(count)s"
    assert "%(code)s" in strings["refused_unknown"]
    german = client_for("guard_a").get("/tablet/", HTTP_ACCEPT_LANGUAGE="de")
    assert _json(german, "tablet-strings").keys() == strings.keys()


def test_tablet_page_queries_do_not_grow_with_schedules_checkpoints_or_open_rounds(
    personas, client_for
):
    client = client_for("guard_a")
    shift_services.start_shift(personas.site_a, personas.guard_a, client_uuid=uuid.uuid4())
    window = _night_window(personas)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/tablet/").status_code == 200
        return len(queries)

    def add(n: int) -> None:
        names = tuple(f"R{n}-{i}" for i in range(3))
        route, checkpoints = night_route(
            personas, names=names, minutes=(0, 5, 10), route_name=f"Route {n}"
        )
        every_two_hours(personas, route, active_from=window - timedelta(days=2))
        run = rounds.start_run(route, personas.guard_a, client_uuid=uuid.uuid4())
        scan(personas.guard_a, run, checkpoints[0], run.started_at + timedelta(seconds=5))

    add(0)
    few = count()
    for n in range(1, 5):
        add(n)
    assert count() == few
