"""Two supervisors acting on one incident at once: the one who comes second is told what the
incident is now (409 with it, in plain grammar), never a 400/422 about a stale request."""

import threading

import pytest
from django.db import connection

from facility_log.models import Incident, Review
from facility_log.services import incidents as svc
from tests.incident_factories import submitted


@pytest.mark.django_db
def test_the_second_approval_is_a_409_with_the_incident_as_it_is_now(personas, api_client_for):
    incident = submitted(personas)
    url = f"/api/v1/incidents/{incident.pk}/approve/"
    assert api_client_for("supervisor_a").post(url, {}, format="json").status_code == 200
    late = api_client_for("manager_ab").post(url, {}, format="json")
    assert late.status_code == 409, late.content
    body = late.json()
    assert body["detail"] == "An approved incident cannot be approved."
    assert body["status"] == ["An approved incident cannot be approved."]
    assert body["current_status"] == "approved"
    assert body["current"]["status"] == "approved"
    assert body["current_version"] == Incident.objects.get(pk=incident.pk).version
    assert Review.objects.filter(incident=incident).count() == 1


@pytest.mark.django_db
def test_the_second_approval_on_the_page_says_what_happened(personas, client_for):
    incident = submitted(personas)
    svc.approve_incident(incident, personas.supervisor_a)
    response = client_for("manager_ab").post(
        f"/incidents/{incident.pk}/approve/", {"comment": ""}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("is approved now" in m and "An approved incident" in m for m in shown), shown


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers with row locks: PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_supervisors_approving_at_once_one_wins_one_gets_409(
    transactional_db, personas, api_client_for
):
    incident = submitted(personas)
    url = f"/api/v1/incidents/{incident.pk}/approve/"
    clients = [api_client_for("supervisor_a"), api_client_for("manager_ab")]
    start = threading.Barrier(2)
    codes = []

    def approve(client):
        start.wait()
        try:
            codes.append(client.post(url, {}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    assert Review.objects.filter(incident=incident).count() == 1
