"""/api/v1/shifts/{id}/report/, /api/v1/sites/{code}/activity/{day}/ and
/api/v1/sites/{code}/rounds-compliance/: the reports as JSON, with the PDF/CSV links."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import RecordView
from tests.rounds_helpers import night_route, walk
from tests.shifts_helpers import ago, entry, site_a_shifts, worked

pytestmark = pytest.mark.django_db


def _day(p) -> str:
    return f"{site_a_shifts(p).ended.started_at.astimezone(p.site_a.tzinfo):%Y-%m-%d}"


def test_a_shift_report_as_json_for_the_sites_members_logged(personas, api_client_for):
    shifts = site_a_shifts(personas)
    url = f"/api/v1/shifts/{shifts.ended.pk}/report/"
    for name in ("guard_a", "supervisor_a", "manager_ab", "auditor_a"):
        before = RecordView.objects.count()
        body = api_client_for(name).get(url).json()
        assert body["site"] == "ALPHA" and body["time_zone"] == "Europe/Berlin"
        assert body["shift"]["entries"][0]["text"] == "Alpha log: boiler pressure normal."
        assert body["pdf_url"] == f"/shifts/{shifts.ended.pk}/report.pdf"
        assert RecordView.objects.count() == before + 1, name
    response = api_client_for("outsider_c").get(url)
    assert response.status_code == 404 and "Alpha" not in response.content.decode()


def test_a_site_day_report_as_json_and_a_bad_day_is_a_400(personas, api_client_for):
    day = _day(personas)
    url = f"/api/v1/sites/ALPHA/activity/{day}/"
    body = api_client_for("guard_a").get(url).json()
    assert body["day"] == day and body["pdf_url"] == f"/sites/ALPHA/activity/{day}/report.pdf"
    assert any(s["pass_down_notes"].startswith("Alpha handover") for s in body["shifts"])
    bad = api_client_for("guard_a").get("/api/v1/sites/ALPHA/activity/2026-02-30/")
    assert bad.status_code == 400 and "day" in bad.json()
    before = RecordView.objects.count()
    assert api_client_for("outsider_c").get(url).status_code == 404
    assert RecordView.objects.count() == before


def test_the_day_report_costs_the_same_queries_however_busy(personas, api_client_for):
    day = _day(personas)
    client = api_client_for("manager_ab")
    url = f"/api/v1/sites/ALPHA/activity/{day}/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    shift = site_a_shifts(personas).ended
    for n in range(5):
        entry(shift, f"more {n}", at=shift.started_at + timedelta(minutes=n + 1))
    worked(personas, at=shift.started_at + timedelta(hours=1), hours=1, guard=personas.supervisor_a)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_compliance_report_as_json_with_its_csv_link(personas, api_client_for):
    route, cps = night_route(personas)
    walk(personas, route, cps, ago(hours=1), (0, 10, 20))
    today = timezone.now().astimezone(personas.site_a.tzinfo).date()
    url = "/api/v1/sites/ALPHA/rounds-compliance/"
    for name in ("supervisor_a", "manager_ab", "auditor_a"):
        body = api_client_for(name).get(url).json()
        assert body["end"] == str(today) and body["start"] == str(today - timedelta(days=6))
        (row,) = body["rows"]
        assert (row["route_name"], row["guard"], row["percent_on_time"]) == (
            "Night round",
            "guard_a",
            100.0,
        )
        assert body["csv_url"].startswith("/sites/ALPHA/rounds/report.csv?start=")
    assert api_client_for("guard_a").get(url).status_code == 403
    assert api_client_for("outsider_c").get(url).status_code == 404
    client = api_client_for("manager_ab")
    bad = client.get(url, {"start": "2026-03-10", "end": "2026-03-01", "guard": "nobody"})
    assert bad.status_code == 400 and "end" in bad.json()
    assert client.get(url, {"guard": "nobody"}).json() == {
        "guard": ["No rounds by this guard here."]
    }
    assert client.get(url, {"route": 999999}).status_code == 400
    one = client.get(url, {"route": route.pk, "guard": "guard_a"}).json()
    assert f"route={route.pk}" in one["csv_url"] and len(one["rows"]) == 1
