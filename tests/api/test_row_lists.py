"""The API lists read as rows (facility_log/api/rows.py) send exactly what the serializer
path sends: the same bytes for every list, with filters, on cursor pages, in another time
zone, with nullable relations empty; and no model instance is built for their rows."""

from datetime import timedelta

import pytest
from django.db.models import Model
from django.utils import timezone

from facility_log.api import rows
from facility_log.api.access.events import AccessEventSerializer
from facility_log.api.incidents.serializers import IncidentSerializer
from facility_log.api.rounds.round_exceptions import RoundExceptionSerializer
from facility_log.api.rounds.runs import RunSerializer
from facility_log.api.rounds.scans import ScanSerializer
from facility_log.api.shifts import ShiftSerializer
from facility_log.models.incidents import ThreatChannel
from facility_log.services import incidents as svc
from facility_log.services.rounds import finish_run, start_run
from tests.access.helpers import door, ingest, row
from tests.incident_factories import draft, submitted
from tests.rounds_helpers import site_a_rounds
from tests.shifts_helpers import ago, site_a_shifts, worked

pytestmark = pytest.mark.django_db

LIST_SERIALIZERS = [
    IncidentSerializer,
    AccessEventSerializer,
    ScanSerializer,
    RunSerializer,
    ShiftSerializer,
    RoundExceptionSerializer,
]


@pytest.fixture
def world(personas):
    """Rows of every list at sites A and B, with empty nullable relations and several
    pages' worth of incidents and events."""
    for n in range(7):
        draft(personas, title=f"Draft {n}", occurred_from=timezone.now() - timedelta(hours=n))
    draft(personas, title="No zone or category", zone=None, category=None)
    threat = draft(personas, title="A threat", threat_channel=ThreatChannel.values[0])
    svc.void_incident(threat, personas.manager_ab, reason="a test")
    submitted(personas, title="Submitted ladder")
    for site, zone in ((personas.site_a, personas.zone_a), (personas.site_b, personas.zone_b)):
        door(site, zone)
        ingest(
            site,
            [
                row(
                    line=n + 2,
                    external_id=f"{site.code}-{n}",
                    occurred_at=f"2026-03-28T2{n % 4}:0{n}:00Z",
                    cardholder="Ana Ruiz" if n % 2 else "",
                    event_type="denied" if n % 3 == 0 else "granted",
                )
                for n in range(6)
            ],
        )
    rounds = site_a_rounds(personas)
    site_a_shifts(personas)
    for hours in range(3, 6):
        worked(
            personas,
            at=ago(hours=hours * 10),
            hours=1,
            notes=f"notes {hours}",
            guard=personas.supervisor_a,
        )
        run = start_run(rounds.route, personas.guard_a, started_at=ago(hours=hours))
        finish_run(run, personas.guard_a, finished_at=run.started_at + timedelta(minutes=50))
    return personas


URLS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/?limit=3",
    "/api/v1/incidents/?text=ladder",
    "/api/v1/incidents/?status=draft&limit=2",
    "/api/v1/access-events/",
    "/api/v1/access-events/?limit=4",
    "/api/v1/access-events/?site=ALPHA&cardholder=Ana",
    "/api/v1/access-events/?event_type=denied",
    "/api/v1/scans/",
    "/api/v1/scans/?method=qr",
    "/api/v1/runs/",
    "/api/v1/runs/?limit=2&offset=1",
    "/api/v1/shifts/",
    "/api/v1/shifts/?limit=2",
    "/api/v1/round-exceptions/",
    "/api/v1/round-exceptions/?limit=1&offset=1",
]


def _walk(client, url: str, pages: int = 4) -> list[bytes]:
    """The bodies of `url` and of the pages its `next` (then `previous`) links lead to."""
    bodies = []
    for _ in range(pages):
        response = client.get(url)
        assert response.status_code == 200, response.content
        bodies.append(response.content)
        url = response.json().get("next")
        if not url:
            break
    back = response.json().get("previous")
    if back:
        bodies.append(client.get(back).content)
    return bodies


def _both_ways(client, monkeypatch, url: str) -> tuple[list, list]:
    fast = _walk(client, url)
    with monkeypatch.context() as m:
        m.setattr(rows, "row_plan", lambda _serializer_class: None)
        slow = _walk(client, url)
    return fast, slow


def test_every_list_reads_rows_not_instances():
    for serializer_class in LIST_SERIALIZERS:
        assert rows.row_plan(serializer_class) is not None, serializer_class


@pytest.mark.parametrize("url", URLS)
def test_a_list_read_as_rows_sends_the_serializers_bytes(world, api_client_for, monkeypatch, url):
    client = api_client_for("manager_ab")
    fast, slow = _both_ways(client, monkeypatch, url)
    assert fast == slow
    assert b'"results":[]' not in fast[0] or "text=" in url or "method=" in url


def test_rows_in_another_time_zone_are_sent_as_the_serializer_sends_them(
    world, api_client_for, monkeypatch, settings
):
    settings.TIME_ZONE = "America/St_Johns"
    client = api_client_for("manager_ab")
    for url in ("/api/v1/incidents/", "/api/v1/access-events/", "/api/v1/shifts/"):
        with timezone.override("Asia/Kolkata"):
            fast, slow = _both_ways(client, monkeypatch, url)
        assert fast == slow
        assert b"+05:30" in fast[0]


def test_a_null_zone_or_category_is_sent_as_the_serializer_sends_it(world, api_client_for):
    client = api_client_for("manager_ab")
    listed = client.get("/api/v1/incidents/?limit=500").json()["results"]
    bare = next(i for i in listed if i["title"] == "No zone or category")
    assert bare["zone"] is bare["zone_name"] is bare["category"] is bare["category_name"] is None
    with_zone = next(i for i in listed if i["title"] == "Draft 0")
    assert with_zone["zone_name"] == world.zone_a.name


def test_the_outsider_reads_no_row_of_another_site(world, api_client_for):
    client = api_client_for("outsider_c")
    for url in URLS:
        if "cardholder" in url:
            continue
        body = client.get(url).json()
        assert body["results"] == [], url


def test_list_rows_build_no_model_instance(world, api_client_for, monkeypatch):
    """The point of the rows: no model instance per row (only the token's and the user's,
    and the sites the caller's scope is read as)."""
    client = api_client_for("manager_ab")
    client.get("/api/v1/me/")
    built = []
    original = Model.from_db.__func__

    def counting(cls, db, field_names, values):
        built.append(cls.__name__)
        return original(cls, db, field_names, values)

    monkeypatch.setattr(Model, "from_db", classmethod(counting))
    for url in (u for u in URLS if "cardholder" not in u):
        built.clear()
        client.get(url)
        assert set(built) <= {"ApiToken", "User", "Site", "Membership"}, (url, built)


def test_rows_follow_the_output_settings_as_the_serializer_does(
    world, api_client_for, monkeypatch, settings
):
    client = api_client_for("manager_ab")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%d %H:%M"}
    for url in ("/api/v1/incidents/", "/api/v1/runs/"):
        fast, slow = _both_ways(client, monkeypatch, url)
        assert fast == slow
    assert b"T" not in fast[0].split(b'"started_at":"')[1][:12]
