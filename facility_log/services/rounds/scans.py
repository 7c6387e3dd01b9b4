"""Scans: the proof a checkpoint was visited, sent by a tablet live or hours later.

Trusting device clocks.
  A tablet without signal keeps scanning and uploads later. Lateness is judged on the time
  the device says the tag was scanned, not when the scan arrived. The device also sends its
  clock at upload time (`device_sent_at`); the server compares it with its own clock on
  arrival. A difference beyond FACILITY_LOG["ROUNDS_CLOCK_DRIFT_SECONDS"] is flagged as clock
  drift, and the scan's time is corrected by the measured difference. Without
  `device_sent_at`, a device time in the future is the only drift that can be seen.

What a scan costs.
  A fixed number of queries, however many scans its run already has: the scan is judged
  from the run's state before it (services/rounds/findings.py). Scans of one run are
  recorded one at a time (the run's row is locked), so that state cannot change meanwhile.
  A guard's scan of their own open run: one query reads and locks the run (with its site,
  route and schedule), checks the guard's role and that the client_uuid is new; then the
  checkpoint, the insert, the run's state, and the ledger's entry at the end of the
  transaction. The API passes the run's id (`run_id`) so that this one query is also the
  only read of the run, and finds the scanned checkpoint too; that statement, and the read
  of the run's scans, are compiled once per process (services/precompiled.py): building
  them cost more Python time than the database took to run them.

  On PostgreSQL a scan sent with its run's id costs two round trips between the transaction's
  begin and commit (`_record_in_two_trips`): the run's locking read, the read of its scans
  and the new scan's id from its sequence go as three statements in one request; a scan that
  finds nothing (nearly every one) is then inserted in the same request as its ledger entry
  (services/ledger_held.py: the entry's digest is checked against the row as the INSERT
  returns it). A scan that finds something is inserted at once, before its findings.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from facility_log.models import Checkpoint, Route, Run, Scan, ScanMethod, Site
from facility_log.models.rounds import normalize_tag_code
from facility_log.scoping import REPORT_ROLES, can_act, has_role, is_unrestricted, scoped
from facility_log.services import ledger, uploads
from facility_log.services.audit import audited_change
from facility_log.services.filetypes import FileType
from facility_log.services.ledger_held import StoredRowDiffers
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery
from facility_log.services.rounds.common import (
    IdempotencyConflict,
    check_may_walk,
    knob,
    refuse_implausible_time,
)
from facility_log.services.rounds.findings import (
    RUN_SCAN_TIMES,
    RunState,
    new_scan_findings,
    store_new_scan_findings,
    sync_new_scan,
)
from facility_log.services.rounds.runs import create_run
from facility_log.services.times import PLAUSIBLE_FUTURE

RUN_FINISHED = "This run is finished; start a new run to scan again."


@dataclass(frozen=True)
class ScanInput:
    """What a device sends for one scan."""

    tag_code: str
    client_uuid: uuid.UUID
    device_time: datetime
    method: str = ScanMethod.MANUAL
    device_sent_at: datetime | None = None
    note: str = ""


def record_scan(
    actor: AbstractBaseUser,
    data: ScanInput,
    *,
    run: Run | None = None,
    run_id: int | None = None,
    route: Route | None = None,
    photo=None,
    checkpoints: dict[str, Checkpoint] | None = None,
    state: RunState | None = None,
    reason: str = "checkpoint scanned",
) -> tuple[Scan, bool]:
    """Record one scan into `run` (or the run `run_id` of the actor's sites, read here, or
    start a run of `route` with it). Returns (scan, created): the same `client_uuid` sent
    again returns the stored scan; with a different payload it is refused
    (IdempotencyConflict). Bad input raises ValidationError naming the field and stores
    nothing. Pass `run` with its site, route and schedule loaded (select_related) to spare a
    query for each, and `checkpoints` (the active ones of the run's site by tag code, read
    once for many scans: services/sync.py) to spare the checkpoint's.

    `state`, for several scans of `run` in one transaction (a /sync/ batch): the run's state,
    kept by the caller from one scan to the next. Once a scan is stored with it, the run is
    known to be locked by this transaction and its state known, so the next scan neither
    locks nor reads it again: it is checked against the run in memory (finished?) and its
    client_uuid by the unique key (a replay fails its insert, in its own savepoint, and is
    then answered as one).

    A `photo` is held to the attachment rules (services/uploads.py): a photo by its content
    (JPEG, PNG, GIF, WebP), at most FACILITY_LOG["MAX_UPLOAD_BYTES"], stored under a generated
    name with its SHA-256; anything else is refused on `photo` and nothing is stored."""
    stored_photo = _checked_photo(photo) if photo else None
    # On PostgreSQL a scan sent with its run's id reads and locks its run, reads the run's
    # scans and takes its own id in one round trip, and a scan that finds nothing is inserted
    # with its ledger entry in a second (_record_in_two_trips).
    two_trips = run_id is not None and stored_photo is None and _in_two_trips()
    record = partial(_record, actor, data, run, run_id, route, stored_photo, checkpoints, state)
    try:
        return record(reason, two_trips)
    except StoredRowDiffers:
        # Never expected (services/ledger_held.py): rolled back whole; recorded as before.
        return record(reason, False)


def _in_two_trips() -> bool:
    """Whether a scan sent with its run's id is recorded in two round trips (PostgreSQL)."""
    return connection.vendor == "postgresql"


def _record(actor, data, run, run_id, route, stored_photo, checkpoints, state, reason, two_trips):
    try:
        with audited_change(actor, reason):
            if two_trips:
                return _record_in_two_trips(actor, data, run_id), True
            if run_id is not None:
                run, checkpoints = _locked_run(actor, data, run_id)
                site = run.site
            elif state is not None and state.held and run is not None:
                if run.is_finished:
                    raise ValidationError({"run": RUN_FINISHED})
                site = run.site
            else:
                site = _open_target(actor, data, run, route)
            checkpoint = _checkpoint_for(site, data, checkpoints)
            scan = _create_scan(actor, data, run, route, checkpoint, stored_photo)
            sync_new_scan(scan.run, scan, checkpoint, state)
    except (_AlreadyStored, IntegrityError):
        if state is not None and not state.held:
            state.forget()  # read under a lock this savepoint's rollback let go
        # Sent before (a retry, the outbox again), or by a request that won a race with this.
        existing = Scan.objects.filter(client_uuid=data.client_uuid)
        if (existing := existing.select_related("checkpoint", "run__site").first()) is None:
            raise
        run_pk = run_id if run_id is not None else (run.pk if run is not None else None)
        return _same_scan(existing, data, run_pk, actor, stored_photo), False
    if state is not None and run is not None:
        state.held = True  # locked in a savepoint now released into the caller's transaction
    return scan, True


def _record_in_two_trips(actor, data: ScanInput, run_id: int) -> Scan:
    """A scan of the run `run_id` on PostgreSQL (inside `audited_change`): the run locked
    and checked, its scans read and the new scan's id taken in one round trip; then a scan
    that finds nothing goes in with its ledger entry (`ledger.hold_insert`), one that finds
    something is inserted at once and its findings stored as `sync_new_scan` stores them."""
    code = normalize_tag_code(data.tag_code)
    key, values = _locked_run_key(actor, data, run_id, code)
    if key is None:
        raise ValidationError({"run": NOT_REACHABLE})
    run_query = _LOCKED_RUN.statement(key, **values)
    times_query = RUN_SCAN_TIMES.statement("all", run_id=run_id)
    with connection.cursor() as cursor:
        # Three statements in one simple-protocol request, each with its own snapshot: the
        # scans are read once the run's lock is granted (ledger._locked_head says why).
        cursor.execute(
            f"{run_query[1]}; {times_query[1]}; SELECT nextval(pg_get_serial_sequence(%s, %s))",
            [*run_query[2], *times_query[2], Scan._meta.db_table, Scan._meta.pk.column],
        )
        run_rows = cursor.fetchall()
        cursor.nextset()
        time_rows = cursor.fetchall()
        cursor.nextset()
        (scan_pk,) = cursor.fetchone()
    runs = PrecompiledQuery.instances_of(run_query[0], run_rows)
    run, checkpoints = _checked_run(actor, runs[0] if runs else None, code)
    checkpoint = _checkpoint_for(run.site, data, checkpoints)
    state = RunState()
    state.read_from(times_query[0].results_iter([time_rows]))
    scan = _new_scan(actor, data, run, checkpoint)
    scan.pk = scan_pk
    findings = new_scan_findings(run, scan, checkpoint, state)
    if ledger.hold_insert(scan, actor):
        if findings != []:
            # Its findings refer to it (a replay reads it): inserted now, not with its entry.
            ledger.insert_held()
        scan._state.adding, scan._state.db = False, connection.alias
    else:
        scan.save(force_insert=True)
    store_new_scan_findings(run, scan, findings, state)
    return scan


class _AlreadyStored(Exception):
    """A scan with this client_uuid is stored already."""


NOT_REACHABLE = "Not found among your sites."


def _locked_run(actor, data: ScanInput, run_id: int) -> tuple[Run, dict[str, Checkpoint]]:
    """The run `run_id` at a site where the actor may walk rounds, locked until the scan is
    stored, with its site, route and schedule, in one query that also says whether the
    client_uuid is stored already (then _AlreadyStored) and which active checkpoint of the
    site has the scanned code (returned as {code: checkpoint}, empty if none; its id and
    name are all a scan needs of it). Any other run id gets the same error as a missing one
    (existence at other sites is not revealed)."""
    code = normalize_tag_code(data.tag_code)
    key, values = _locked_run_key(actor, data, run_id, code)
    return _checked_run(actor, _LOCKED_RUN.first(key, **values) if key else None, code)


def _locked_run_key(actor, data: ScanInput, run_id: int, code: str) -> tuple[str | None, dict]:
    """The key and values of `_LOCKED_RUN` for this actor (key None: no role to act)."""
    values = {"run_id": run_id, "client_uuid": data.client_uuid, "code": code}
    if is_unrestricted(actor):
        return "all", values
    if can_act(actor):
        return "member", {**values, "actor_id": actor.pk}
    return None, values


def _checked_run(actor, run: Run | None, code: str) -> tuple[Run, dict[str, Checkpoint]]:
    """`_locked_run`'s checks of the run it read (None: not found among the actor's sites)."""
    if run is None:
        raise ValidationError({"run": NOT_REACHABLE})
    if run.stored:
        raise _AlreadyStored
    if run.guard_id != actor.pk:
        check_may_walk(actor, run.site, run.guard)
    if run.is_finished:
        raise ValidationError({"run": RUN_FINISHED})
    known = {}
    if run.checkpoint_pk is not None:
        known[code] = Checkpoint(
            pk=run.checkpoint_pk, site=run.site, name=run.checkpoint_name, tag_code=code
        )
    return run, known


def _locked_run_query(key: str, *, run_id, client_uuid, code, actor_id) -> QuerySet:
    """The query of `_locked_run`, scoped as `scoped()` scopes it for a superuser ("all") or
    a member of sites (a stand-in user with the sentinel id; the shape is the same for all)."""
    runs = Run.objects.select_for_update(of=("self",)).select_related("site", "route", "schedule")
    stored = Exists(Scan.objects.filter(client_uuid=client_uuid))
    # Unordered: tag codes are unique, and the model's ordering would join site and zone.
    scanned = Checkpoint.objects.filter(
        site=OuterRef("site"), tag_code=code, is_active=True
    ).order_by()
    stand_in = get_user_model()(pk=actor_id, is_active=True, is_superuser=key == "all")
    return (
        scoped(runs.filter(pk=run_id), stand_in, REPORT_ROLES)
        .annotate(
            stored=stored,
            checkpoint_pk=Subquery(scanned.values("pk")[:1]),
            checkpoint_name=Subquery(scanned.values("name")[:1]),
        )
        .order_by()
    )


# Compiled once per process: building and compiling this statement took longer than the
# database takes to run it (services/precompiled.py); and planned once per connection:
# planning it took the database four times as long as running it (services/prepared.py).
_LOCKED_RUN = PreparedQuery(
    _locked_run_query,
    {
        "run_id": Slot(-(2**62) + 11, Run._meta.pk),
        "client_uuid": Slot(
            uuid.UUID("5e5e5e5e-0000-4000-8000-5e5e5e5e5e5e"), Scan._meta.get_field("client_uuid")
        ),
        "code": Slot("\x1fsentinel tag code\x1f", Checkpoint._meta.get_field("tag_code")),
        "actor_id": Slot(-(2**62) + 12, get_user_model()._meta.pk),
    },
)


def _open_target(actor, data: ScanInput, run: Run | None, route: Route | None) -> Site:
    """The site the scan is recorded at, once it may be: its client_uuid is new (else
    _AlreadyStored), the run is still open and locked until the scan is stored (its other
    scans cannot change meanwhile; scans of other runs do not wait), and the actor may walk
    there. A guard's scan of their own run, nearly every scan, is checked in one query."""
    if run is not None and run.guard_id == actor.pk:
        locked = scoped(Run.objects.select_for_update().filter(pk=run.pk), actor, REPORT_ROLES)
        stored = Exists(Scan.objects.filter(client_uuid=data.client_uuid))
        row = locked.annotate(stored=stored).values_list("finished_at", "stored").first()
        if row is not None:  # else no role there: refused below, with the reason
            run.finished_at, already = row
            if already:
                raise _AlreadyStored
            if run.is_finished:
                raise ValidationError({"run": RUN_FINISHED})
            return run.site
    if Scan.objects.filter(client_uuid=data.client_uuid).exists():
        raise _AlreadyStored
    site = _scan_site(run, route)
    check_may_walk(actor, site, run.guard if run else actor)
    if run is not None:
        _lock_open_run(run)
    return site


def _scan_site(run: Run | None, route: Route | None) -> Site:
    if run is not None:
        if run.is_finished:
            raise ValidationError({"run": RUN_FINISHED})
        return run.site
    if route is None:
        raise ValidationError({"run": "Name the run (or the route, to start one)."})
    if not route.is_active:
        raise ValidationError({"route": "This route is no longer in use."})
    return route.site


def _lock_open_run(run: Run) -> None:
    locked = Run.objects.select_for_update().filter(pk=run.pk)
    run.finished_at = locked.values_list("finished_at", flat=True).get()
    if run.is_finished:
        raise ValidationError({"run": RUN_FINISHED})


def active_checkpoints(site: Site) -> dict[str, Checkpoint]:
    """The site's active checkpoints by tag code, for `record_scan(checkpoints=...)`."""
    return {c.tag_code: c for c in Checkpoint.objects.filter(site=site, is_active=True)}


def _checkpoint_for(site: Site, data: ScanInput, known: dict | None = None) -> Checkpoint:
    if data.method not in ScanMethod.values:
        raise ValidationError({"method": f"Choose one of: {', '.join(ScanMethod.values)}."})
    refuse_implausible_time(data.device_time, "device_time")
    if data.device_sent_at is not None:
        # A fast clock is what device_sent_at measures, within reason: its offset is stored
        # in whole seconds, and a clock years off is a reset one, not drift.
        refuse_implausible_time(data.device_sent_at, "device_sent_at", ahead=PLAUSIBLE_FUTURE)
    code = normalize_tag_code(data.tag_code)
    if known is not None:
        checkpoint = known.get(code)
    else:
        checkpoint = Checkpoint.objects.filter(site=site, tag_code=code, is_active=True).first()
    if checkpoint is None or not code:
        # The same words for an unknown code and another site's: existence is not revealed.
        raise ValidationError(
            {
                "tag_code": gettext("No checkpoint at %(site)s has this tag code.")
                % {"site": site.code}
            }
        )
    return checkpoint


@dataclass(frozen=True)
class _Photo:
    upload: object
    file_type: FileType
    sha256: str


def _checked_photo(upload) -> _Photo:
    file_type = uploads.check_photo(upload)
    return _Photo(upload, file_type, uploads.upload_sha256(upload))


def _same_scan(
    existing: Scan, data: ScanInput, run_pk: int | None, actor, photo: _Photo | None = None
) -> Scan:
    same = (
        has_role(actor, existing.run.site, REPORT_ROLES)
        and (photo is None or existing.photo_sha256 == photo.sha256)
        and existing.checkpoint.tag_code == normalize_tag_code(data.tag_code)
        and existing.device_time == data.device_time
        and existing.method == data.method
        and existing.note == data.note
        and (run_pk is None or existing.run_id == run_pk)
    )
    if not same:
        raise IdempotencyConflict("This client_uuid was used for a different scan.")
    return existing


def clock_offset(device_time, device_sent_at, received_at) -> timedelta:
    """Server clock minus device clock, as far as it can be measured (module docstring)."""
    if device_sent_at is not None:
        return received_at - device_sent_at
    if device_time > received_at:
        return received_at - device_time
    return timedelta(0)


def _times(data: ScanInput):
    """The server's time of arrival, the measured clock offset and the scan's effective time."""
    received = timezone.now()
    offset = clock_offset(data.device_time, data.device_sent_at, received)
    drifting = abs(offset.total_seconds()) > knob("ROUNDS_CLOCK_DRIFT_SECONDS")
    return received, offset, (data.device_time + offset if drifting else data.device_time)


def _new_scan(actor, data: ScanInput, run, checkpoint, *times) -> Scan:
    """The scan as it is stored (not saved yet)."""
    received, offset, effective = times or _times(data)
    return Scan(
        run=run,
        checkpoint=checkpoint,
        client_uuid=data.client_uuid,
        method=data.method,
        device_time=data.device_time,
        device_sent_at=data.device_sent_at,
        received_at=received,
        clock_offset_seconds=round(offset.total_seconds()),
        effective_time=effective,
        note=data.note,
        recorded_by=actor,
    )


def _create_scan(actor, data: ScanInput, run, route, checkpoint, photo: "_Photo | None") -> Scan:
    received, offset, effective = _times(data)
    if run is None:
        run = create_run(route, actor, effective, None)
    scan = _new_scan(actor, data, run, checkpoint, received, offset, effective)
    if photo is not None:
        scan.photo_content_type = photo.file_type.content_type
        scan.photo_size = photo.upload.size
        scan.photo_sha256 = photo.sha256
        photo.upload.seek(0)
        scan.photo.save(uploads.generated_name(photo.file_type), photo.upload, save=False)
    scan.save()
    return scan
