"""The outsider (a guard at site C) cannot see, list, search, download an attachment of, or
export any site-A incident — with real site-A incidents in the database."""

import pytest
from django.urls import reverse

from facility_log.models import Incident
from tests.incident_factories import seed_site_a_incident


@pytest.fixture
def site_a_incident(personas):
    return seed_site_a_incident(personas)


def _secrets(incident, url=""):
    # What the outsider typed into the URL is echoed back to them; that is not a leak.
    typed = ["ALPHA"] if "ALPHA" in url else []
    secrets = [incident.number, incident.title, "Walt Witness", "ALPHA", "Alpha Plant"]
    return [s for s in secrets if s not in typed]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/incidents/",
        "/incidents/?text=laptop",
        "/incidents/?site=ALPHA",
        "/incidents/review/",
        "/incidents/export.csv",
        "/incidents/export.csv?site=ALPHA&text=laptop",
        "/api/v1/incidents/",
        "/api/v1/incidents/?text=laptop&site=ALPHA",
        "/api/v1/attachments/",
    ],
)
def test_outsider_lists_searches_and_exports_show_nothing_of_site_a(
    url, site_a_incident, client_for, api_client_for
):
    client = api_client_for("outsider_c") if url.startswith("/api/") else client_for("outsider_c")
    response = client.get(url)
    assert response.status_code == 200
    body = response.getvalue().decode()
    for secret in _secrets(site_a_incident, url):
        assert secret not in body, (url, secret)


@pytest.mark.django_db
def test_manager_does_find_the_incident_the_outsider_cannot(site_a_incident, client_for):
    body = client_for("manager_ab").get("/incidents/export.csv?text=laptop").getvalue().decode()
    assert site_a_incident.number in body


@pytest.mark.django_db
def test_outsider_cannot_open_or_download_anything_of_a_site_a_incident(
    site_a_incident, client_for, api_client_for
):
    attachment = site_a_incident.attachments.get()
    page = client_for("outsider_c")
    api = api_client_for("outsider_c")
    for url in (
        reverse("incident-page", args=[site_a_incident.pk]),
        reverse("incident-history", args=[site_a_incident.pk]),
        reverse("attachment-download", args=[attachment.pk]),
    ):
        assert page.get(url).status_code == 404, url
    for url in (
        f"/api/v1/incidents/{site_a_incident.pk}/",
        f"/api/v1/incidents/{site_a_incident.pk}/attachments/",
        f"/api/v1/attachments/{attachment.pk}/download/",
    ):
        assert api.get(url).status_code == 404, url


@pytest.mark.django_db
def test_outsider_cannot_report_into_site_a(personas, client_for, api_client_for):
    response = api_client_for("outsider_c").post(
        "/api/v1/incidents/",
        {"site": "ALPHA", "client_uuid": "6a0f3f5e-2f7a-4b9c-9d1e-0a1b2c3d4e5f", "narrative": "x"},
        format="json",
    )
    assert response.status_code == 422
    assert "site" in response.json()
    page = client_for("outsider_c").post(
        reverse("incident-new"),
        {
            "site": personas.site_a.pk,
            "client_uuid": "6a0f3f5e-2f7a-4b9c-9d1e-0a1b2c3d4e5f",
            "narrative": "x",
            "severity": "low",
            "occurred_from": "2026-11-26T01:00",
            "person-TOTAL_FORMS": "0",
            "person-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200
    assert Incident.objects.filter(site=personas.site_a).count() == 0
