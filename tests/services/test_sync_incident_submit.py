"""The tablet's outbox submits the incident drafts it made (`incident-submit` records, through
services/sync.py): by the draft's client_uuid even in the same batch as its creation, once
however often it is replayed, refused field by field when a required field is empty, and
never for another site's incident."""

import uuid

import pytest

from facility_log.models import Incident, LedgerEntry
from facility_log.models.incidents import Status
from facility_log.services import incidents as incident_services
from facility_log.services.sync import Outcome, SyncRecord, sync_records
from tests.incident_factories import draft

pytestmark = pytest.mark.django_db


def _submit(key) -> SyncRecord:
    return SyncRecord(type="incident-submit", fields={}, refs={"incident": key})


def test_a_draft_is_submitted_by_its_client_uuid_and_numbered(personas):
    incident = draft(personas)
    (result,) = sync_records(personas.guard_a, [_submit(incident.client_uuid)])
    assert (result.outcome, result.id) == (Outcome.SAME, incident.pk)
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED and incident.number
    latest = incident.history.first()
    assert latest.history_user == personas.guard_a
    assert latest.history_change_reason == "submitted from the guard tablet"


def test_a_replayed_submission_changes_nothing_even_after_the_report_was_returned(personas):
    incident = draft(personas)
    sync_records(personas.guard_a, [_submit(incident.pk)])
    incident.refresh_from_db()
    number, history = incident.number, incident.history.count()
    entries = LedgerEntry.objects.count()
    (again,) = sync_records(personas.guard_a, [_submit(incident.client_uuid)])
    assert (again.outcome, again.id) == (Outcome.SAME, incident.pk)
    incident_services.return_incident(incident, personas.supervisor_a, comment="Add the van.")
    history = Incident.objects.get(pk=incident.pk).history.count()
    entries = LedgerEntry.objects.count()
    (replayed,) = sync_records(personas.guard_a, [_submit(incident.client_uuid)])
    assert replayed.outcome == Outcome.SAME
    incident.refresh_from_db()
    assert incident.status == Status.RETURNED and incident.number == number
    assert incident.history.count() == history
    assert LedgerEntry.objects.count() == entries


def test_a_draft_without_the_required_fields_is_refused_naming_each(personas):
    incident = draft(personas, category=None, narrative="")
    (result,) = sync_records(personas.guard_a, [_submit(incident.pk)])
    assert result.outcome == Outcome.INVALID
    assert set(result.errors) == {"category", "narrative"}
    assert result.errors["category"] == ["Required before submitting."]
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT and not incident.number


def test_a_draft_not_on_the_server_yet_waits(personas):
    (result,) = sync_records(personas.guard_a, [_submit(uuid.uuid4())])
    assert result.outcome == Outcome.WAITING
    assert "incident" in result.errors


def test_the_outsider_cannot_submit_site_a_incidents(personas):
    incident = draft(personas)
    entries = LedgerEntry.objects.count()
    by_id, by_uuid = sync_records(
        personas.outsider_c, [_submit(incident.pk), _submit(incident.client_uuid)]
    )
    assert by_id.outcome == Outcome.INVALID and "incident" in by_id.errors
    assert by_uuid.outcome == Outcome.WAITING  # as an incident that does not exist
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT
    assert LedgerEntry.objects.count() == entries


def test_a_voided_draft_is_a_conflict_not_a_submission(personas):
    incident = draft(personas)
    incident_services.void_incident(incident, personas.supervisor_a, reason="Entered twice.")
    (result,) = sync_records(personas.guard_a, [_submit(incident.pk)])
    assert result.outcome == Outcome.CONFLICT and "status" in result.errors
