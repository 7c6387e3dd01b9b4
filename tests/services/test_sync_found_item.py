"""The tablet's outbox records found items (`found-item`, services/sync.py): once however
often the record is replayed (by client_uuid), at the site named by its code or the site of
the guard's shift, refused naming the field, and never for another site."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from facility_log.models import FoundItem, FoundItemState, LedgerEntry
from facility_log.services.shifts import start_shift
from facility_log.services.sync import Outcome, SyncRecord, sync_records

pytestmark = pytest.mark.django_db


def _found(p, key=None, refs=None, **fields) -> SyncRecord:
    data = {
        "client_uuid": key or uuid.uuid4(),
        "site": p.site_a.code,
        "description": "Black umbrella",
        "found_at": timezone.now() - timedelta(minutes=20),
        "found_by": "Cleaner at the lobby",
        "storage_location": "Gate house, shelf 2",
        "zone": p.zone_a.pk,
    }
    data.update(fields)
    return SyncRecord(type="found-item", fields=data, refs=refs or {})


def test_a_found_item_is_stored_with_the_tablets_time_and_the_guard(personas):
    record = _found(personas)
    (result,) = sync_records(personas.guard_a, [record])
    assert result.outcome == Outcome.CREATED
    item = FoundItem.objects.get()
    assert result.id == item.pk
    assert item.site == personas.site_a and item.zone == personas.zone_a
    assert item.found_at == record.fields["found_at"]
    assert item.recorded_by == personas.guard_a and item.state == FoundItemState.STORED
    assert item.client_uuid == record.fields["client_uuid"]
    assert (item.description, item.found_by) == ("Black umbrella", "Cleaner at the lobby")
    assert not item.photo
    reasons = list(item.history.values_list("history_change_reason", flat=True))
    assert reasons == ["found item recorded on the guard tablet"]


def test_a_replay_writes_nothing(personas):
    batch = [_found(personas)]
    sync_records(personas.guard_a, batch)
    item = FoundItem.objects.get()
    history, entries = item.history.count(), LedgerEntry.objects.count()
    (again,) = sync_records(personas.guard_a, batch)
    assert (again.outcome, again.id) == (Outcome.SAME, item.pk)
    assert FoundItem.objects.count() == 1
    assert item.history.count() == history
    assert LedgerEntry.objects.count() == entries


def test_the_same_client_uuid_for_another_item_is_refused(personas):
    key = uuid.uuid4()
    sync_records(personas.guard_a, [_found(personas, key=key)])
    (result,) = sync_records(personas.guard_a, [_found(personas, key=key, description="Keys")])
    assert result.outcome == Outcome.IDEMPOTENCY
    assert "client_uuid" in result.errors
    assert FoundItem.objects.get().description == "Black umbrella"


def test_without_a_site_code_the_item_is_at_the_site_of_the_guards_shift(personas):
    shift_key = uuid.uuid4()
    start_shift(personas.site_a, personas.guard_a, client_uuid=shift_key)
    record = _found(personas, refs={"shift": shift_key}, site="")
    (result,) = sync_records(personas.guard_a, [record])
    assert result.outcome == Outcome.CREATED
    assert FoundItem.objects.get().site == personas.site_a


def test_without_a_site_or_a_shift_the_record_names_the_site(personas):
    (result,) = sync_records(personas.guard_a, [_found(personas, site="")])
    assert (result.outcome, list(result.errors)) == (Outcome.INVALID, ["site"])
    assert not FoundItem.objects.exists()


@pytest.mark.parametrize(
    ("ahead", "refused"),
    [
        (timedelta(minutes=9), False),
        (timedelta(minutes=11), True),
        (-timedelta(days=6, hours=23), False),
        (-timedelta(days=7, minutes=1), True),
    ],
)
def test_a_found_at_no_working_clock_shows_is_refused_naming_it(personas, ahead, refused):
    (result,) = sync_records(personas.guard_a, [_found(personas, found_at=timezone.now() + ahead)])
    if refused:
        assert (result.outcome, list(result.errors)) == (Outcome.INVALID, ["found_at"])
        assert not FoundItem.objects.exists()
    else:
        assert result.outcome == Outcome.CREATED


def test_a_zone_of_another_site_is_refused_naming_it(personas):
    (result,) = sync_records(personas.guard_a, [_found(personas, zone=personas.zone_c.pk)])
    assert (result.outcome, list(result.errors)) == (Outcome.INVALID, ["zone"])
    assert not FoundItem.objects.exists()


@pytest.mark.parametrize("field", ["description", "found_by", "storage_location"])
def test_a_blank_text_is_refused_naming_it(personas, field):
    (result,) = sync_records(personas.guard_a, [_found(personas, **{field: "  "})])
    assert (result.outcome, list(result.errors)) == (Outcome.INVALID, [field])
    assert not FoundItem.objects.exists()


def test_an_outsider_records_nothing_at_another_site(personas):
    (by_code,) = sync_records(personas.outsider_c, [_found(personas, zone=None)])
    assert (by_code.outcome, list(by_code.errors)) == (Outcome.INVALID, ["site"])
    shift_key = uuid.uuid4()
    start_shift(personas.site_a, personas.guard_a, client_uuid=shift_key)
    record = _found(personas, refs={"shift": shift_key}, site="", zone=None)
    (by_shift,) = sync_records(personas.outsider_c, [record])
    assert by_shift.outcome in (Outcome.INVALID, Outcome.WAITING)
    assert not FoundItem.objects.exists()


def test_a_refused_record_does_not_lose_the_one_after_it(personas):
    bad, good = _found(personas, zone=personas.zone_c.pk), _found(personas)
    results = sync_records(personas.guard_a, [bad, good])
    assert [r.outcome for r in results] == [Outcome.INVALID, Outcome.CREATED]
    assert FoundItem.objects.count() == 1
