"""The admin shows incidents but refuses to change a submitted one."""

import pytest

from facility_log.models import Incident
from tests.incident_factories import draft, submitted


def _form(incident, **changes):
    data = {
        "zone": incident.zone_id or "",
        "location_text": "",
        "category": incident.category_id or "",
        "severity": incident.severity,
        "occurred_from_0": "2026-11-26",
        "occurred_from_1": "01:00:00",
        "reported_at_0": "2026-11-26",
        "reported_at_1": "01:00:00",
        "narrative": incident.narrative,
        "change_reason": "admin edit",
    }
    # The incident's parts are inlines on its page; a browser sends their (empty) formsets.
    for prefix in (
        "persons",
        "vehicles",
        "property_items",
        "supplements",
        "attachments",
        "reviews",
    ):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


@pytest.mark.django_db
def test_submitted_narrative_cannot_be_edited_in_the_admin(personas, client_for):
    incident = submitted(personas)
    client = client_for("admin")
    url = f"/admin/facility_log/incident/{incident.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="narrative"' not in page.content.decode()
    response = client.post(url, _form(incident, narrative="Rewritten by admin"))
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).narrative == incident.narrative


@pytest.mark.django_db
def test_a_draft_can_be_fixed_in_the_admin_with_a_reason(personas, client_for):
    incident = draft(personas)
    url = f"/admin/facility_log/incident/{incident.pk}/change/"
    response = client_for("admin").post(url, _form(incident, narrative="Typo fixed"))
    assert response.status_code == 302, response.content.decode()[:3000]
    row = Incident.history.filter(id=incident.pk).latest()
    assert (row.narrative, row.history_change_reason) == ("Typo fixed", "admin edit")


@pytest.mark.django_db
def test_admin_cannot_delete_incidents(personas, client_for):
    incident = submitted(personas)
    response = client_for("admin").get(f"/admin/facility_log/incident/{incident.pk}/delete/")
    assert response.status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()
