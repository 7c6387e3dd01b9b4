"""Which fields submitting needs: stated in the schema and on the incident, and a 400 on
submit (422: the body matched the schema, the draft lacks them) that names each one missing."""

import uuid

import pytest
from django.urls import reverse

from facility_log.models import Incident
from facility_log.models.incidents import Status

pytestmark = pytest.mark.django_db

REQUIRED = ["category", "severity", "occurred_from", "narrative"]


def test_the_schema_states_the_fields_submitting_needs(personas, client_for):
    schema = client_for("guard_a").get(reverse("api-schema") + "?format=json").json()
    components = schema["components"]["schemas"]
    for name in ("IncidentCreateRequest", "IncidentDetail"):
        assert components[name]["x-required-to-submit"] == REQUIRED, name
    submit = schema["paths"]["/api/v1/incidents/{id}/submit/"]["post"]["responses"]["422"]
    refused = submit["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(REQUIRED) <= set(components[refused]["properties"])


def test_a_submit_without_them_is_a_422_naming_each_and_nothing_changes(personas, api_client_for):
    client = api_client_for("guard_a")
    created = client.post(
        "/api/v1/incidents/",
        {"site": "ALPHA", "client_uuid": str(uuid.uuid4()), "title": "Lamp out"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["missing_to_submit"] == ["category", "narrative"]  # severity, time: defaults
    refused = client.post(f"/api/v1/incidents/{body['id']}/submit/", {}, format="json")
    assert refused.status_code == 422
    assert set(refused.json()) == set(body["missing_to_submit"])
    assert all(v == ["Required before submitting."] for v in refused.json().values())
    incident = Incident.objects.get(pk=body["id"])
    assert incident.status == Status.DRAFT and not incident.number
