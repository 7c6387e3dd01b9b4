"""POST /api/v1/incidents/{id}/police-package/: the zip, with its disclosure recorded."""

import io
import zipfile

import pytest

from facility_log.models import Disclosure, RecordView
from facility_log.services.verify import verify_audit
from tests.incident_factories import draft, seed_site_a_incident

pytestmark = pytest.mark.django_db

BODY = {"recipient": "Berlin Police", "reason": "Case 42 asked for it", "case_number": "0042"}


def test_supervisors_and_managers_get_the_zip_and_a_disclosure(personas, api_client_for):
    incident = seed_site_a_incident(personas)
    for name in ("supervisor_a", "manager_ab"):
        response = api_client_for(name).post(
            f"/api/v1/incidents/{incident.pk}/police-package/", BODY, format="json"
        )
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/zip"
        assert response["Cache-Control"] == "no-store"
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert {"report.pdf", "incident.json", "SHA256SUMS"} <= set(archive.namelist())
    disclosures = Disclosure.objects.filter(object_pk=str(incident.pk))
    assert disclosures.count() == 2
    assert {d.recipient for d in disclosures} == {"Berlin Police"}
    assert disclosures.first().case_number == "0042"
    assert verify_audit().intact


def test_the_same_rules_as_the_page(personas, api_client_for):
    incident = seed_site_a_incident(personas)
    url = f"/api/v1/incidents/{incident.pk}/police-package/"
    before = (Disclosure.objects.count(), RecordView.objects.count())
    for name, code in [("guard_a", 403), ("auditor_a", 403), ("outsider_c", 404)]:
        response = api_client_for(name).post(url, BODY, format="json")
        assert response.status_code == code, name
        assert "Laptop" not in response.content.decode()
    client = api_client_for("manager_ab")
    missing = client.post(url, {"recipient": " "}, format="json")
    assert missing.status_code == 400 and {"recipient", "reason"} <= set(missing.json())
    unnumbered = draft(personas)
    refused = client.post(f"/api/v1/incidents/{unnumbered.pk}/police-package/", BODY)
    assert refused.status_code == 409 and "submit it" in refused.json()["detail"]
    assert (Disclosure.objects.count(), RecordView.objects.count()) == before


def test_a_client_may_ask_for_the_zip_by_its_type(personas, api_client_for):
    incident = seed_site_a_incident(personas)
    response = api_client_for("manager_ab").post(
        f"/api/v1/incidents/{incident.pk}/police-package/",
        BODY,
        format="json",
        HTTP_ACCEPT="application/zip",
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content).startswith(b"PK")
