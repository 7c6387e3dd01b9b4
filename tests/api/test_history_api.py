"""/api/v1/{incidents,alarms,runs,shifts,sites}/{id}/history/: who, when, why, which fields."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import RecordView
from facility_log.services import incidents as svc
from tests.access.helpers import site_a_alarm
from tests.incident_factories import seed_site_a_incident
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import site_a_shifts

pytestmark = pytest.mark.django_db

READERS = ["guard_a", "supervisor_a", "manager_ab", "auditor_a"]


def _urls(p) -> dict[str, str]:
    return {
        "incident": f"/api/v1/incidents/{seed_site_a_incident(p).pk}/history/",
        "alarm": f"/api/v1/alarms/{site_a_alarm(p).pk}/history/",
        "run": f"/api/v1/runs/{site_a_rounds(p).run.pk}/history/",
        "shift": f"/api/v1/shifts/{site_a_shifts(p).ended.pk}/history/",
        "site": f"/api/v1/sites/{p.site_a.code}/history/",
    }


def test_every_reader_of_the_record_reads_its_history_the_outsider_gets_404(
    personas, api_client_for
):
    urls = _urls(personas)
    for name in READERS:
        client = api_client_for(name)
        for kind, url in urls.items():
            response = client.get(url)
            if kind == "site" and name in ("guard_a", "supervisor_a"):
                assert response.status_code == 403, (name, kind)
                continue
            assert response.status_code == 200, (name, kind, response.content)
            body = response.json()
            assert body["record_type"] == kind and body["results"], (name, kind)
    outsider = api_client_for("outsider_c")
    for url in urls.values():
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert "ALPHA" not in response.content.decode()


def test_incident_history_names_who_when_why_and_the_fields(personas, api_client_for):
    incident = seed_site_a_incident(personas)
    svc.correct_field(
        incident, personas.supervisor_a, field="title", value="Laptop taken", reason="typo"
    )
    client = api_client_for("auditor_a")
    before = RecordView.objects.count()
    rows = client.get(f"/api/v1/incidents/{incident.pk}/history/").json()["results"]
    correction = next(r for r in rows if r["reason"] == "correction: typo")
    assert correction["user"] == "supervisor_a" and correction["kind"] == "changed"
    assert {"field": "title", "old": "Laptop missing from the lobby", "new": "Laptop taken"} in (
        correction["changes"]
    )
    kinds = {r["kind"] for r in rows}
    assert {"created", "added", "attached"} <= kinds
    fields = {c["field"] for r in rows for c in r["changes"]}
    assert "version" not in fields and "client_uuid" not in fields
    assert [r["when"] for r in rows] == sorted(r["when"] for r in rows)
    assert RecordView.objects.count() == before + 1  # read like the history page


def test_run_and_shift_histories_carry_scans_and_log_entries(personas, api_client_for):
    client = api_client_for("guard_a")
    urls = _urls(personas)
    run = client.get(urls["run"]).json()["results"]
    assert any(r["kind"] == "scanned" for r in run)
    before = RecordView.objects.count()
    shift = client.get(urls["shift"]).json()["results"]
    assert RecordView.objects.count() == before + 1  # a shift's log is read like its report
    assert any(
        r["kind"] == "logged"
        and {"field": "text", "old": None, "new": "Alpha log: boiler pressure normal."}
        in r["changes"]
        for r in shift
    )


def test_history_costs_the_same_queries_however_long(personas, api_client_for):
    incident = seed_site_a_incident(personas)
    client = api_client_for("manager_ab")
    url = f"/api/v1/incidents/{incident.pk}/history/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(5):
        svc.add_supplement(incident, personas.guard_a, text=f"more {n}", reason="more")
        incident = svc.correct_field(
            incident, personas.supervisor_a, field="title", value=f"t{n}", reason=f"r{n}"
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
