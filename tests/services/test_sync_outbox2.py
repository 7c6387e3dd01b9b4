"""The tablet's outbox signs visitors in and out (`visitor-in`, `visitor-out`) and ticks the
steps of the reported incident's procedure (`procedure-tick`), through services/sync.py: once
however often a record is replayed, by client_uuid even for a record earlier in the same batch,
refused naming the field, and never for another site."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from facility_log.models import LedgerEntry, ProcedureTick, Visitor
from facility_log.services import visitors
from facility_log.services.sync import Outcome, SyncRecord, sync_records
from tests.incident_factories import draft
from tests.onsite.procedure_helpers import incident_procedure

pytestmark = pytest.mark.django_db


def _visitor_in(p, key=None, **fields) -> SyncRecord:
    data = {
        "client_uuid": key or uuid.uuid4(),
        "site": p.site_a.code,
        "name": "Vera Visitor",
        "host": "Hal Host",
        "company": "Acme",
        "badge_number": "B-7",
        "signed_in_at": timezone.now() - timedelta(minutes=30),
    }
    data.update(fields)
    return SyncRecord(type="visitor-in", fields=data)


def _visitor_out(visitor_key, key=None, at=None) -> SyncRecord:
    fields = {"client_uuid": key or uuid.uuid4(), "signed_out_at": at or timezone.now()}
    return SyncRecord(type="visitor-out", fields=fields, refs={"visitor": visitor_key})


def _tick(incident_key, step=1, key=None, **fields) -> SyncRecord:
    data = {"client_uuid": key or uuid.uuid4(), "step": step, **fields}
    return SyncRecord(type="procedure-tick", fields=data, refs={"incident": incident_key})


# --- visitors ---------------------------------------------------------------------------------


def test_a_visitor_signed_in_and_out_in_one_batch_is_one_row_with_the_tablets_times(personas):
    sign_in = _visitor_in(personas)
    visitor_uuid = sign_in.fields["client_uuid"]
    out_at = timezone.now() - timedelta(minutes=5)
    came, left = sync_records(personas.guard_a, [sign_in, _visitor_out(visitor_uuid, at=out_at)])
    assert (came.outcome, left.outcome) == (Outcome.CREATED, Outcome.CREATED)
    visitor = Visitor.objects.get()
    assert came.id == left.id == visitor.pk
    assert visitor.client_uuid == visitor_uuid
    assert visitor.signed_in_at == sign_in.fields["signed_in_at"]
    assert visitor.signed_out_at == out_at and visitor.signed_out_by == personas.guard_a
    # The sheet's day is the sign-in's local day (the tablet's time), not today's: near
    # midnight the two differ.
    assert visitor.day == sign_in.fields["signed_in_at"].astimezone(personas.site_a.tzinfo).date()
    reasons = list(visitor.history.values_list("history_change_reason", flat=True))
    assert sorted(reasons) == ["visitor signed in", "visitor signed out"]


def test_a_replayed_batch_changes_nothing(personas):
    batch = [_visitor_in(personas)]
    batch.append(_visitor_out(batch[0].fields["client_uuid"]))
    sync_records(personas.guard_a, batch)
    visitor = Visitor.objects.get()
    history, entries = visitor.history.count(), LedgerEntry.objects.count()
    again = sync_records(personas.guard_a, batch)
    assert [r.outcome for r in again] == [Outcome.SAME, Outcome.SAME]
    assert [r.id for r in again] == [visitor.pk, visitor.pk]
    assert Visitor.objects.count() == 1
    assert Visitor.objects.get().history.count() == history
    assert LedgerEntry.objects.count() == entries


def test_a_sign_out_by_id_of_a_visitor_signed_in_online(personas):
    visitor = visitors.sign_in_visitor(personas.site_a, personas.supervisor_a, name="V", host="H")
    (result,) = sync_records(personas.guard_a, [_visitor_out(visitor.pk)])
    assert (result.outcome, result.id) == (Outcome.CREATED, visitor.pk)
    visitor.refresh_from_db()
    assert visitor.signed_out_by == personas.guard_a


def test_a_second_sign_out_of_the_same_visitor_is_a_conflict(personas):
    visitor = visitors.sign_in_visitor(personas.site_a, personas.guard_a, name="V", host="H")
    first, second = sync_records(
        personas.guard_a, [_visitor_out(visitor.pk), _visitor_out(visitor.pk)]
    )
    assert first.outcome == Outcome.CREATED
    assert second.outcome == Outcome.CONFLICT and "signed_out_at" in second.errors


def test_a_client_uuid_reused_for_another_visitor_is_an_idempotency_conflict(personas):
    key = uuid.uuid4()
    sync_records(personas.guard_a, [_visitor_in(personas, key)])
    (result,) = sync_records(personas.guard_a, [_visitor_in(personas, key, name="Other")])
    assert result.outcome == Outcome.IDEMPOTENCY and "client_uuid" in result.errors
    assert Visitor.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"host": ""}, "host"),
        ({"name": "x" * 201}, "name"),
        ({"signed_in_at": timezone.now() + timedelta(hours=2)}, "signed_in_at"),
        ({"signed_in_at": timezone.now() - timedelta(days=30)}, "signed_in_at"),
        ({"site": "NOPE"}, "site"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_written(personas, fields, named):
    (result,) = sync_records(personas.guard_a, [_visitor_in(personas, **fields)])
    assert result.outcome == Outcome.INVALID and named in result.errors
    assert not Visitor.objects.exists()


def test_a_sign_out_before_the_sign_in_is_refused_naming_the_time(personas):
    visitor = visitors.sign_in_visitor(personas.site_a, personas.guard_a, name="V", host="H")
    early = visitor.signed_in_at - timedelta(minutes=1)
    (result,) = sync_records(personas.guard_a, [_visitor_out(visitor.pk, at=early)])
    assert result.outcome == Outcome.INVALID and "signed_out_at" in result.errors
    visitor.refresh_from_db()
    assert visitor.signed_out_at is None


def test_a_sign_out_of_a_visitor_not_on_the_server_yet_waits(personas):
    (result,) = sync_records(personas.guard_a, [_visitor_out(uuid.uuid4())])
    assert result.outcome == Outcome.WAITING and "visitor" in result.errors


def test_the_outsider_signs_no_one_in_or_out_at_site_a(personas):
    visitor = visitors.sign_in_visitor(personas.site_a, personas.guard_a, name="V", host="H")
    came, by_id, by_uuid = sync_records(
        personas.outsider_c,
        [_visitor_in(personas), _visitor_out(visitor.pk), _visitor_out(uuid.uuid4())],
    )
    assert came.outcome == Outcome.INVALID and "site" in came.errors
    assert by_id.outcome == Outcome.INVALID and "visitor" in by_id.errors
    assert by_uuid.outcome == Outcome.WAITING
    visitor.refresh_from_db()
    assert visitor.signed_out_at is None and Visitor.objects.count() == 1


# --- procedure ticks --------------------------------------------------------------------------


def test_a_step_is_ticked_for_a_draft_named_by_its_client_uuid(personas):
    procedure = incident_procedure(personas)
    incident = draft(personas, category=procedure.category)
    (result,) = sync_records(personas.guard_a, [_tick(incident.client_uuid, step=2)])
    assert result.outcome == Outcome.CREATED
    tick = ProcedureTick.objects.get()
    assert (tick.pk, tick.incident, tick.step_number) == (result.id, incident, 2)
    assert tick.ticked_by == personas.guard_a and tick.step_text == procedure.steps[1]


def test_a_replayed_tick_is_the_same_record_and_a_second_tick_a_conflict(personas):
    procedure = incident_procedure(personas)
    incident = draft(personas, category=procedure.category)
    record = _tick(incident.pk)
    sync_records(personas.guard_a, [record])
    entries = LedgerEntry.objects.count()
    again, other = sync_records(personas.guard_a, [record, _tick(incident.pk)])
    assert again.outcome == Outcome.SAME and again.id == ProcedureTick.objects.get().pk
    assert other.outcome == Outcome.CONFLICT and "state" in other.errors
    assert ProcedureTick.objects.count() == 1
    assert LedgerEntry.objects.count() == entries


def test_a_tick_refused_names_the_field(personas):
    procedure = incident_procedure(personas)
    incident = draft(personas, category=procedure.category)
    too_far, undo_without_reason = sync_records(
        personas.guard_a, [_tick(incident.pk, step=9), _tick(incident.pk, undo=True)]
    )
    assert too_far.outcome == Outcome.INVALID and "step" in too_far.errors
    assert undo_without_reason.outcome == Outcome.INVALID and "reason" in undo_without_reason.errors
    assert not ProcedureTick.objects.exists()


def test_a_tick_for_a_draft_not_on_the_server_yet_waits(personas):
    (result,) = sync_records(personas.guard_a, [_tick(uuid.uuid4())])
    assert result.outcome == Outcome.WAITING and "incident" in result.errors


def test_the_outsider_ticks_nothing_at_site_a(personas):
    procedure = incident_procedure(personas)
    incident = draft(personas, category=procedure.category)
    by_id, by_uuid = sync_records(
        personas.outsider_c, [_tick(incident.pk), _tick(incident.client_uuid)]
    )
    assert by_id.outcome == Outcome.INVALID and "incident" in by_id.errors
    assert by_uuid.outcome == Outcome.WAITING
    assert not ProcedureTick.objects.exists()
