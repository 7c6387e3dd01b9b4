"""A scan is judged from its run's state before it, at a fixed cost: the findings are the same
as replaying the whole run, whatever order the scans arrive in, and the queries of a scan do
not grow with the scans its run already has."""

import random
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import RoundException, Run, Scan
from facility_log.services import rounds
from facility_log.services.prepared import with_statements
from facility_log.services.rounds import REPLAYED_KINDS, ScanInput
from tests.personas import build_personas
from tests.rounds_helpers import WHY, night_route, scan
from tests.services.test_incident_numbers_concurrency import _waiting_on_locks

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"
# A guard's scan with nothing to flag, through the service: [begin] one query locking the run,
# checking the guard's role and that the client_uuid is new; the checkpoint; the insert; the
# run's scans (its state, and the new row's digest for the ledger: not read back apart);
# [the ledger] on PostgreSQL one statement (the advisory lock, then the head and the entry,
# its hash computed by PostgreSQL), on SQLite the head and the entry [commit]. (Tests run
# inside a transaction: begin and commit are savepoints.)
LEDGER_QUERIES = 1 if ON_POSTGRES else 2
SERVICE_QUERIES = 1 + 4 + 1 + LEDGER_QUERIES
# Through the API (the run's id given): the token, then without the checkpoint's query; on
# PostgreSQL [begin] one request locking the run, reading its scans and taking the new
# scan's id, then one with the scan's insert and its ledger entry [commit]
# (services/rounds/scans.py `_record_in_two_trips`, services/ledger_held.py).
API_QUERIES = 1 + (1 + 2 + 1 if ON_POSTGRES else SERVICE_QUERIES - 1)


def _long_route(personas, stops=45):
    names = [f"Stop {n}" for n in range(stops)]
    return night_route(personas, names=names, minutes=tuple(range(stops)))


def test_the_40th_scan_of_a_run_costs_the_same_queries_as_the_1st(personas):
    route, checkpoints = _long_route(personas)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    counts = []
    for n, checkpoint in enumerate(checkpoints[:40]):
        with CaptureQueriesContext(connection) as queries:
            scan(personas.guard_a, run, checkpoint, start + timedelta(minutes=n))
        counts.append(len(queries))
    assert counts == [SERVICE_QUERIES] * 40
    assert not run.exceptions.exists()


def test_a_scan_through_the_api_reads_its_run_once_at_a_fixed_cost(personas, api_client_for):
    route, checkpoints = _long_route(personas)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    client = api_client_for("guard_a")
    counts, run_reads = [], []
    for n, checkpoint in enumerate(checkpoints[:40]):
        body = {
            "run": run.pk,
            "tag_code": checkpoint.tag_code,
            "method": "qr",
            "client_uuid": str(uuid.uuid4()),
            "device_time": (start + timedelta(minutes=n)).isoformat(),
            "device_sent_at": timezone.now().isoformat(),
        }
        with CaptureQueriesContext(connection) as queries:
            assert client.post("/api/v1/scans/", body, format="json").status_code == 201
        counts.append(len(queries))
        run_reads.append(sum(_reads_run(with_statements(q["sql"])) for q in queries))
    assert counts == [API_QUERIES] * 40
    assert run_reads == [1] * 40


def _reads_run(sql: str) -> bool:
    """Whether a statement reads runs: as SQL, or as the prepared statement of the scan's
    locking read (PostgreSQL: services/prepared.py)."""
    from facility_log.services.rounds.scans import _LOCKED_RUN

    names = [s.name for s in _LOCKED_RUN._statements.values() if s is not None]
    return sql.startswith('SELECT "facility_log_run"."id"') or any(
        sql.startswith(f"EXECUTE {name}(") for name in names
    )


def _stored_keys(run) -> set[str]:
    live = run.exceptions.filter(kind__in=REPLAYED_KINDS, withdrawn_at__isnull=True)
    return set(live.values_list("key", flat=True))


def _walk_at_random(personas, seed: int) -> int:
    """Record scans with random checkpoints (one off the route), gaps (some under the minimum
    walk, some going back in time), lateness and drifting clocks; after each one, check the
    stored findings are exactly those of a full replay, the new ones worded as the replay
    words them, and that a full replay then changes nothing. Returns how many scans went
    before an earlier-sent one in time."""
    rng = random.Random(seed)
    route, checkpoints = night_route(
        personas,
        names=[f"S{seed} {n}" for n in range(5)],
        minutes=(0, 5, 10, 15, 20),
        route_name=f"Random {seed}",
        must_follow_order=rng.random() < 0.5,
    )
    elsewhere = rounds.create_checkpoint(
        personas.site_a, personas.manager_ab, zone=personas.zone_a, name=f"Off {seed}", reason=WHY
    )
    start = timezone.now() - timedelta(hours=3)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    moment, backwards = start, 0
    for _ in range(14):
        moment += timedelta(seconds=rng.choice([5, 15, 40, 90, 300, 600, -120, -400]))
        moment = max(moment, start)
        sent_at = timezone.now() - timedelta(minutes=10) if rng.random() < 0.15 else None
        checkpoint = rng.choice([*checkpoints, *checkpoints, elsewhere])
        before = set(RoundException.objects.values_list("pk", flat=True))
        latest = run.scans.order_by("-effective_time").first()
        made = scan(personas.guard_a, run, checkpoint, moment, sent_at=sent_at)
        backwards += latest is not None and made.effective_time < latest.effective_time

        replay = {f.key: f for f in rounds.run_findings(run, final=False)}
        assert _stored_keys(run) == set(replay)
        for new in RoundException.objects.exclude(pk__in=before):
            assert (new.detail, new.scan_id) == (replay[new.key].detail, replay[new.key].scan.pk)
        rows = (RoundException.objects.count(), RoundException.history.count())
        rounds.sync_run_exceptions(run, final=False)
        assert (RoundException.objects.count(), RoundException.history.count()) == rows
    return backwards


def test_findings_judged_one_scan_at_a_time_equal_a_full_replay(personas):
    backwards = sum(_walk_at_random(personas, seed) for seed in range(8))
    assert backwards > 0  # the replaying path was taken too
    kinds = set(RoundException.objects.values_list("kind", flat=True))
    assert {"too_fast", "late", "duplicate_scan", "not_on_route", "clock_drift"} <= kinds


def test_a_scan_synced_late_with_an_earlier_time_withdraws_what_it_disproves(personas):
    route, (a, b, c) = night_route(personas, must_follow_order=True)
    start = timezone.now() - timedelta(hours=1)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    scan(personas.guard_a, run, a, start + timedelta(minutes=1))
    scan(personas.guard_a, run, c, start + timedelta(minutes=12))
    assert _stored_keys(run) == {f"out_of_order:run:{run.pk}:cp:{c.pk}"}
    scan(personas.guard_a, run, b, start + timedelta(minutes=6))  # walked before C, sent after
    assert _stored_keys(run) == set()
    withdrawn = run.exceptions.get()
    assert withdrawn.withdrawn_reason == "disproved by scans that arrived later"


def test_a_scan_into_a_run_finished_meanwhile_is_refused(personas):
    route, checkpoints = night_route(personas)
    run = rounds.start_run(route, personas.guard_a)
    stale = Run.objects.select_related("site", "route", "schedule").get(pk=run.pk)
    rounds.finish_run(run, personas.guard_a)
    with pytest.raises(ValidationError) as error:
        scan(personas.guard_a, stale, checkpoints[0], timezone.now())
    assert "run" in error.value.message_dict
    assert Scan.objects.count() == 0


def test_a_supervisor_may_scan_into_a_guards_run_and_a_guard_not_into_anothers(personas):
    route, checkpoints = night_route(personas)
    start = timezone.now() - timedelta(minutes=30)
    guards_run = rounds.start_run(route, personas.guard_a, started_at=start)
    data = ScanInput(checkpoints[0].tag_code, uuid.uuid4(), start + timedelta(minutes=1))
    made, created = rounds.record_scan(personas.supervisor_a, data, run=guards_run)
    again, created_again = rounds.record_scan(personas.supervisor_a, data, run=guards_run)
    assert (created, created_again, again.pk) == (True, False, made.pk)
    assert made.recorded_by == personas.supervisor_a and made.run.guard == personas.guard_a

    supervisors_run = rounds.start_run(route, personas.supervisor_a, started_at=start)
    with pytest.raises(PermissionDenied):
        scan(personas.guard_a, supervisors_run, checkpoints[0], start + timedelta(minutes=2))
    with pytest.raises(PermissionDenied):
        scan(personas.outsider_c, guards_run, checkpoints[1], start + timedelta(minutes=2))
    assert Scan.objects.count() == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="needs concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_scans_of_one_checkpoint_at_once_give_one_duplicate(transactional_db):
    """Both scans wait on the run's row lock; released, the second is judged after the first
    (without the lock both would find the checkpoint not yet scanned)."""
    personas = build_personas()
    route, checkpoints = night_route(personas)
    start = timezone.now() - timedelta(minutes=30)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    errors: list[BaseException] = []

    def send(minute: int) -> None:
        try:
            data = ScanInput(
                checkpoints[0].tag_code, uuid.uuid4(), start + timedelta(minutes=minute)
            )
            rounds.record_scan(personas.guard_a, data, run=Run.objects.get(pk=run.pk))
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(minute,)) for minute in (1, 2)]
    with transaction.atomic():
        Run.objects.select_for_update().get(pk=run.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Scan.objects.filter(run=run).count() == 2
    assert list(run.exceptions.values_list("kind", flat=True)) == ["duplicate_scan"]
