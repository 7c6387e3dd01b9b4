"""/api/v1/ checkpoints, routes, schedules, runs, scans, round-exceptions."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import Checkpoint, RoundException, Run, Scan, Schedule
from tests.rounds_helpers import WHY, night_route, walk

pytestmark = pytest.mark.django_db


def test_manager_creates_a_checkpoint_and_sees_its_code_guards_do_not(personas, api_client_for):
    response = api_client_for("manager_ab").post(
        "/api/v1/checkpoints/",
        {"site": "ALPHA", "zone": personas.zone_a.pk, "name": "Vault", "reason": WHY},
        format="json",
    )
    assert response.status_code == 201, response.content
    code = Checkpoint.objects.get(name="Vault").tag_display
    assert response.json()["tag_code"] == code
    listed = api_client_for("guard_a").get("/api/v1/checkpoints/").json()["results"]
    assert [(c["name"], c["tag_code"]) for c in listed] == [("Vault", None)]


def test_checkpoint_in_another_sites_zone_is_refused_naming_the_zone(personas, api_client_for):
    response = api_client_for("manager_ab").post(
        "/api/v1/checkpoints/",
        {"site": "ALPHA", "zone": personas.zone_b.pk, "name": "Vault", "reason": WHY},
        format="json",
    )
    assert response.status_code == 422 and "zone" in response.json()
    assert Checkpoint.objects.count() == 0


def test_route_and_schedule_through_the_api(personas, api_client_for):
    _route, cps = night_route(personas)
    client = api_client_for("manager_ab")
    stops = [
        {"checkpoint": cp.pk, "expected_minutes": m} for cp, m in zip(cps, (0, 5, 9), strict=True)
    ]
    response = client.post(
        "/api/v1/routes/",
        {"site": "ALPHA", "name": "Short", "stops": stops, "reason": WHY},
        format="json",
    )
    assert response.status_code == 201, response.content
    route_id = response.json()["id"]
    assert [s["position"] for s in response.json()["stops"]] == [1, 2, 3]
    bad = client.post(
        "/api/v1/schedules/",
        {
            "route": route_id,
            "kind": "every",
            "start_time": "22:00",
            "end_time": "22:00",
            "every_hours": 2,
            "reason": WHY,
        },
        format="json",
    )
    assert bad.status_code == 422 and "end_time" in bad.json()
    assert Schedule.objects.count() == 0
    good = client.post(
        "/api/v1/schedules/",
        {"route": route_id, "kind": "fixed", "fixed_times": ["23:00", "03:00"], "reason": WHY},
        format="json",
    )
    assert good.status_code == 201 and good.json()["fixed_times"] == ["03:00", "23:00"]


def test_run_and_scan_uploads_are_idempotent_on_client_uuid(personas, api_client_for):
    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    run_body = {
        "route": route.pk,
        "client_uuid": str(uuid.uuid4()),
        "started_at": (timezone.now() - timedelta(minutes=50)).isoformat(),
    }
    first = client.post("/api/v1/runs/", run_body, format="json")
    again = client.post("/api/v1/runs/", run_body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Run.objects.count() == 1

    scan_body = {
        "run": first.json()["id"],
        "tag_code": cps[0].tag_display,
        "method": "qr",
        "client_uuid": str(uuid.uuid4()),
        "device_time": run_body["started_at"],
        "device_sent_at": timezone.now().isoformat(),
    }
    created = client.post("/api/v1/scans/", scan_body, format="json")
    repeated = client.post("/api/v1/scans/", scan_body, format="json")
    assert (created.status_code, repeated.status_code) == (201, 200)
    assert created.json()["id"] == repeated.json()["id"] and Scan.objects.count() == 1
    changed = client.post("/api/v1/scans/", {**scan_body, "method": "nfc"}, format="json")
    assert changed.status_code == 422 and Scan.objects.count() == 1
    other_run = client.post(
        "/api/v1/runs/",
        {
            **run_body,
            "route": night_route(personas, names=("X",), minutes=(0,), route_name="Other")[0].pk,
        },
        format="json",
    )
    assert other_run.status_code == 422


def test_bad_scans_name_the_field_and_store_nothing(personas, api_client_for):
    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    run = walk(personas, route, cps, timezone.now() - timedelta(hours=1), (0, 10, 20))
    body = {
        "run": run.pk,
        "tag_code": cps[0].tag_code,
        "method": "manual",
        "client_uuid": str(uuid.uuid4()),
        "device_time": timezone.now().isoformat(),
    }
    finished = client.post("/api/v1/scans/", body, format="json")
    assert finished.status_code == 422 and "run" in finished.json()
    open_run = client.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    unknown = client.post(
        "/api/v1/scans/", {**body, "run": open_run, "tag_code": "X"}, format="json"
    )
    assert unknown.status_code == 422 and "tag_code" in unknown.json()
    no_target = client.post("/api/v1/scans/", {**body, "run": None}, format="json")
    assert no_target.status_code == 400 and "run" in no_target.json()
    assert Scan.objects.filter(client_uuid=body["client_uuid"]).count() == 0


def test_a_scan_by_run_id_finds_only_an_active_checkpoint_of_the_runs_site(
    personas, api_client_for
):
    """The run's lock query also finds the scanned checkpoint: another site's code and a
    retired one get the same words as an unknown code; a run id out of range is a missing run."""
    from facility_log.services import rounds

    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    run_id = client.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    other = rounds.create_checkpoint(
        personas.site_b, personas.manager_ab, zone=personas.zone_b, name="B gate", reason=WHY
    )
    rounds.update_checkpoint(cps[2], personas.manager_ab, is_active=False, reason=WHY)

    def post(**changes):
        body = {
            "run": run_id,
            "tag_code": cps[0].tag_code,
            "method": "qr",
            "client_uuid": str(uuid.uuid4()),
            "device_time": timezone.now().isoformat(),
        }
        return client.post("/api/v1/scans/", {**body, **changes}, format="json")

    refused = "No checkpoint at ALPHA has this tag code."
    for code in (other.tag_code, cps[2].tag_code):
        assert post(tag_code=code).json() == {"tag_code": [refused]}
    for run in (2**63, 0, -1):
        assert post(run=run).json() == {"run": ["Not found among your sites."]}
    assert not Scan.objects.exists()
    stored = post(tag_code=cps[1].tag_code.lower())
    assert stored.status_code == 201
    assert Scan.objects.get().checkpoint == cps[1]


def test_outsider_cannot_scan_into_a_site_a_run(personas, api_client_for):
    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    run_id = client.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    body = {
        "run": run_id,
        "tag_code": cps[0].tag_code,
        "method": "manual",
        "client_uuid": str(uuid.uuid4()),
        "device_time": timezone.now().isoformat(),
    }
    response = api_client_for("outsider_c").post("/api/v1/scans/", body, format="json")
    assert response.status_code == 422 and cps[0].tag_code not in response.content.decode()
    assert Scan.objects.count() == 0


def test_finish_through_the_api_stores_missed_checkpoints(personas, api_client_for):
    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    run_id = client.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    assert client.post(f"/api/v1/runs/{run_id}/finish/", {}, format="json").status_code == 200
    kinds = [e["kind"] for e in client.get("/api/v1/round-exceptions/").json()["results"]]
    assert kinds.count("missed_checkpoint") == 3


@pytest.mark.parametrize(
    "path", ["checkpoints", "routes", "schedules", "runs", "scans", "round-exceptions"]
)
def test_round_api_lists_query_count_does_not_grow(personas, api_client_for, path):
    from tests.rounds_helpers import every_two_hours

    route, cps = night_route(personas)
    every_two_hours(personas, route, active_from=timezone.now() - timedelta(days=1))
    client = api_client_for("manager_ab")
    start = timezone.now() - timedelta(hours=5)
    walk(personas, route, cps, start, (0, 40, None))
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/api/v1/{path}/").status_code == 200
    for n in range(1, 5):
        walk(personas, route, cps, start + timedelta(minutes=30 * n), (0, 40, None))
        extra, _ = night_route(personas, names=(f"Extra {n}",), minutes=(0,), route_name=f"R{n}")
        every_two_hours(personas, extra, active_from=timezone.now() - timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/api/v1/{path}/")
    assert len(response.json()["results"]) > 1
    assert len(many) == len(few)


def test_a_scan_can_carry_a_note_and_a_photo(personas, api_client_for, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    photo = SimpleUploadedFile("door.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    response = client.post(
        "/api/v1/scans/",
        {
            "route": route.pk,
            "tag_code": cps[0].tag_code,
            "method": "nfc",
            "client_uuid": str(uuid.uuid4()),
            "device_time": timezone.now().isoformat(),
            "note": "Door ajar, closed it",
            "photo": photo,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    scan = Scan.objects.get()
    assert scan.note == "Door ajar, closed it" and scan.photo.read() == b"\xff\xd8\xff fake jpeg"


def test_finishing_a_run_again_at_the_same_time_changes_nothing(personas, api_client_for):
    """The tablet's outbox may send the same finish twice; another time is still refused."""
    route, cps = night_route(personas)
    client = api_client_for("guard_a")
    run_id = client.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    finished_at = timezone.now().isoformat()
    url = f"/api/v1/runs/{run_id}/finish/"
    first = client.post(url, {"finished_at": finished_at}, format="json")
    again = client.post(url, {"finished_at": finished_at}, format="json")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["finished_at"] == first.json()["finished_at"]
    assert RoundException.objects.filter(run_id=run_id, kind="missed_checkpoint").count() == 3
    later = (timezone.now() + timedelta(seconds=1)).isoformat()
    refused = client.post(url, {"finished_at": later}, format="json")
    assert refused.status_code == 422
    assert "run" in refused.json()
