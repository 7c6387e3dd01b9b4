"""`POST /api/v1/sync/`: a tablet's outbox in one request. Each record gets the answer its own
endpoint would give, one refusal loses nothing else, a replay stores nothing twice, and
another site's or another guard's records are refused without a trace."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import LedgerEntry, RoundException, Run, Scan, ShiftEntry
from facility_log.services import rounds
from facility_log.services import shifts as shift_services
from facility_log.services.prepared import with_statements
from facility_log.services.verify import verify_audit
from tests.rounds_helpers import night_route

pytestmark = pytest.mark.django_db
URL = "/api/v1/sync/"


def _uid() -> str:
    return str(uuid.uuid4())


def _night(personas, names=("Gate", "Dock", "Roof")):
    route, checkpoints = night_route(
        personas, names=names, minutes=tuple(range(0, 10 * len(names), 10))
    )
    shift, _ = shift_services.start_shift(
        personas.site_a,
        personas.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now() - timedelta(hours=3),
    )
    return route, checkpoints, shift


def _scan(run_ref, checkpoint, when, **extra) -> dict:
    ref = {"run_uuid": run_ref} if isinstance(run_ref, str) else {"run": run_ref}
    return {
        "type": "scan",
        **ref,
        "tag_code": checkpoint.tag_code,
        "client_uuid": _uid(),
        "method": "qr",
        "device_time": when.isoformat(),
        **extra,
    }


def _outbox(route, checkpoints, shift, start) -> list[dict]:
    """A round started, walked and finished, and a log entry, all by client_uuid."""
    run = _uid()
    return [
        {"type": "run", "route": route.pk, "client_uuid": run, "started_at": start.isoformat()},
        *(
            _scan(run, checkpoint, start + timedelta(minutes=10 * n))
            for n, checkpoint in enumerate(checkpoints)
        ),
        {
            "type": "run-finish",
            "run_uuid": run,
            "finished_at": (start + timedelta(minutes=25)).isoformat(),
        },
        {
            "type": "shift-entry",
            "shift_uuid": str(shift.client_uuid),
            "client_uuid": _uid(),
            "kind": "patrol",
            "occurred_at": (start + timedelta(minutes=30)).isoformat(),
            "text": "All doors locked.",
        },
    ]


def _statuses(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [result["status"] for result in response.json()["results"]]


def test_a_night_outbox_is_stored_in_one_request_in_order(personas, api_client_for):
    route, checkpoints, shift = _night(personas)
    start = timezone.now() - timedelta(hours=2)
    records = _outbox(route, checkpoints, shift, start)
    response = api_client_for("guard_a").post(URL, {"records": records}, format="json")
    assert _statuses(response) == [201, 201, 201, 201, 200, 201]
    results = response.json()["results"]
    run = Run.objects.get()
    assert [r["index"] for r in results] == list(range(6))
    assert results[0]["id"] == run.pk and results[4]["id"] == run.pk
    assert run.guard == personas.guard_a and run.finished_at is not None
    scans = Scan.objects.filter(run=run).order_by("device_time")
    assert [s.pk for s in scans] == [r["id"] for r in results[1:4]]
    assert [s.checkpoint for s in scans] == checkpoints
    assert ShiftEntry.objects.get().shift == shift
    assert not RoundException.objects.filter(run=run).exists()  # walked in order, on time
    # History and the ledger: every record has its entries, and the chain holds.
    assert LedgerEntry.objects.filter(object_type="facility_log.scan").count() == 3
    assert verify_audit().intact


def test_a_refused_record_is_answered_and_loses_nothing_else(personas, api_client_for):
    route, checkpoints, shift = _night(personas)
    start = timezone.now() - timedelta(hours=2)
    records = _outbox(route, checkpoints, shift, start)
    records[2]["tag_code"] = "ZZZZ-ZZZZ-ZZZZ"  # no such checkpoint
    both = {**records[3], "run": 1}  # both `run` and `run_uuid`: a rule the schema cannot state
    waiting = _scan(_uid(), checkpoints[0], start)  # a run the server does not have
    batch = [*records[:3], both, *records[4:], waiting]
    response = api_client_for("guard_a").post(URL, {"records": batch}, format="json")
    assert _statuses(response) == [201, 201, 400, 400, 200, 201, 424]
    results = response.json()["results"]
    assert "tag_code" in results[2]["errors"] and results[2]["id"] is None
    assert results[3]["errors"] == {"run": ["Give either `run` or `run_uuid`."]}
    # A text of spaces only matches the schema (minLength 1) but is no entry: its own refusal.
    blank = {**records[5], "client_uuid": _uid(), "text": "   "}
    response = api_client_for("guard_a").post(URL, {"records": [blank]}, format="json")
    assert _statuses(response) == [400]
    assert response.json()["results"][0]["errors"] == {"text": ["This field may not be blank."]}
    assert "Waiting for the run" in results[6]["errors"]["run"][0]
    assert Scan.objects.count() == 1
    # The run was finished with two checkpoints missed: the findings of what was stored.
    missed = RoundException.objects.filter(kind="missed_checkpoint")
    assert missed.count() == 2
    assert verify_audit().intact


@pytest.mark.parametrize(
    ("change", "index", "field"),
    [
        (lambda r: r[3].pop("method"), 3, "method"),  # a field missing
        (lambda r: r[5].update(text=7), 5, "text"),  # a number for a text
        (lambda r: r[1].update(client_uuid=12), 1, "client_uuid"),  # not a UUID string
        (lambda r: r[0].update(route=str(r[0]["route"])), 0, "route"),  # "12" for an id
        (lambda r: r[2].update(photo="x"), 2, "photo"),  # a field a record does not take
        (lambda r: r[4].update(type="incident"), 4, "type"),  # not one of the four types
    ],
)
def test_a_record_the_schema_does_not_allow_refuses_the_request(
    personas, api_client_for, change, index, field
):
    """As every operation (docs/api.md): a body that does not match the schema is a 400
    naming the place (`records` → index → field) and nothing of it is stored; the tablet then
    sends its records one by one to their own endpoints."""
    route, checkpoints, shift = _night(personas)
    records = _outbox(route, checkpoints, shift, timezone.now() - timedelta(hours=2))
    change(records)
    client = api_client_for("guard_a")
    before = (Run.objects.count(), Scan.objects.count(), LedgerEntry.objects.count())
    response = client.post(URL, {"records": records}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["records"]) == [str(index)]
    assert list(response.json()["records"][str(index)]) == [field]
    assert (Run.objects.count(), Scan.objects.count(), LedgerEntry.objects.count()) == before


def test_the_same_outbox_again_stores_nothing_twice(personas, api_client_for):
    route, checkpoints, shift = _night(personas)
    records = _outbox(route, checkpoints, shift, timezone.now() - timedelta(hours=2))
    client = api_client_for("guard_a")
    first = client.post(URL, {"records": records}, format="json").json()["results"]
    entries = LedgerEntry.objects.count()
    again = client.post(URL, {"records": records}, format="json")
    assert _statuses(again) == [200] * 6
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first]
    assert (Run.objects.count(), Scan.objects.count(), ShiftEntry.objects.count()) == (1, 3, 1)
    assert LedgerEntry.objects.count() == entries
    # The same client_uuid with other content is refused, and named.
    changed = {**records[1], "method": "manual"}
    response = client.post(URL, {"records": [changed]}, format="json")
    assert _statuses(response) == [422]
    assert "client_uuid" in response.json()["results"][0]["errors"]


def test_the_outsider_reaches_nothing_of_site_a(personas, api_client_for):
    route, checkpoints, shift = _night(personas)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start, client_uuid=uuid.uuid4())
    outsider = api_client_for("outsider_c")
    before = (Run.objects.count(), Scan.objects.count(), LedgerEntry.objects.count())
    records = [
        {"type": "run", "route": route.pk, "client_uuid": _uid()},
        _scan(run.pk, checkpoints[0], start),
        _scan(str(run.client_uuid), checkpoints[0], start),
        {"type": "run-finish", "run": run.pk},
        {
            "type": "shift-entry",
            "shift": shift.pk,
            "client_uuid": _uid(),
            "kind": "patrol",
            "occurred_at": start.isoformat(),
            "text": "x",
        },
    ]
    response = outsider.post(URL, {"records": records}, format="json")
    assert _statuses(response) == [400, 400, 424, 400, 400]
    results = response.json()["results"]
    for result, field in zip(results, ["route", "run", "run", "run", "shift"], strict=True):
        assert list(result["errors"]) == [field]
    assert results[1]["errors"]["run"] == ["Not found among your sites."]
    assert (Run.objects.count(), Scan.objects.count(), LedgerEntry.objects.count()) == before
    run.refresh_from_db()
    assert run.finished_at is None


def test_another_guards_run_and_another_accounts_records_are_refused(personas, api_client_for):
    route, checkpoints, _shift = _night(personas)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    # A second guard at site A may not scan into guard_a's run (a supervisor may).
    other = personas.supervisor_a
    response = api_client_for("supervisor_a").post(
        URL, {"records": [_scan(run.pk, checkpoints[0], start)]}, format="json"
    )
    assert _statuses(response) == [201]
    assert Scan.objects.get().recorded_by == other
    # The tablet names who made its records: sent under another account, all are refused.
    client = api_client_for("guard_a")
    client.credentials(
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
        HTTP_X_FACILITY_LOG_USER="supervisor_a",
    )
    response = client.post(URL, {"records": [_scan(run.pk, checkpoints[1], start)]}, format="json")
    assert response.status_code == 403
    assert "made by supervisor_a" in response.json()["detail"]
    assert Scan.objects.count() == 1


def test_a_guard_cannot_scan_into_another_guards_run(personas, api_client_for):
    from facility_log.services import accounts, sites

    route, checkpoints, _shift = _night(personas)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    second = accounts.create_user(personas.admin, username="guard_a2", password=None, reason="t")
    sites.grant_membership(personas.site_a, personas.admin, user=second, role="guard", reason="t")
    _token, key = accounts.issue_api_token(second, personas.admin, reason="t")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(URL, {"records": [_scan(run.pk, checkpoints[0], start)]}, format="json")
    assert _statuses(response) == [403]
    assert not Scan.objects.exists()


def test_queries_per_scan_in_a_batch_do_not_grow(personas, api_client_for):
    names = [f"Stop {n}" for n in range(30)]
    route, checkpoints, _shift = _night(personas, names=names)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start, client_uuid=uuid.uuid4())
    client = api_client_for("guard_a")
    counts = []
    for first, size in ((0, 5), (5, 10), (15, 15)):
        records = [
            _scan(str(run.client_uuid), checkpoints[n], start + timedelta(minutes=3 * n))
            for n in range(first, first + size)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert _statuses(client.post(URL, {"records": records}, format="json")) == [201] * size
        counts.append(len(queries))
    per_scan = (counts[1] - counts[0]) / 5
    assert counts[2] - counts[1] == 5 * per_scan  # the 30th scan costs what the 1st did
    # The service's savepoint (2) and the insert: the run is locked and its state read by
    # its first scan in the batch, then kept (RunState); the client_uuid is checked by the
    # unique key; the site's checkpoints are read once, the ledger is one step, per batch.
    assert per_scan == 3
    assert verify_audit().intact


def test_a_body_that_is_not_a_list_of_records_is_refused_whole(personas, api_client_for):
    client = api_client_for("guard_a")
    assert client.post(URL, {"records": []}, format="json").status_code == 400
    too_many = {"records": [{"type": "scan"}] * 101}
    assert client.post(URL, too_many, format="json").status_code == 400
    assert client.post(URL, {"records": "x"}, format="json").status_code == 400
    form = client.post(URL, {"records": "x"}, format="multipart")
    assert form.status_code == 415
    unknown = client.post(URL, {"records": [{"type": "incident"}]}, format="json")
    assert unknown.status_code == 400
    assert "type" in unknown.json()["records"]["0"]
    assert client.post(URL, {"records": [], "extra": 1}, format="json").status_code == 400
    assert api_client_for("guard_a").post(URL, {}, format="json").status_code == 400


def test_scans_after_the_first_of_a_run_in_a_batch_are_judged_as_a_replay_would(
    personas, api_client_for
):
    # After its first scan, a batch keeps its run locked and its state in memory: the later
    # scans are judged from that state, a replay among them is caught by the unique key, and a
    # scan after the run's finish in the same batch is refused, as one request each would be.
    route, checkpoints, _shift = _night(personas, names=("Gate", "Dock", "Roof", "Yard"))
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start, client_uuid=uuid.uuid4())
    ref = str(run.client_uuid)
    first = _scan(ref, checkpoints[0], start + timedelta(minutes=1))
    records = [
        first,
        _scan(ref, checkpoints[2], start + timedelta(minutes=1, seconds=5)),  # too soon
        _scan(ref, checkpoints[0], start + timedelta(minutes=20)),  # the Gate again
        dict(first),  # the same scan again
        {**first, "method": "manual"},  # its client_uuid for another scan
        _scan(ref, checkpoints[1], start + timedelta(minutes=95)),  # the Dock, late
        {
            "type": "run-finish",
            "run_uuid": ref,
            "finished_at": (start + timedelta(minutes=99)).isoformat(),
        },  # noqa: E501
        _scan(ref, checkpoints[3], start + timedelta(minutes=100)),  # after the finish
    ]
    response = api_client_for("guard_a").post(URL, {"records": records}, format="json")
    assert _statuses(response) == [201, 201, 201, 200, 422, 201, 200, 400]
    results = response.json()["results"]
    assert results[3]["id"] == results[0]["id"]
    assert "finished" in results[7]["errors"]["run"][0]
    assert Scan.objects.filter(run=run).count() == 4
    # What was stored scan by scan is what replaying the whole run finds.
    run.refresh_from_db()
    stored = set(run.exceptions.filter(withdrawn_at__isnull=True).values_list("key", flat=True))
    assert stored == {f.key for f in rounds.run_findings(run, final=True)}
    kinds = set(run.exceptions.values_list("kind", flat=True))
    assert {"too_fast", "duplicate_scan", "late", "missed_checkpoint"} <= kinds
    assert LedgerEntry.objects.filter(object_type="facility_log.scan").count() == 4
    assert verify_audit().intact


def test_a_replayed_first_scan_does_not_leave_its_run_unlocked_for_the_next(
    personas, api_client_for
):
    # The 1st record is a replay (stored before): its savepoint's rollback also gives up the
    # run's lock, so the next scan of the run locks and reads it afresh.
    route, checkpoints, _shift = _night(personas)
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start, client_uuid=uuid.uuid4())
    client = api_client_for("guard_a")
    first = _scan(run.pk, checkpoints[0], start + timedelta(minutes=1))
    assert _statuses(client.post(URL, {"records": [first]}, format="json")) == [201]
    later = [
        _scan(run.pk, cp, start + timedelta(minutes=10 * n))
        for n, cp in enumerate(checkpoints[1:], 1)
    ]  # noqa: E501
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {"records": [first, *later]}, format="json")
    assert _statuses(response) == [200, 201, 201]
    locks = [
        with_statements(q["sql"])
        for q in queries.captured_queries
        if "FOR UPDATE" in with_statements(q["sql"])
    ]
    if connection.features.has_select_for_update:
        assert len(locks) == 2  # the replay's (rolled back), then the next scan's own
    assert not run.exceptions.exists()
    assert verify_audit().intact
