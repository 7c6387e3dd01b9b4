"""The outsider (a guard at site C) sees no site-A checkpoint, tag code, run or report, and
writes nothing into site A's rounds, on pages or the API, however plausible the request."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Checkpoint, RoundException, Route, Run, Scan, Schedule
from tests.cross_site import SITE_A_OBJECT_URLS, rounds_at_a, site_a_secrets

ROUND_URLS = sorted(
    name
    for name in SITE_A_OBJECT_URLS
    if name.startswith(("round", "checkpoint", "api-checkpoint", "api-route", "api-schedule"))
    or name.startswith(("api-run", "api-scan", "api-round"))
)


def _rounds_rows() -> tuple:
    models = (Checkpoint, Route, Schedule, Run, RoundException)
    return (
        *(m.objects.count() for m in models),
        *(m.history.count() for m in models),
        Scan.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ROUND_URLS)
def test_outsider_cannot_read_or_write_site_a_rounds(name, personas, client_for, api_client_for):
    data = rounds_at_a(personas)
    url = reverse(name, kwargs=SITE_A_OBJECT_URLS[name](personas))
    client = api_client_for("outsider_c") if name.startswith("api-") else client_for("outsider_c")
    payload = {
        "reason": "x",
        "name": "Hijacked",
        "zone": personas.zone_a.pk,
        "code": data.checkpoints[1].tag_code,
        "client_uuid": str(uuid.uuid4()),
        "finished_at": timezone.now().isoformat(),
    }
    before = _rounds_rows()
    for method in ("get", "post", "patch"):
        response = getattr(client, method)(url, payload)
        assert response.status_code in (403, 404, 405), (method, url, response.status_code)
        for secret in site_a_secrets(personas):
            assert secret not in response.content.decode(), (method, url, secret)
    assert _rounds_rows() == before


@pytest.mark.django_db
def test_outsider_cannot_start_or_scan_site_a_rounds_through_the_api(personas, api_client_for):
    data = rounds_at_a(personas)
    client = api_client_for("outsider_c")
    before = _rounds_rows()
    started = client.post("/api/v1/runs/", {"route": data.route.pk}, format="json")
    scanned = client.post(
        "/api/v1/scans/",
        {
            "route": data.route.pk,
            "tag_code": data.checkpoints[0].tag_code,
            "client_uuid": str(uuid.uuid4()),
            "method": "qr",
            "device_time": timezone.now().isoformat(),
        },
        format="json",
    )
    assert (started.status_code, scanned.status_code) == (422, 422)
    assert _rounds_rows() == before


@pytest.mark.django_db
def test_outsider_reusing_a_site_a_scan_uuid_learns_nothing(personas, api_client_for):
    data = rounds_at_a(personas)
    response = api_client_for("outsider_c").post(
        "/api/v1/scans/",
        {
            "run": data.run.pk,
            "tag_code": "X",
            "client_uuid": str(data.scan.client_uuid),
            "method": "qr",
            "device_time": timezone.now().isoformat(),
        },
        format="json",
    )
    assert response.status_code in (400, 422)
    body = response.content.decode()
    assert data.checkpoints[0].tag_code not in body and "Alpha" not in body
