"""`incident-submit` records in `POST /api/v1/sync/`: a draft made by the tablet is submitted
in the same request that creates nothing else, a replay answers 200, a missing required field
is a 400 naming it, and the outsider reaches nothing."""

import pytest

from facility_log.models.incidents import Status
from tests.incident_factories import draft

pytestmark = pytest.mark.django_db
URL = "/api/v1/sync/"


def _statuses(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [result["status"] for result in response.json()["results"]]


def test_a_draft_is_submitted_once_however_often_it_is_sent(personas, api_client_for):
    incident = draft(personas)
    record = {"type": "incident-submit", "incident_uuid": str(incident.client_uuid)}
    client = api_client_for("guard_a")
    assert _statuses(client.post(URL, {"records": [record]}, format="json")) == [200]
    incident.refresh_from_db()
    number = incident.number
    assert incident.status == Status.SUBMITTED and number
    assert _statuses(client.post(URL, {"records": [record, record]}, format="json")) == [200, 200]
    incident.refresh_from_db()
    assert incident.number == number


def test_a_missing_required_field_is_named(personas, api_client_for):
    incident = draft(personas, category=None)
    record = {"type": "incident-submit", "incident": incident.pk}
    response = api_client_for("guard_a").post(URL, {"records": [record]}, format="json")
    assert _statuses(response) == [400]
    assert response.json()["results"][0]["errors"] == {"category": ["Required before submitting."]}


def test_both_or_neither_reference_and_unknown_fields_are_refused(personas, api_client_for):
    incident = draft(personas)
    client = api_client_for("guard_a")
    both = {
        "type": "incident-submit",
        "incident": incident.pk,
        "incident_uuid": str(incident.client_uuid),
    }
    assert _statuses(client.post(URL, {"records": [both]}, format="json")) == [400]
    unknown = {"type": "incident-submit", "incident": incident.pk, "status": "approved"}
    response = client.post(URL, {"records": [unknown]}, format="json")
    assert response.status_code == 400 and "status" in str(response.json())
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT


def test_the_outsider_cannot_submit_site_a_incidents(personas, api_client_for):
    incident = draft(personas)
    record = {"type": "incident-submit", "incident": incident.pk}
    response = api_client_for("outsider_c").post(URL, {"records": [record]}, format="json")
    assert _statuses(response) == [400]
    assert "incident" in response.json()["results"][0]["errors"]
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT
