"""The run page's scans, active exceptions and checkpoints read in one round trip
(services/run_page.py) give the bytes the page gave when each was read on its own: in
English and German, with hostile names, notes and exception details, for a run just begun,
half walked with missed checkpoints, and with no stops; the outsider gets nothing."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Checkpoint
from facility_log.services import run_page
from facility_log.services.prepared import with_statements
from tests.rounds_helpers import night_route, walk

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"Ö\""


def _old_read_run(run, using="default"):
    """What round_run read before: each list on its own."""
    scans = list(run.scans.select_related("checkpoint"))
    exceptions = run.exceptions.filter(withdrawn_at__isnull=True).order_by("detected_at")
    checkpoints = Checkpoint.objects.select_related("zone").in_bulk(
        [stop["checkpoint"] for stop in run.plan]
    )
    return scans, exceptions, checkpoints


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    html = re.sub(r'name="client_uuid" value="[^"]*"', "uuid", html)  # fresh per request
    return re.sub(r'nonce="[^"]*"', "nonce", html)


def _runs(p):
    names = (f"{HOSTILE} 1", "Dock", f"{HOSTILE} 3")
    route, checkpoints = night_route(p, route_name=HOSTILE, names=names, minutes=(0, 5, 10))
    began = walk(p, route, checkpoints, timezone.now() - timedelta(minutes=2), [], finish=False)
    half = walk(p, route, checkpoints, timezone.now() - timedelta(hours=2), [0, None, 12])
    return [began, half]


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_run_page_is_the_bytes_it_was(personas, client_for, monkeypatch, language):
    runs = _runs(personas)
    assert runs[1].exceptions.filter(withdrawn_at__isnull=True).exists()  # a missed stop
    client = client_for("supervisor_a")
    for run in runs:
        url = reverse("round-run", args=[run.pk])
        new = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        with monkeypatch.context() as patch:
            patch.setattr(run_page, "read_run", _old_read_run)
            old = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert _normalised(new) == _normalised(old)
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in new
        assert "<script>alert" not in new


def test_one_round_trip_for_the_three_reads(personas, client_for):
    run = _runs(personas)[1]
    url = reverse("round-run", args=[run.pk])
    client = client_for("supervisor_a")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    together = [
        with_statements(q["sql"])
        for q in captured.captured_queries
        if "facility_log_scan" in with_statements(q["sql"])
    ]
    assert len(together) == 1
    if connection.vendor == "postgresql":
        assert "facility_log_roundexception" in together[0]
        assert "facility_log_checkpoint" in together[0]
    scans, exceptions, checkpoints = run_page.read_run(run)
    old_scans, old_exceptions, old_checkpoints = _old_read_run(run)
    assert scans == old_scans and exceptions == list(old_exceptions)
    assert [s.checkpoint.name for s in scans] == [s.checkpoint.name for s in old_scans]
    assert checkpoints == old_checkpoints
    assert {c.zone for c in checkpoints.values()} == {c.zone for c in old_checkpoints.values()}
    assert client_for("outsider_c").get(url).status_code == 404
