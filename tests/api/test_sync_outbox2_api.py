"""`visitor-in`, `visitor-out` and `procedure-tick` records in `POST /api/v1/sync/`: a visitor
signed in and out and a step ticked in one request, each answered as its own endpoint would;
a replay answers 200 and writes nothing; a record not as its type declares refuses the request
naming the field; the outsider reaches nothing; and the request's queries do not grow with the
number of visitors signed in."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import ProcedureTick, Visitor
from tests.incident_factories import draft
from tests.onsite.procedure_helpers import incident_procedure

pytestmark = pytest.mark.django_db
URL = "/api/v1/sync/"


def _statuses(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [result["status"] for result in response.json()["results"]]


def _visitor_in(p, name="Vera Visitor") -> dict:
    return {
        "type": "visitor-in",
        "client_uuid": str(uuid.uuid4()),
        "site": p.site_a.code,
        "name": name,
        "host": "Hal Host",
        "signed_in_at": timezone.now().isoformat(),
    }


def _visitor_out(visitor_uuid: str) -> dict:
    return {
        "type": "visitor-out",
        "client_uuid": str(uuid.uuid4()),
        "visitor_uuid": visitor_uuid,
        "signed_out_at": timezone.now().isoformat(),
    }


def test_sign_in_out_and_a_tick_in_one_request_then_a_replay(personas, api_client_for):
    procedure = incident_procedure(personas)
    incident = draft(personas, category=procedure.category)
    came = _visitor_in(personas)
    tick = {
        "type": "procedure-tick",
        "client_uuid": str(uuid.uuid4()),
        "incident_uuid": str(incident.client_uuid),
        "step": 1,
    }
    records = [came, _visitor_out(came["client_uuid"]), tick]
    client = api_client_for("guard_a")
    assert _statuses(client.post(URL, {"records": records}, format="json")) == [201, 201, 201]
    assert _statuses(client.post(URL, {"records": records}, format="json")) == [200, 200, 200]
    visitor = Visitor.objects.get()
    assert visitor.signed_out_at is not None
    assert ProcedureTick.objects.get().incident == incident


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": 7}, "name"),
        ({"site": "x" * 21}, "site"),
        ({"signed_in_at": "yesterday"}, "signed_in_at"),
        ({"badge": "B-1"}, "badge"),
    ],
)
def test_a_record_not_as_declared_refuses_the_request_naming_the_field(
    personas, api_client_for, change, field
):
    record = {**_visitor_in(personas), **change}
    response = api_client_for("guard_a").post(URL, {"records": [record]}, format="json")
    assert response.status_code == 400
    assert field in response.json()["records"]["0"]
    assert not Visitor.objects.exists()


def test_a_tick_step_below_one_refuses_the_request(personas, api_client_for):
    incident = draft(personas)
    record = {"type": "procedure-tick", "client_uuid": str(uuid.uuid4()), "incident": incident.pk}
    response = api_client_for("guard_a").post(
        URL, {"records": [{**record, "step": 0}]}, format="json"
    )
    assert response.status_code == 400 and "step" in response.json()["records"]["0"]


def test_the_outsider_reaches_nothing_at_site_a(personas, api_client_for):
    procedure = incident_procedure(personas)
    incident = draft(personas, category=procedure.category)
    tick = {
        "type": "procedure-tick",
        "client_uuid": str(uuid.uuid4()),
        "incident": incident.pk,
        "step": 1,
    }
    response = api_client_for("outsider_c").post(
        URL, {"records": [_visitor_in(personas), tick]}, format="json"
    )
    assert _statuses(response) == [400, 400]
    errors = [r["errors"] for r in response.json()["results"]]
    assert "site" in errors[0] and "incident" in errors[1]
    assert not Visitor.objects.exists() and not ProcedureTick.objects.exists()


def _queries_for(personas, api_client_for, count: int) -> int:
    client = api_client_for("guard_a")
    records = [_visitor_in(personas, name=f"V{i}") for i in range(count)]
    with CaptureQueriesContext(connection) as captured:
        assert set(_statuses(client.post(URL, {"records": records}, format="json"))) == {201}
    return len(captured)


def test_queries_grow_by_a_fixed_number_per_sign_in(personas, api_client_for):
    # Each sign-in is its own savepoint, insert, history row and ledger entry: a constant per
    # record, never a read of the sheet (two sizes, the same cost per record). Batches of
    # several records: on PostgreSQL a single ledger entry is chained in one statement
    # instead of two (services/ledger.py), a difference in the fixed part, not per record.
    base = _queries_for(personas, api_client_for, 3)
    five = _queries_for(personas, api_client_for, 5)
    nine = _queries_for(personas, api_client_for, 9)
    assert (nine - five) == 2 * (five - base)
