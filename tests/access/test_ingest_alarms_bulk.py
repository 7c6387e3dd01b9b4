"""The alarms of an import, raised by the database from the rows just stored: the same alarms
the site's rules give event by event, each with its history row (user, name, reason, request
id) and its ledger entry over the row as stored; nothing of it when the input is refused."""

import pytest

from facility_log.models import AccessEvent, Alarm, AlarmState, ImportBatch, LedgerEntry
from facility_log.services import access, access_ingest, ledger
from facility_log.services.access import AlarmRules
from facility_log.services.audit import request_id_scope
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, ingest, row

TYPES = ["granted", "forced_open", "held_open", "tamper", "denied", "duress", "offline", "rex"]


@pytest.fixture
def hq(personas):
    """Site A (managed by manager_ab) with three doors."""
    for code in ("D-1", "D-2", "D-3"):
        door(personas.site_a, personas.zone_a, code)
    return personas.site_a


def _rules(site, actor) -> None:
    """A door rule over a site rule, a type switched off, a type switched on."""
    d2 = site.doors.get(code="D-2")
    access.set_alarm_rule(site, actor, event_type="held_open", is_active=False, reason="r")
    access.set_alarm_rule(
        site, actor, event_type="held_open", door=d2, escalate_after_minutes=7, reason="r"
    )
    access.set_alarm_rule(site, actor, event_type="denied", escalate_after_minutes=3, reason="r")
    access.set_alarm_rule(site, actor, event_type="denied", door=d2, is_active=False, reason="r")
    access.set_alarm_rule(
        site, actor, event_type="tamper", door=d2, escalate_after_minutes=25, reason="r"
    )


def _mixed_rows(count: int, start: int = 0):
    for i in range(start, start + count):
        yield row(
            line=i + 2,
            external_id=f"ev-{i}",
            door=f"D-{1 + i % 3}",
            event_type=TYPES[i % len(TYPES)],
            reason="expired" if TYPES[i % len(TYPES)] == "denied" else "",
        )


@pytest.mark.django_db
def test_alarms_are_those_the_rules_give_event_by_event(hq, personas):
    _rules(hq, personas.admin)
    result = ingest(hq, _mixed_rows(96), channel=ImportBatch.Channel.FILE)
    rules = AlarmRules(hq)
    expected = [
        (event.pk, event.door_id, event.event_type, event.received_at, minutes)
        for event in AccessEvent.objects.filter(site=hq).order_by("pk")
        if (minutes := rules.minutes_for(event.door_id, event.event_type)) is not None
    ]
    alarms = list(Alarm.objects.filter(site=hq).order_by("pk"))
    assert [
        (a.event_id, a.door_id, a.event_type, a.raised_at, a.escalate_after_minutes) for a in alarms
    ] == expected
    assert result.alarms == len(expected)
    # Door rules won (held open only at D-2, denied everywhere but D-2, tamper 25 min at D-2).
    kinds = {(a.door.code, a.event_type, a.escalate_after_minutes) for a in alarms}
    assert ("D-2", "held_open", 7) in kinds and ("D-1", "held_open", 10) not in kinds
    assert ("D-1", "denied", 3) in kinds and not any(k[:2] == ("D-2", "denied") for k in kinds)
    assert ("D-2", "tamper", 25) in kinds and ("D-1", "tamper", 10) in kinds
    # Every other column as a new alarm built in Python has it.
    for alarm in alarms:
        assert alarm.state == AlarmState.NEW and alarm.site_id == hq.pk
        assert alarm.panic_id is None and alarm.missed_check_in_id is None
        assert (alarm.acknowledged_by_id, alarm.acknowledged_at, alarm.acknowledge_note) == (
            None,
            None,
            "",
        )
        assert (alarm.resolved_by_id, alarm.resolved_at, alarm.resolution_note) == (None, None, "")
        assert alarm.escalated_at is None


@pytest.mark.django_db
def test_of_a_key_repeated_in_the_input_the_first_row_decides_the_alarm(hq):
    rows = [
        row(line=2, external_id="same", event_type="granted"),
        row(line=3, external_id="same", event_type="forced_open"),
        row(line=4, external_id="other", event_type="forced_open"),
        row(line=5, external_id="other", event_type="granted"),
    ]
    result = ingest(hq, rows)
    assert (result.created, result.duplicates, result.alarms) == (2, 2, 1)
    assert [a.event.external_id for a in Alarm.objects.all()] == ["other"]


@pytest.mark.django_db
def test_each_alarm_has_one_history_row_with_user_reason_and_request_id(hq, personas):
    with request_id_scope("req-alarms"):
        ingest(hq, _mixed_rows(40), actor=personas.manager_ab, channel=ImportBatch.Channel.FILE)
    alarms = Alarm.objects.filter(site=hq).order_by("pk")
    assert alarms.exists()
    tracked = [f.attname for f in Alarm.history.model.tracked_fields]
    for alarm in alarms:
        (history,) = alarm.history.all()
        assert history.history_type == "+"
        assert history.history_user == personas.manager_ab
        assert history.history_user_name == personas.manager_ab.get_username()
        assert history.history_change_reason == "access events received (file)"
        assert history.history_request_id == "req-alarms"
        assert history.history_date >= alarm.raised_at
        assert [getattr(history, n) for n in tracked] == [getattr(alarm, n) for n in tracked]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [6, ledger.COPY_MIN_ENTRIES + 40])
def test_alarm_history_rows_are_chained_over_the_rows_as_stored(hq, personas, count):
    # Enough alarms for the ledger's COPY path on PostgreSQL, and a few for its INSERT path.
    rows = [row(line=i + 2, external_id=f"f-{i}", event_type="forced_open") for i in range(count)]
    ingest(hq, rows, actor=personas.manager_ab)
    history = Alarm.history.model
    entries = LedgerEntry.objects.filter(object_type=ledger.object_type(history)).order_by("seq")
    assert entries.count() == count
    alarm_ids = list(Alarm.objects.order_by("pk").values_list("pk", flat=True))
    for entry, alarm_id in zip(entries, alarm_ids, strict=True):
        stored = history.objects.get(pk=entry.object_pk)
        assert stored.id == alarm_id and entry.record_label == f"alarm #{alarm_id}"
        assert entry.kind == LedgerEntry.Kind.HISTORY and entry.actor == personas.manager_ab
        assert entry.digest == ledger.stored_row_digest(history, stored.pk)
        assert entry.hash == ledger.entry_hash(entry)
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_refused_input_with_alarm_rows_writes_no_alarm_history_or_entry(hq, monkeypatch):
    monkeypatch.setattr(access_ingest, "chunk_size", lambda: 10)
    entries = LedgerEntry.objects.count()
    rows = [*_mixed_rows(35), row(line=99, external_id="bad", door="D-9", event_type="tamper")]
    with pytest.raises(access_ingest.IngestRefused, match="line 99, column door"):
        ingest(hq, rows, channel=ImportBatch.Channel.FILE)
    assert not Alarm.objects.exists() and not Alarm.history.model.objects.exists()
    assert not AccessEvent.objects.exists() and LedgerEntry.objects.count() == entries


@pytest.mark.django_db
def test_a_call_answered_item_by_item_stores_all_its_chunks_in_one_transaction(hq, monkeypatch):
    # Each chunk's keys are checked before the ledger is chained (PostgreSQL); the chunks
    # after it still write their events before their batch, as the keys stay deferred.
    monkeypatch.setattr(access_ingest, "chunk_size", lambda: 10)
    rows = [row(line=i + 2, external_id=f"p-{i}", event_type=TYPES[i % 4]) for i in range(35)]
    result = ingest(hq, rows, per_item=True)
    assert (result.created, len(result.batches), result.statuses) == (35, 4, ["created"] * 35)
    assert result.alarms == Alarm.objects.filter(site=hq).count() == 26
    assert verify_audit().intact


@pytest.mark.django_db
def test_every_column_of_the_alarm_history_is_written_not_left_to_null(hq, personas):
    """The SQL path names the history model's columns itself: a column added to the historical
    model later (a field, a history extra) must be written by it too, or it would be NULL only
    on alarms raised by imports."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    table = Alarm.history.model._meta.db_table
    with CaptureQueriesContext(connection) as captured:
        ingest(hq, _mixed_rows(16), channel=ImportBatch.Channel.FILE)
    insert = next(q["sql"] for q in captured if q["sql"].startswith(f'INSERT INTO "{table}"'))
    written = {c.strip().strip('"') for c in insert.split("(", 1)[1].split(")", 1)[0].split(",")}
    columns = {f.column for f in Alarm.history.model._meta.concrete_fields}
    assert written == columns - {"history_id"}
