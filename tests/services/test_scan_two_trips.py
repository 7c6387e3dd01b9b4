"""A scan sent with its run's id, on PostgreSQL in two round trips (the run's lock, its scans
and the new id; then the scan's insert with its ledger entry): the API answers with the same
bytes as the ordinary path, every entry's digest is that of the row as stored, a row that
came back otherwise than sent is recorded the ordinary way, and a scan inside someone
else's transaction is not held back. On SQLite the same tests hold the ordinary path."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from facility_log.api.rounds.scans import ScanSerializer
from facility_log.models import LedgerEntry, RoundException, Scan
from facility_log.services import ledger_held, rounds
from facility_log.services.audit import audited_change
from facility_log.services.ledger import stored_row_digest
from facility_log.services.rounds import ScanInput
from facility_log.services.rounds import scans as scan_services
from facility_log.services.verify import verify_audit
from tests.rounds_helpers import night_route

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"


def _entry_of(scan) -> LedgerEntry:
    return LedgerEntry.objects.get(object_type="facility_log.scan", object_pk=str(scan.pk))


def _frozen(monkeypatch, when: datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: when)


@pytest.mark.parametrize("drifting", [False, True], ids=["plain", "flagged"])
def test_the_api_answers_a_scan_with_the_same_bytes_as_the_ordinary_path(
    personas, api_client_for, monkeypatch, drifting
):
    route, cps = night_route(personas)
    now = datetime(2026, 11, 30, 3, 4, 5, 678901, tzinfo=UTC)
    _frozen(monkeypatch, now)
    started = now - timedelta(hours=1)
    runs = [rounds.start_run(route, personas.guard_a, started_at=started) for _ in range(2)]
    client = api_client_for("guard_a")
    offset = dt_timezone(timedelta(hours=5, minutes=30))
    device_clock = now + timedelta(minutes=10 if drifting else 0)  # drift: a finding

    def body_for(run, uid):
        return {
            "run": run.pk,
            "tag_code": cps[0].tag_code.lower(),
            "method": "nfc",
            "client_uuid": str(uid),
            "device_time": (started + timedelta(minutes=1, microseconds=7))
            .astimezone(offset)
            .isoformat(),
            "device_sent_at": device_clock.astimezone(offset).isoformat(),
            "note": 'Tür offen ✓ "zu" <b>',
        }

    def post(run, uid):
        return client.post("/api/v1/scans/", body_for(run, uid), format="json")

    first, second = uuid.uuid4(), uuid.uuid4()
    held = post(runs[0], first)
    # As the view answered before: through the serializer that validated the body.
    request = APIRequestFactory().post("/api/v1/scans/")
    request.user = personas.guard_a
    validated = ScanSerializer(data=body_for(runs[0], first), context={"request": request})
    assert validated.is_valid(), validated.errors
    validated.instance = Scan.objects.select_related("run__site").get(pk=held.json()["id"])
    assert held.json() == json.loads(json.dumps(validated.data))
    monkeypatch.setattr(scan_services, "_in_two_trips", lambda: False)
    ordinary = post(runs[1], second)
    assert (held.status_code, ordinary.status_code) == (201, 201)
    ids = (held.json()["id"], ordinary.json()["id"])
    as_ordinary = (
        held.content.replace(str(first).encode(), str(second).encode())
        .replace(f'"id":{ids[0]},'.encode(), f'"id":{ids[1]},'.encode())
        .replace(f'"run":{runs[0].pk},'.encode(), f'"run":{runs[1].pk},'.encode())
    )
    assert as_ordinary == ordinary.content
    # The stored row reads back as the answer said (a replay answers from the database).
    monkeypatch.undo()
    replay = post(runs[0], first)
    assert replay.status_code == 200 and replay.content == held.content
    flagged = RoundException.objects.filter(scan_id__in=ids, kind="clock_drift").count()
    assert flagged == (2 if drifting else 0)
    assert verify_audit().intact


def test_every_held_scans_entry_covers_its_row_as_stored(personas):
    route, cps = night_route(personas)
    start = timezone.now() - timedelta(hours=1)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    offset = dt_timezone(timedelta(hours=-3, minutes=-30))
    notes = ["", "  spaces kept by the service  ", "Zeile 1\r\nZeile 2\t✓", "'; --"]
    # The third and fourth come too fast after the one before: flagged, inserted before their
    # findings; the last goes back in time: the run is replayed.
    minutes = [1, 10, 10.2, 10.3, 5]
    scans = []
    for n, (cp, note, minute) in enumerate(
        zip([*cps, cps[0], cps[1]], [*notes, ""], minutes, strict=True)
    ):
        data = ScanInput(
            tag_code=cp.tag_code,
            client_uuid=uuid.uuid4(),
            device_time=(start + timedelta(minutes=minute, microseconds=n)).astimezone(offset),
            method="qr",
            note=note,
        )
        scan, created = rounds.record_scan(personas.guard_a, data, run_id=run.pk)
        assert created
        scans.append(scan)
    for scan in scans:
        assert _entry_of(scan).digest == stored_row_digest(Scan, scan.pk)
        stored = Scan.objects.get(pk=scan.pk)
        assert (stored.note, stored.device_time, stored.effective_time) == (
            scan.note,
            scan.device_time,
            scan.effective_time,
        )
    assert run.exceptions.filter(kind__in=["too_fast", "duplicate_scan"]).exists()
    assert verify_audit().intact


@pytest.mark.skipif(not ON_POSTGRES, reason="rows are held back on PostgreSQL only")
def test_a_row_stored_otherwise_than_sent_is_rolled_back_and_recorded_the_ordinary_way(
    personas, monkeypatch
):
    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    stored = ledger_held.HeldInsert.stored
    differing = []

    def otherwise(self, row):
        values = stored(self, row)
        differing.append(values["id"])
        return {**values, "note": values["note"] + " (as if the database kept it otherwise)"}

    monkeypatch.setattr(ledger_held.HeldInsert, "stored", otherwise)
    entries = LedgerEntry.objects.count()
    data = ScanInput(cps[0].tag_code, uuid.uuid4(), timezone.now(), "qr", note="a note")
    scan, created = rounds.record_scan(personas.guard_a, data, run_id=run.pk)
    assert created and differing  # the held insert came back "otherwise", and was undone
    assert scan.pk not in differing
    assert list(Scan.objects.filter(client_uuid=data.client_uuid)) == [scan]
    assert not Scan.objects.filter(pk__in=differing).exists()
    assert LedgerEntry.objects.count() == entries + 1
    assert _entry_of(scan).digest == stored_row_digest(Scan, scan.pk)
    assert verify_audit().intact


def _held_back(monkeypatch) -> list:
    """The instances `ledger.hold_insert` agreed to hold back during the test."""
    from facility_log.services import ledger

    held, hold = [], ledger.hold_insert

    def recording(instance, actor=None):
        agreed = hold(instance, actor)
        if agreed:
            held.append(instance.pk)
        return agreed

    monkeypatch.setattr(ledger, "hold_insert", recording)
    return held


@pytest.mark.skipif(not ON_POSTGRES, reason="rows are held back on PostgreSQL only")
def test_a_row_with_another_post_save_receiver_is_saved_the_ordinary_way(personas, monkeypatch):
    from django.db.models.signals import post_save

    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    held = _held_back(monkeypatch)
    plain = ScanInput(cps[0].tag_code, uuid.uuid4(), timezone.now(), "qr")
    rounds.record_scan(personas.guard_a, plain, run_id=run.pk)
    assert len(held) == 1  # today the ledger's receiver is Scan's only one
    saved = []

    def another_receiver(sender, instance, created, **kwargs):
        saved.append(instance.pk)

    post_save.connect(another_receiver, sender=Scan, weak=False)
    try:
        later = ScanInput(cps[1].tag_code, uuid.uuid4(), timezone.now(), "qr")
        scan, created = rounds.record_scan(personas.guard_a, later, run_id=run.pk)
    finally:
        post_save.disconnect(another_receiver, sender=Scan)
    assert created and saved == [scan.pk] and len(held) == 1
    assert _entry_of(scan).digest == stored_row_digest(Scan, scan.pk)
    assert verify_audit().intact


@pytest.mark.skipif(not ON_POSTGRES, reason="rows are held back on PostgreSQL only")
def test_a_row_inside_a_savepoint_is_not_held_back(personas, monkeypatch):
    from django.db import transaction

    from facility_log.services import ledger

    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    held = _held_back(monkeypatch)
    # The savepoint inside: one its writer might roll back.
    with ledger.deferred_chaining(), transaction.atomic():
        scan = Scan(run=run, checkpoint=cps[0], client_uuid=uuid.uuid4())
        assert not ledger.hold_insert(scan)
    assert held == []


def test_a_scan_inside_an_enclosing_change_is_not_held_back(personas):
    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    data = ScanInput(cps[0].tag_code, uuid.uuid4(), timezone.now(), "qr")
    with audited_change(personas.guard_a, "a sync batch"):
        scan, created = rounds.record_scan(personas.guard_a, data, run_id=run.pk)
        # The enclosing block goes on after the scan: the row is there already.
        assert created and Scan.objects.filter(pk=scan.pk).exists()
    assert _entry_of(scan).digest == stored_row_digest(Scan, scan.pk)
    assert verify_audit().intact


def test_an_outsiders_scan_is_refused_without_storing_anything(personas):
    route, cps = night_route(personas)
    run = rounds.start_run(route, personas.guard_a, started_at=timezone.now())
    entries = LedgerEntry.objects.count()
    for outsider in (personas.outsider_c, personas.auditor_a):
        data = ScanInput(cps[0].tag_code, uuid.uuid4(), timezone.now(), "qr")
        with pytest.raises(Exception) as refused:
            rounds.record_scan(outsider, data, run_id=run.pk)
        assert json.dumps(refused.value.message_dict) == json.dumps(
            {"run": [scan_services.NOT_REACHABLE]}
        )
    assert not run.scans.exists() and LedgerEntry.objects.count() == entries
