"""The import's write path: duplicates found by the unique key (ON CONFLICT), one short
transaction per chunk each complete with its batch and ledger entry, an import stopped
half-way completed by importing again, and a query count that does not grow with rows."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import AccessEvent, Alarm, ImportBatch, LedgerEntry
from facility_log.services import access_formats, access_ingest, sites
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, ingest, row


def _problems() -> list[str]:
    return [str(p) for p in verify_audit().problems]


@pytest.fixture
def hq(personas):
    site = sites.create_site(personas.admin, code="HQ", name="HQ", reason="r")
    zone = sites.create_zone(site, personas.admin, name="Doors", reason="r")
    door(site, zone, "D-1")
    return site


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(access_ingest, "chunk_size", lambda: 10)


def _rows(start: int, stop: int, alarm_every: int = 0):
    for i in range(start, stop):
        kind = "forced_open" if alarm_every and i % alarm_every == 0 else "granted"
        yield row(line=i + 2, external_id=f"ev-{i}", event_type=kind)


@pytest.mark.django_db
def test_reimport_stores_only_the_new_rows_found_by_the_unique_key(hq):
    first = ingest(hq, _rows(0, 30, alarm_every=10))
    with CaptureQueriesContext(connection) as queries:
        second = ingest(hq, [*_rows(20, 40, alarm_every=10), *_rows(35, 38)])
    assert (first.created, first.duplicates, first.alarms) == (30, 0, 3)
    # 20-29 stored before; 35-37 repeated in the same input: both found by the database.
    assert (second.total, second.created, second.duplicates, second.alarms) == (23, 10, 13, 1)
    assert AccessEvent.objects.filter(site=hq).count() == 40
    assert Alarm.objects.filter(site=hq).count() == 4
    sql = [q["sql"] for q in queries.captured_queries]
    assert any("ON CONFLICT" in s and "RETURNING" in s for s in sql)
    # No key set read back beforehand: the events table is only written, never searched.
    events = AccessEvent._meta.db_table
    assert not [s for s in sql if s.lstrip().upper().startswith("SELECT") and events in s]
    assert _problems() == []


@pytest.mark.django_db
def test_per_item_statuses_come_from_the_rows_the_database_returned(hq):
    ingest(hq, _rows(0, 2))
    result = ingest(hq, [*_rows(1, 3), *_rows(2, 3)], per_item=True)
    assert result.statuses == ["duplicate", "created", "duplicate"]
    assert _problems() == []


@pytest.mark.django_db
def test_a_large_input_is_written_chunk_by_chunk_each_with_its_batch_entry(hq, small_chunks):
    result = ingest(hq, _rows(0, 35, alarm_every=5), channel=ImportBatch.Channel.FILE)
    assert (result.created, result.alarms, len(result.batches)) == (35, 7, 4)
    batches = ImportBatch.objects.filter(pk__in=result.batches).order_by("pk")
    assert [b.created for b in batches] == [10, 10, 10, 5]
    for batch in batches:
        assert batch.events.count() == batch.created
    entries = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.BATCH)
    assert set(entries.values_list("object_pk", flat=True)) == {str(pk) for pk in result.batches}
    assert _problems() == []


@pytest.mark.django_db
def test_a_failure_in_a_later_chunk_keeps_whole_chunks_and_a_reimport_completes(
    hq, small_chunks, monkeypatch
):
    real, calls = access_ingest._insert_new, []

    def failing_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(*args)

    monkeypatch.setattr(access_ingest, "_insert_new", failing_third)
    with pytest.raises(RuntimeError):
        ingest(hq, _rows(0, 35, alarm_every=5), channel=ImportBatch.Channel.FILE)
    # Two chunks committed whole (rows, batch, ledger entry, alarms); the third left nothing.
    assert AccessEvent.objects.filter(site=hq).count() == 20
    assert ImportBatch.objects.filter(site=hq).count() == 2
    assert Alarm.objects.filter(site=hq).count() == 4
    assert _problems() == []
    monkeypatch.setattr(access_ingest, "_insert_new", real)
    again = ingest(hq, _rows(0, 35, alarm_every=5), channel=ImportBatch.Channel.FILE)
    assert (again.created, again.duplicates, again.alarms) == (15, 20, 3)
    assert AccessEvent.objects.filter(site=hq).count() == 35
    assert Alarm.objects.filter(site=hq).count() == 7
    assert _problems() == []


@pytest.mark.django_db
def test_a_bad_row_in_the_last_chunk_leaves_nothing_written(hq, small_chunks):
    rows = [*_rows(0, 34), row(line=99, external_id="bad", occurred_at="yesterday")]
    with pytest.raises(access_ingest.IngestRefused, match="line 99, column occurred_at"):
        ingest(hq, rows, channel=ImportBatch.Channel.FILE)
    assert not AccessEvent.objects.exists() and not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_query_count_does_not_grow_with_rows(hq):
    ingest(hq, _rows(0, 1))  # vendor mappings, first batch: set up once

    def queries_for(start: int, count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            ingest(hq, _rows(start, start + count, alarm_every=4))
        return len(captured)

    # (Up to SQLite's limit of variables per statement: a chunk's alarms in one insert.)
    assert queries_for(100, 8) == queries_for(1000, 120)


@pytest.mark.django_db
def test_a_streamed_kisi_file_imports_and_verifies(hq, small_chunks, monkeypatch):
    monkeypatch.setattr(access_formats._JsonStream, "BLOCK", 64)
    bodies = [
        {
            "uuid": f"00000000-0000-4000-8000-{i:012d}",
            "type": "lock.unlock",
            "object_id": "D-1",
            "created_at": "2026-03-28T22:00:00Z",
            "success": i % 3 != 0,
            "actor_name": f"Holder {i}",
        }
        for i in range(25)
    ]
    import io

    stream = access_formats.open_text(io.BytesIO(json.dumps(bodies, indent=1).encode()))
    result = ingest(
        hq,
        access_formats.read_kisi_json(stream),
        channel=ImportBatch.Channel.FILE,
        vendor="kisi",
    )
    assert (result.total, result.created, len(result.batches)) == (25, 25, 3)
    assert AccessEvent.objects.filter(event_type="denied").count() == 9
    assert _problems() == []
