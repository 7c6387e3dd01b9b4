"""The incident page's reads compiled once per process (services/incident_page.py) give what
the ORM's querysets give: the same rows in the same order, with the same related records,
for each incident they are run with (not the one they were compiled for)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from facility_log.services import incident_page, retention
from facility_log.services import incidents as svc
from tests.incident_factories import draft, png_bytes

pytestmark = pytest.mark.django_db


def _filled(p, tag: str):
    incident = draft(p)
    for i in range(3):
        svc.add_person(incident, p.guard_a, role="witness", name=f"{tag} person {i}")
        svc.add_vehicle(incident, p.guard_a, registration=f"{tag}-{i}")
        svc.add_property_item(incident, p.guard_a, kind="found", description=f"{tag} item {i}")
    incident = svc.submit_incident(incident, p.guard_a)
    for i in range(3):
        upload = SimpleUploadedFile(f"{tag}{i}.png", png_bytes(colour=(i, len(tag), 9)))
        svc.add_attachment(incident, p.guard_a, upload=upload)
    return incident


def test_each_read_gives_the_orms_rows_for_each_incident(personas):
    first, second = _filled(personas, "a"), _filled(personas, "b")
    for incident in (first, second, first):
        assert incident_page.persons(incident) == list(incident.persons.all())
        assert incident_page.vehicles(incident) == list(incident.vehicles.all())
        assert incident_page.property_items(incident) == list(incident.property_items.all())
        assert incident_page.sources(incident) == list(incident.sources.all())
        attachments = incident_page.attachments(incident)
        assert attachments == list(incident.attachments.order_by("uploaded_at", "id"))
        assert [a.uploaded_by.username for a in attachments] == ["guard_a"] * 3
        assert {a.incident for a in attachments} == {incident}
        assert [v.registration for v in incident_page.vehicles(incident)][0].startswith(
            "a-" if incident == first else "b-"
        )


def test_the_active_hold_is_the_retention_services(personas):
    incident = _filled(personas, "h")
    assert incident_page.active_hold(incident) is None is retention.active_hold(incident)
    retention.place_legal_hold(incident, personas.manager_ab, reason="police asked")
    retention.release_legal_hold(incident, personas.manager_ab, reason="case closed")
    retention.place_legal_hold(incident, personas.manager_ab, reason="insurer asked")
    hold = incident_page.active_hold(incident)
    assert hold == retention.active_hold(incident) and hold.reason == "insurer asked"
    assert hold.placed_by.username == "manager_ab"
