"""services/shifts.py: starting, logging and ending shifts; idempotency; who may write;
history; append-only entries; the pass-down notes the next guard reads."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from facility_log.models import Role, Shift, ShiftEntry
from facility_log.models.base import HistoryBypassError
from facility_log.services import accounts, sites
from facility_log.services.shifts import (
    IdempotencyConflict,
    ShiftConflict,
    add_shift_entry,
    end_shift,
    open_shift_for,
    previous_handover,
    start_shift,
)
from tests.shifts_helpers import ago, entry, start, worked

pytestmark = pytest.mark.django_db


def _second_guard_at_a(p):
    user = accounts.create_user(
        p.admin, username="guard2_a", password="x-very-long-pw-1", reason="test"
    )
    sites.grant_membership(p.site_a, p.admin, user=user, role=Role.GUARD, reason="test")
    return user


def test_starting_again_with_the_same_uuid_returns_the_stored_shift(personas):
    key, at = uuid.uuid4(), ago(minutes=30)
    first, created = start_shift(personas.site_a, personas.guard_a, client_uuid=key, started_at=at)
    again, created_again = start_shift(
        personas.site_a, personas.guard_a, client_uuid=str(key), started_at=at
    )
    retry_without_time, _ = start_shift(personas.site_a, personas.guard_a, client_uuid=key)
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk == retry_without_time.pk
    assert Shift.objects.count() == 1


def test_the_same_uuid_with_another_start_time_or_site_is_a_conflict(personas):
    key, at = uuid.uuid4(), ago(minutes=30)
    start_shift(personas.site_a, personas.guard_a, client_uuid=key, started_at=at)
    with pytest.raises(IdempotencyConflict):
        start_shift(
            personas.site_a, personas.guard_a, client_uuid=key, started_at=at - timedelta(1)
        )
    with pytest.raises(IdempotencyConflict):
        start_shift(personas.site_b, personas.manager_ab, client_uuid=key, started_at=at)
    assert Shift.objects.count() == 1


def test_a_second_open_shift_at_the_site_is_refused_naming_the_open_one(personas):
    first = start(personas, at=ago(hours=1))
    with pytest.raises(ShiftConflict) as caught:
        start_shift(personas.site_a, personas.guard_a, client_uuid=uuid.uuid4())
    local = first.started_at.astimezone(personas.site_a.tzinfo)
    assert caught.value.field == "site"
    assert f"open at ALPHA since {local:%Y-%m-%d %H:%M} {local.tzname()}" in str(caught.value)
    assert "end it first" in str(caught.value)
    assert open_shift_for(personas.guard_a, personas.site_a) == first
    # Another guard, or the same guard at another site, may start.
    assert start(personas, at=ago(hours=1), guard=personas.supervisor_a)
    assert start(personas, at=ago(hours=1), guard=personas.manager_ab, site=personas.site_b)


def test_start_in_the_future_is_refused_but_clock_skew_is_tolerated(personas):
    with pytest.raises(ValidationError) as caught:
        start_shift(
            personas.site_a, personas.guard_a, client_uuid=uuid.uuid4(), started_at=ago(hours=-1)
        )
    assert "started_at" in caught.value.message_dict
    assert start(personas, at=ago(seconds=-60))


def test_only_members_who_report_may_start_a_shift(personas):
    for who in (personas.outsider_c, personas.auditor_a):
        with pytest.raises(PermissionDenied):
            start_shift(personas.site_a, who, client_uuid=uuid.uuid4())
    assert Shift.objects.count() == 0


def test_history_rows_name_the_guard_and_the_reason(personas):
    shift = start(personas, at=ago(hours=3))
    end_shift(shift, personas.guard_a, ended_at=ago(hours=1), pass_down_notes="Gate B sticks.")
    rows = list(
        Shift.history.filter(id=shift.pk)
        .order_by("history_id")
        .values_list("history_user", "history_user_name", "history_change_reason", "ended_at")
    )
    assert [r[:3] for r in rows] == [
        (personas.guard_a.pk, "guard_a", "shift started"),
        (personas.guard_a.pk, "guard_a", "shift ended"),
    ]
    assert rows[0][3] is None and rows[1][3] is not None


def test_entries_are_idempotent_on_client_uuid(personas):
    shift = start(personas, at=ago(hours=2))
    key, at = uuid.uuid4(), ago(hours=1)
    args = {"client_uuid": key, "kind": "visitor", "occurred_at": at, "text": "Courier at gate"}
    first, created = add_shift_entry(shift, personas.guard_a, **args)
    again, created_again = add_shift_entry(shift, personas.guard_a, **args)
    assert (created, created_again, first.pk) == (True, False, again.pk)
    with pytest.raises(IdempotencyConflict):
        add_shift_entry(shift, personas.guard_a, **{**args, "text": "Courier at dock"})
    assert ShiftEntry.objects.count() == 1


def test_entries_are_refused_for_another_guard_and_the_outsider(personas):
    shift = start(personas, at=ago(hours=2))
    other = _second_guard_at_a(personas)
    for stranger in (other, personas.outsider_c, personas.auditor_a):
        with pytest.raises(PermissionDenied):
            entry(shift, "Not mine to write", at=ago(hours=1), actor=stranger)
    assert ShiftEntry.objects.count() == 0
    written = entry(shift, "Supervisor note", at=ago(hours=1), actor=personas.supervisor_a)
    assert written.recorded_by == personas.supervisor_a


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("text", {"text": "   "}),
        ("text", {"text": "x" * 4001}),
        ("kind", {"kind": "gossip"}),
        ("occurred_at", {"occurred_at": "before"}),
        ("occurred_at", {"occurred_at": "future"}),
    ],
)
def test_bad_entries_name_the_field_and_store_nothing(personas, field, changes):
    shift = start(personas, at=ago(hours=2))
    times = {"before": shift.started_at - timedelta(minutes=2), "future": ago(hours=-1)}
    args = {"kind": "patrol", "occurred_at": ago(hours=1), "text": "Walked the fence"}
    args.update({k: times.get(v, v) for k, v in changes.items()})
    with pytest.raises(ValidationError) as caught:
        add_shift_entry(shift, personas.guard_a, client_uuid=uuid.uuid4(), **args)
    assert list(caught.value.message_dict) == [field]
    assert ShiftEntry.objects.count() == 0


def test_an_ended_shift_takes_late_synced_entries_only_from_before_its_end(personas):
    shift = worked(personas, at=ago(hours=10), hours=8)
    late_sync = entry(shift, "Written offline", at=shift.ended_at - timedelta(minutes=5))
    assert late_sync.pk
    with pytest.raises(ValidationError) as caught:
        entry(shift, "After the end", at=shift.ended_at + timedelta(minutes=1))
    assert "occurred_at" in caught.value.message_dict
    assert "after its end" in caught.value.message_dict["occurred_at"][0]


def test_entries_are_append_only(personas):
    shift = start(personas, at=ago(hours=2))
    written = entry(shift, "Original", at=ago(hours=1))
    written.text = "Quietly changed"
    with pytest.raises(HistoryBypassError):
        written.save()
    with pytest.raises(HistoryBypassError):
        written.delete()
    with pytest.raises(HistoryBypassError):
        ShiftEntry.objects.filter(pk=written.pk).update(text="Quietly changed")
    with pytest.raises(HistoryBypassError):
        ShiftEntry.objects.all().delete()
    assert ShiftEntry.objects.get(pk=written.pk).text == "Original"


def test_ending_again_the_same_way_changes_nothing_and_otherwise_conflicts(personas):
    shift = start(personas, at=ago(hours=3))
    end = ago(hours=1)
    _, changed = end_shift(shift, personas.guard_a, ended_at=end, pass_down_notes="Keys in safe")
    _, again = end_shift(shift, personas.guard_a, ended_at=end, pass_down_notes="Keys in safe")
    assert (changed, again) == (True, False)
    with pytest.raises(ShiftConflict) as caught:
        end_shift(shift, personas.guard_a, ended_at=end, pass_down_notes="Other notes")
    assert caught.value.field == "ended_at"
    with pytest.raises(ShiftConflict):
        end_shift(shift, personas.guard_a, ended_at=ago(minutes=5), pass_down_notes="Keys in safe")
    assert Shift.history.filter(id=shift.pk).count() == 2
    shift.refresh_from_db()
    assert (shift.ended_at, shift.pass_down_notes) == (end, "Keys in safe")


def test_the_end_cannot_precede_the_start_or_a_logged_entry(personas):
    shift = start(personas, at=ago(hours=3))
    entry(shift, "Late round", at=ago(hours=1))
    for ended_at in (shift.started_at - timedelta(minutes=1), ago(hours=2)):
        with pytest.raises(ValidationError) as caught:
            end_shift(shift, personas.guard_a, ended_at=ended_at)
        assert "ended_at" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        end_shift(shift, _second_guard_at_a(personas))
    shift.refresh_from_db()
    assert shift.ended_at is None
    _, changed = end_shift(shift, personas.supervisor_a, pass_down_notes="Ended for Gina")
    assert changed


def test_previous_handover_is_the_latest_ended_shift_at_the_site(personas):
    older = worked(personas, at=ago(hours=30), hours=8, notes="Older notes")
    latest = worked(personas, at=ago(hours=20), hours=8, guard=personas.supervisor_a, notes="New")
    worked(personas, at=ago(hours=10), hours=8, guard=personas.manager_ab, site=personas.site_b)
    still_open = start(personas, at=ago(hours=5))
    assert previous_handover(personas.site_a) == latest
    assert (
        previous_handover(personas.site_a, before=latest.ended_at - timedelta(minutes=1)) == older
    )
    assert previous_handover(personas.site_a, before=older.started_at) is None
    assert previous_handover(personas.site_a, before=still_open.started_at) == latest
