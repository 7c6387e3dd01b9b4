"""Bad input is a 4xx naming the field, never a 500, and stores nothing (issue 15): each case
below was a 500 (or a stored year-1 alarm) before the shared limits in facility_log/api/
(parsers.py, fields.py) and the plausible windows of the services."""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from facility_log.models import AccessEvent, Alarm, Checkpoint, Run, Scan
from facility_log.services import access
from tests.access.helpers import door
from tests.rounds_helpers import night_route

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
BAD_TIMES = [
    "2026-11-01T00:00:00+23:59",  # RFC 3339 allows it; no clock, nor PostgreSQL, does
    "0001-01-01T00:00:00+01:00",  # overflowed converting to UTC
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1850-06-01T12:00:00Z",  # a device time before 1900
]


@pytest.fixture
def rounds(personas):
    route, checkpoints = night_route(personas)
    return route, checkpoints


@pytest.fixture
def guard(api_client_for):
    client = api_client_for("guard_a")
    client.raise_request_exception = False  # a 500 is an answer to assert, not a crash
    return client


@pytest.fixture
def manager(api_client_for):
    client = api_client_for("manager_ab")
    client.raise_request_exception = False
    return client


def _scan(run_id, checkpoint, **extra):
    return {
        "run": run_id,
        "tag_code": checkpoint.tag_code,
        "method": "qr",
        "client_uuid": str(uuid.uuid4()),
        "device_time": timezone.now().isoformat(),
        **extra,
    }


def _event(when, **extra):
    item = {
        "source": "ctl",
        "external_id": str(uuid.uuid4()),
        "occurred_at": when,
        "door": "D-1",
        "event_type": "forced_open",
    }
    return {**item, **extra}


@pytest.mark.parametrize("path", ["/api/v1/runs/", "/api/v1/sync/", "/api/v1/incidents/"])
def test_json_nested_1000_deep_is_a_400_saying_so(guard, path):
    response = guard.generic("POST", path, DEEP, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "nested deeper" in response.json()["detail"]


def test_json_nested_1000_deep_to_a_webhook_is_a_400(personas, manager):
    door(personas.site_a, personas.zone_a)
    response = manager.generic(
        "POST", "/api/v1/webhooks/kisi/ALPHA/", DEEP, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert "nested deeper" in str(response.json())


def test_signed_vendor_webhook_nested_too_deep_is_a_400(personas):
    access.set_webhook_secret(
        personas.site_a, personas.manager_ab, secret="s3cret", source="unifi", reason="set up"
    )
    raw = DEEP.encode()
    stamp = str(int(timezone.now().timestamp()))
    signature = hmac.new(b"s3cret", f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    response = Client(raise_request_exception=False).post(
        "/api/v1/webhooks/unifi/ALPHA/",
        raw,
        content_type="application/json",
        HTTP_SIGNATURE=f"t={stamp},v1={signature}",
    )
    assert response.status_code == 400, response.content
    assert "nested deeper" in response.json()["detail"]


def test_a_lone_surrogate_in_a_choice_field_is_a_400_naming_it(rounds, guard):
    route, checkpoints = rounds
    run = guard.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    raw = json.dumps(_scan(run, checkpoints[0], method="\ud800"))  # json.dumps writes \ud800
    assert "\\ud800" in raw
    response = guard.generic("POST", "/api/v1/scans/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "method" in response.json()["detail"] and "surrogate" in response.json()["detail"]
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("when", BAD_TIMES)
def test_implausible_run_start_is_refused_naming_the_field(rounds, guard, when):
    route, _checkpoints = rounds
    body = {"route": route.pk, "client_uuid": str(uuid.uuid4()), "started_at": when}
    response = guard.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 422, response.content
    assert "started_at" in response.json()
    assert Run.objects.count() == 0


@pytest.mark.parametrize("when", BAD_TIMES)
@pytest.mark.parametrize("field", ["device_time", "device_sent_at"])
def test_implausible_scan_times_are_refused_naming_the_field(rounds, guard, when, field):
    route, checkpoints = rounds
    run = guard.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    response = guard.post("/api/v1/scans/", _scan(run, checkpoints[0], **{field: when}))
    assert response.status_code == 422, response.content
    assert field in response.json()
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("when", BAD_TIMES)
def test_implausible_finish_is_refused_naming_the_field(rounds, guard, when):
    route, _checkpoints = rounds
    run = guard.post("/api/v1/runs/", {"route": route.pk}, format="json").json()["id"]
    response = guard.post(f"/api/v1/runs/{run}/finish/", {"finished_at": when}, format="json")
    assert response.status_code == 422, response.content
    assert "finished_at" in response.json()
    assert Run.objects.get().finished_at is None


@pytest.mark.parametrize("when", BAD_TIMES)
def test_access_events_outside_the_plausible_window_are_refused_and_raise_no_alarm(
    personas, manager, when
):
    door(personas.site_a, personas.zone_a)
    response = manager.post("/api/v1/access-events/?site=ALPHA", [_event(when)], format="json")
    assert response.status_code == 422, response.content
    assert "occurred_at" in response.json()["results"][0]["errors"]
    assert AccessEvent.objects.count() == 0 and Alarm.objects.count() == 0


@pytest.mark.parametrize("when", BAD_TIMES)
def test_sync_times_outside_the_window_are_refused_naming_the_field(rounds, guard, when):
    route, _checkpoints = rounds
    record = {"type": "run", "route": route.pk, "client_uuid": str(uuid.uuid4())}
    response = guard.post("/api/v1/sync/", {"records": [{**record, "started_at": when}]})
    # The request matches the schema: the record is refused in its own result, naming the field.
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["status"] in (400, 422) and "started_at" in result["errors"]
    assert Run.objects.count() == 0


def test_time_filters_off_the_calendar_are_refused(manager):
    for when in BAD_TIMES[1:3]:
        response = manager.get("/api/v1/access-events/", {"occurred_after": when})
        assert response.status_code in (400, 422), (when, response.content)


def test_patching_a_checkpoint_without_a_reason_is_a_422_naming_reason(rounds, manager):
    _route, checkpoints = rounds
    url = f"/api/v1/checkpoints/{checkpoints[0].pk}/"
    refused = manager.patch(url, {"name": "Renamed"}, format="json")
    assert refused.status_code == 422, refused.content
    assert "reason" in refused.json()
    assert Checkpoint.objects.get(pk=checkpoints[0].pk).name == "Gate"
    done = manager.patch(url, {"name": "Renamed", "reason": "new sign"}, format="json")
    assert done.status_code == 200, done.content
    assert Checkpoint.objects.get(pk=checkpoints[0].pk).name == "Renamed"


def test_a_category_id_past_64_bits_is_a_400_naming_it(personas, manager):
    response = manager.get("/api/v1/incidents/", {"category": "99999999999999999999999"})
    assert response.status_code == 400, response.content
    assert "category" in response.json()


def test_labels_for_a_route_that_is_no_number_is_a_404(personas, client_for):
    client = client_for("manager_ab")
    client.raise_request_exception = False
    for route in ("abc", "1e3", "99999999999999999999999", "-1"):
        response = client.get("/sites/ALPHA/checkpoints/labels.pdf", {"route": route})
        assert response.status_code == 404, (route, response.status_code)


def test_a_plausible_time_with_an_offset_is_still_accepted(rounds, guard):
    route, checkpoints = rounds
    started = (timezone.now() - timedelta(minutes=30)).astimezone(timezone.get_fixed_timezone(840))
    body = {"route": route.pk, "client_uuid": str(uuid.uuid4()), "started_at": started.isoformat()}
    response = guard.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 201, response.content
    assert "+14:00" in started.isoformat()


class _StalledBody:
    """A wsgi.input whose client stopped sending: the read times out as under gunicorn."""

    def read(self, *args):
        raise TimeoutError("timed out")

    readline = read


def test_an_api_upload_whose_body_stops_arriving_is_a_json_408_storing_nothing(rounds, guard):
    route, _checkpoints = rounds
    response = guard.generic(
        "POST",
        "/api/v1/scans/",
        b"",
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH="1000000",
        **{"wsgi.input": _StalledBody()},
    )
    assert response.status_code == 408, response.content
    assert "stopped arriving" in response.json()["detail"]
    assert Scan.objects.count() == 0


@pytest.mark.django_db
def test_a_text_of_spaces_only_and_an_unknown_site_are_refused_for_their_content(
    personas, api_client_for
):
    """Both match the schema (a name of one character, a site code): 422 naming each field."""
    response = api_client_for("manager_ab").post(
        "/api/v1/zones/",
        {"name": "\u0085", "site": "[", "reason": "fuzz"},
        format="json",
    )
    assert response.status_code == 422
    assert set(response.json()) >= {"name", "site"}
