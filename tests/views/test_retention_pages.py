"""The retention pages: periods per site (managers change, auditors read), purge runs for
auditors, and the legal hold on the incident page. The outsider gets nothing of them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import LegalHold, RetentionPolicy
from facility_log.services.accounts import system_actor
from facility_log.services.retention import place_legal_hold, purge_expired
from tests.incident_factories import submitted


def _retention_url(p, site=None):
    return reverse("site-retention", kwargs={"code": (site or p.site_a).code})


def _purges_url(p, site=None):
    return reverse("site-purges", kwargs={"code": (site or p.site_a).code})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status", "has_form"),
    [
        ("manager_ab", 200, True),
        ("auditor_a", 200, False),
        ("guard_a", 403, False),
        ("supervisor_a", 403, False),
        ("outsider_c", 404, False),
    ],
)
def test_the_retention_page_is_for_managers_and_auditors(
    personas, client_for, who, status, has_form
):
    response = client_for(who).get(_retention_url(personas))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "Access events and their alarms" in html and "90 days" in html
        assert "2557 days" in html
        assert ('name="days"' in html) is has_form


@pytest.mark.django_db
def test_a_manager_changes_a_period_and_the_page_shows_who_and_why(personas, client_for):
    client = client_for("manager_ab")
    response = client.post(
        _retention_url(personas), {"kind": "shifts", "days": "180", "reason": "union agreement"}
    )
    assert response.status_code == 302
    assert RetentionPolicy.objects.get(site=personas.site_a, kind="shifts").days == 180
    html = client_for("auditor_a").get(_retention_url(personas)).content.decode()
    assert "180 days" in html and "set for this site" in html
    assert "union agreement" in html and "manager_ab" in html


@pytest.mark.django_db
def test_a_bad_period_is_shown_on_the_form_and_nothing_changes(personas, client_for):
    response = client_for("manager_ab").post(
        _retention_url(personas), {"kind": "shifts", "days": "0", "reason": "r"}
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not RetentionPolicy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [("auditor_a", 403), ("outsider_c", 404)])
def test_others_cannot_change_a_period(personas, client_for, who, status):
    response = client_for(who).post(
        _retention_url(personas), {"kind": "shifts", "days": "1", "reason": "r"}
    )
    assert response.status_code == status
    assert not RetentionPolicy.objects.exists()


@pytest.mark.django_db
def test_auditors_see_the_purge_runs_of_their_site_with_counts(personas, client_for):
    from tests.retention_helpers import seed_year_of_data

    seed_year_of_data(personas)
    purge_expired(system_actor(), apply=False)
    run = purge_expired(system_actor(), apply=True)
    html = client_for("auditor_a").get(_purges_url(personas)).content.decode()
    assert f"Purge #{run.pk}" in html and "Dry run #" in html
    assert "Closed and void incidents" in html and "2557 days" in html
    assert "completed" in html and "system" in html
    assert client_for("auditor_a").get(_purges_url(personas, personas.site_b)).status_code == 404
    assert client_for("guard_a").get(_purges_url(personas)).status_code == 403
    outsider = client_for("outsider_c")
    assert outsider.get(_purges_url(personas)).status_code == 404
    assert outsider.get(_purges_url(personas, personas.site_c)).status_code == 403


@pytest.mark.django_db
def test_the_purge_runs_page_takes_the_same_queries_for_few_or_many_runs(personas, client_for):
    client = client_for("auditor_a")
    purge_expired(system_actor())
    with CaptureQueriesContext(connection) as few:
        client.get(_purges_url(personas))
    for _ in range(4):
        purge_expired(system_actor())
    with CaptureQueriesContext(connection) as many:
        response = client.get(_purges_url(personas))
    assert response.content.decode().count("Dry run #") == 5
    assert len(many) == len(few)


@pytest.mark.django_db
def test_a_manager_places_and_releases_a_hold_from_the_incident_page(personas, client_for):
    incident = submitted(personas)
    page = reverse("incident-page", kwargs={"pk": incident.pk})
    place = reverse("incident-legal-hold", kwargs={"pk": incident.pk, "action": "place"})
    release = reverse("incident-legal-hold", kwargs={"pk": incident.pk, "action": "release"})
    manager = client_for("manager_ab")
    assert place in manager.get(page).content.decode()
    assert place not in client_for("supervisor_a").get(page).content.decode()

    assert manager.post(place, {"reason": "court order 7 O 12/26"}).status_code == 302
    assert LegalHold.objects.get(incident=incident).is_active
    html = client_for("guard_a").get(page).content.decode()
    assert "On legal hold" in html and "court order 7 O 12/26" in html
    assert release not in html
    history = client_for("auditor_a").get(reverse("incident-history", kwargs={"pk": incident.pk}))
    assert "legal hold placed: court order 7 O 12/26" in history.content.decode()

    assert manager.post(release, {"reason": "case settled"}).status_code == 302
    assert not LegalHold.objects.get(incident=incident).is_active
    assert "On legal hold" not in manager.get(page).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("guard_a", 403), ("supervisor_a", 403), ("outsider_c", 404)]
)
def test_others_cannot_place_a_hold(personas, client_for, who, status):
    incident = submitted(personas)
    url = reverse("incident-legal-hold", kwargs={"pk": incident.pk, "action": "place"})
    assert client_for(who).post(url, {"reason": "mine"}).status_code == status
    assert not LegalHold.objects.exists()


@pytest.mark.django_db
def test_a_hold_without_a_reason_or_twice_is_refused_on_the_form(personas, client_for):
    incident = submitted(personas)
    place_legal_hold(incident, personas.manager_ab, reason="case")
    url = reverse("incident-legal-hold", kwargs={"pk": incident.pk, "action": "place"})
    response = client_for("manager_ab").post(url, {"reason": "again"})
    assert response.status_code == 200
    assert "already on legal hold" in response.content.decode()
    assert LegalHold.objects.count() == 1
