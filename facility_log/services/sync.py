"""A tablet's outbox sent in one request: panic presses (the tablet sends them first),
lone-worker check-ins, round starts, scans, round finishes, shift-log entries, incident
submissions, procedure ticks, visitor sign-ins and sign-outs and found items, in the order
the guard made them, each with its own outcome.

Why a batch.
  A night offline leaves a few hundred records (244 for ten rounds of twenty checkpoints).
  Sent one request each, a record pays the request, the token, a transaction and the
  ledger's lock every time; in a batch, the records share one transaction and one ledger
  step (the entries of all of them are chained together at its end, `deferred_chaining`),
  and a run is read, locked and its scans' state read once for all its scans (`RunState`):
  a scan after the first of its run costs its savepoint and its insert.

What stays the same.
  Each record goes through the same service as its own endpoint (`start_run`, `record_scan`,
  `finish_run`, `add_shift_entry`, `tick_step`, `sign_in_visitor_once`,
  `sign_out_visitor_once`), with the same checks, history and idempotency by
  client_uuid (a submission: by the incident, see `_submit_incident`); each runs in its own
  savepoint, so a refusal leaves no trace and does not
  lose the records around it. A record may name the run or shift it belongs to by id or by
  the client_uuid the tablet gave it (`run_uuid`, `shift_uuid`), including one created
  earlier in the same batch; one that is not (yet) on the server is answered WAITING, and
  the tablet sends it again once that record is accepted. Only records of the actor's sites
  are found: another site's run or shift is answered as a missing one.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError

from facility_log.models import Checkpoint, Incident, Route, Run, Shift, Site, Visitor, Zone
from facility_log.models.incidents import Status
from facility_log.scoping import REPORT_ROLES, scoped, sites_for
from facility_log.services import incidents as incident_services
from facility_log.services import ledger
from facility_log.services import lone_worker as lone_worker_services
from facility_log.services import lost_found as lost_found_services
from facility_log.services import panic as panic_services
from facility_log.services import procedures as procedure_services
from facility_log.services import rounds as round_services
from facility_log.services import shifts as shift_services
from facility_log.services import visitors as visitor_services
from facility_log.services.rounds import IdempotencyConflict, ScanInput
from facility_log.services.rounds.findings import RunState
from facility_log.services.rounds.scans import active_checkpoints
from facility_log.services.shifts import ShiftConflict

NOT_REACHABLE = "Not found among your sites."
MAX_RECORDS = 100


class Outcome:
    """What became of one record (the API answers each with an HTTP status)."""

    CREATED = "created"  # stored now
    SAME = "same"  # stored before (a replay) or, for a finish, done
    INVALID = "invalid"  # a field refused; the body names it
    FORBIDDEN = "forbidden"  # a role too low for this
    CONFLICT = "conflict"  # clashes with the record's state (a shift already ended...)
    IDEMPOTENCY = "idempotency"  # the client_uuid was used for different content
    WAITING = "waiting"  # refers to a record the server does not have (yet)


@dataclass(frozen=True)
class SyncRecord:
    """One record of the outbox: its type ("panic", "check_in", "run", "scan", "run-finish",
    "shift-entry", "incident-submit", "procedure-tick", "visitor-in", "visitor-out",
    "found-item"), its
    validated fields, and what it refers to (`run` / `shift` / `incident` / `visitor`: an
    id, or a client_uuid)."""

    type: str
    fields: dict
    refs: dict[str, int | uuid.UUID] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncResult:
    outcome: str
    id: int | None = None
    errors: dict = field(default_factory=dict)


class _Waiting(Exception):
    def __init__(self, name: str, key):
        super().__init__(name)
        self.errors = {name: [f"Waiting for the {name} it belongs to ({key}) to reach the server."]}


class _Batch:
    """The lookups a batch shares: routes, runs and shifts already read, by id and by
    client_uuid (only ever records of the actor's sites)."""

    def __init__(self, actor):
        self.actor = actor
        self.found: dict[tuple, object] = {}

    def forget(self) -> None:
        # After a refusal its savepoint is rolled back: what was read may have changed in
        # memory (a run marked finished), so it is read again.
        self.found.clear()

    def _one(self, model, queryset: Callable, name: str, key):
        cache_key = (model, key)
        if cache_key in self.found:
            return self.found[cache_key]
        queryset = queryset()  # built only when read: scoping it costs more than the lookup
        if isinstance(key, uuid.UUID):
            record = queryset.filter(client_uuid=key).first()
            if record is None:
                raise _Waiting(name, key)
        else:
            record = queryset.filter(pk=key).first()
            if record is None:
                raise ValidationError({name: NOT_REACHABLE})
        self.found[cache_key] = record
        return record

    def route(self, key: int) -> Route:
        def routes():
            return scoped(Route.objects.select_related("site"), self.actor, REPORT_ROLES)

        return self._one(Route, routes, "route", key)

    def run(self, key) -> Run:
        def runs():
            runs = Run.objects.select_related("site", "route", "schedule", "guard")
            return scoped(runs, self.actor, REPORT_ROLES)

        return self._one(Run, runs, "run", key)

    def shift(self, key) -> Shift:
        def shifts():
            return scoped(Shift.objects.select_related("site", "guard"), self.actor, REPORT_ROLES)

        return self._one(Shift, shifts, "shift", key)

    def incident(self, key) -> Incident:
        def incidents():
            return scoped(Incident.objects.select_related("site"), self.actor, REPORT_ROLES)

        return self._one(Incident, incidents, "incident", key)

    def visitor(self, key) -> Visitor:
        def visitors():
            return scoped(Visitor.objects.select_related("site"), self.actor, REPORT_ROLES)

        return self._one(Visitor, visitors, "visitor", key)

    def checkpoints(self, site) -> dict:
        if (Site, site.pk) not in self.found:
            self.found[(Site, site.pk)] = active_checkpoints(site)
        return self.found[(Site, site.pk)]

    def run_state(self, run: Run) -> RunState:
        # The run's state from one scan of the batch to the next (services/rounds/findings.py):
        # after the first, its scans neither lock the run nor read its scans again. Dropped
        # with everything else on a refusal.
        return self.found.setdefault((RunState, run.pk), RunState())

    def remember(self, model, record) -> None:
        self.found[(model, record.pk)] = record
        if record.client_uuid:
            self.found[(model, record.client_uuid)] = record


def _start_run(batch: _Batch, record: SyncRecord) -> SyncResult:
    data = record.fields
    route = batch.route(record.refs["route"])
    existed = Run.objects.filter(client_uuid=data["client_uuid"]).exists()
    run = round_services.start_run(
        route, batch.actor, started_at=data.get("started_at"), client_uuid=data["client_uuid"]
    )
    batch.remember(Run, run)
    return SyncResult(Outcome.SAME if existed else Outcome.CREATED, run.pk)


def _record_scan(batch: _Batch, record: SyncRecord) -> SyncResult:
    data = record.fields
    scan_input = ScanInput(
        tag_code=data["tag_code"],
        client_uuid=data["client_uuid"],
        device_time=data["device_time"],
        method=data["method"],
        device_sent_at=data.get("device_sent_at"),
        note=data.get("note", ""),
    )
    run = batch.run(record.refs["run"])
    checkpoints = batch.checkpoints(run.site)
    scan, created = round_services.record_scan(
        batch.actor, scan_input, run=run, checkpoints=checkpoints, state=batch.run_state(run)
    )
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, scan.pk)


def _finish_run(batch: _Batch, record: SyncRecord) -> SyncResult:
    run = batch.run(record.refs["run"])
    round_services.finish_run(run, batch.actor, finished_at=record.fields.get("finished_at"))
    return SyncResult(Outcome.SAME, run.pk)


def _add_shift_entry(batch: _Batch, record: SyncRecord) -> SyncResult:
    data = record.fields
    shift = batch.shift(record.refs["shift"])
    entry, created = shift_services.add_shift_entry(
        shift,
        batch.actor,
        client_uuid=data["client_uuid"],
        kind=data["kind"],
        occurred_at=data["occurred_at"],
        text=data["text"],
    )
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, entry.pk)


def _submit_incident(batch: _Batch, record: SyncRecord) -> SyncResult:
    # The tablet submits only the drafts it made, once: an incident submitted before (since
    # approved, or returned to its author for more) is answered as done, so a replayed outbox
    # never resubmits a returned report unchanged; that is done from the incident page.
    incident = batch.incident(record.refs["incident"])
    if incident.submitted_at is not None and incident.status != Status.VOID:
        return SyncResult(Outcome.SAME, incident.pk)
    reason = record.fields.get("reason") or "submitted from the guard tablet"
    incident_services.submit_incident(incident, batch.actor, reason=reason)
    return SyncResult(Outcome.SAME, incident.pk)


def _raise_panic(batch: _Batch, record: SyncRecord) -> SyncResult:
    # A press never waits: a shift or checkpoint the server does not have (yet) is left out
    # and the alarm is raised with what is known (services/panic.py).
    data = record.fields
    site = sites_for(batch.actor, REPORT_ROLES).filter(code=data["site"]).first()
    if site is None:
        raise ValidationError({"site": NOT_REACHABLE})
    shift = None
    if record.refs.get("shift") is not None:
        try:
            shift = batch.shift(record.refs["shift"])
        except _Waiting:
            shift = None
    checkpoint = None
    if data.get("last_checkpoint"):
        checkpoint = Checkpoint.objects.filter(site=site, pk=data["last_checkpoint"]).first()
        if checkpoint is None:
            raise ValidationError({"last_checkpoint": f"Not a checkpoint of {site.code}."})
    alarm, created = panic_services.raise_panic(
        batch.actor,
        site=site,
        client_uuid=data["client_uuid"],
        pressed_at=data["pressed_at"],
        shift=shift,
        last_checkpoint=checkpoint,
        last_scanned_at=data.get("last_scanned_at"),
        silent=data.get("silent", False),
    )
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, alarm.pk)


def _check_in(batch: _Batch, record: SyncRecord) -> SyncResult:
    # A lone worker's "I'm OK": the shift and the time, nothing else (services/lone_worker.py).
    data = record.fields
    check_in, created = lone_worker_services.record_check_in(
        batch.actor,
        shift=batch.shift(record.refs["shift"]),
        client_uuid=data["client_uuid"],
        checked_in_at=data["checked_in_at"],
    )
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, check_in.pk)


def _tick_procedure_step(batch: _Batch, record: SyncRecord) -> SyncResult:
    # A step ticked on the tablet for the incident being reported (services/procedures.py);
    # the draft may be earlier in the same batch, named by its client_uuid.
    data = record.fields
    tick, created = procedure_services.tick_step(
        batch.actor,
        step_number=data["step"],
        incident=batch.incident(record.refs["incident"]),
        undo=data.get("undo", False),
        reason=data.get("reason", ""),
        client_uuid=data["client_uuid"],
    )
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, tick.pk)


def _sign_in_visitor(batch: _Batch, record: SyncRecord) -> SyncResult:
    # A visitor signed in at the gate on the tablet: the sheet of the sign-in's local day.
    data = record.fields
    site = sites_for(batch.actor, REPORT_ROLES).filter(code=data["site"]).first()
    if site is None:
        raise ValidationError({"site": NOT_REACHABLE})
    visitor, created = visitor_services.sign_in_visitor_once(
        site,
        batch.actor,
        name=data["name"],
        host=data["host"],
        company=data.get("company", ""),
        badge_number=data.get("badge_number", ""),
        signed_in_at=data["signed_in_at"],
        client_uuid=data["client_uuid"],
    )
    batch.remember(Visitor, visitor)
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, visitor.pk)


def _sign_out_visitor(batch: _Batch, record: SyncRecord) -> SyncResult:
    data = record.fields
    visitor, signed_out = visitor_services.sign_out_visitor_once(
        batch.visitor(record.refs["visitor"]),
        batch.actor,
        signed_out_at=data["signed_out_at"],
        client_uuid=data["client_uuid"],
    )
    batch.remember(Visitor, visitor)
    return SyncResult(Outcome.CREATED if signed_out else Outcome.SAME, visitor.pk)


def _found_item_site(batch: _Batch, record: SyncRecord) -> Site:
    # The site by its code or, without one, the site of the guard's shift.
    code = record.fields.get("site")
    if code:
        site = sites_for(batch.actor, REPORT_ROLES).filter(code=code).first()
        if site is None:
            raise ValidationError({"site": NOT_REACHABLE})
        return site
    if record.refs.get("shift") is None:
        raise ValidationError({"site": ["Give the site's code or the shift."]})
    return batch.shift(record.refs["shift"]).site


def _record_found_item(batch: _Batch, record: SyncRecord) -> SyncResult:
    # An item found and recorded on the tablet (services/lost_found.py); no photo.
    data = record.fields
    site = _found_item_site(batch, record)
    zone = None
    if data.get("zone") is not None:
        zone = Zone.objects.filter(site=site, pk=data["zone"]).first()
        if zone is None:
            raise ValidationError({"zone": f"Not a zone of {site.code}."})
    item_input = lost_found_services.FoundItemInput(
        description=data["description"],
        found_at=data["found_at"],
        found_by=data["found_by"],
        storage_location=data["storage_location"],
        zone=zone,
    )
    item, created = lost_found_services.record_found_item_once(
        site, batch.actor, item_input, client_uuid=data["client_uuid"]
    )
    return SyncResult(Outcome.CREATED if created else Outcome.SAME, item.pk)


HANDLERS: dict[str, Callable[[_Batch, SyncRecord], SyncResult]] = {
    "panic": _raise_panic,
    "check_in": _check_in,
    "run": _start_run,
    "scan": _record_scan,
    "run-finish": _finish_run,
    "shift-entry": _add_shift_entry,
    "incident-submit": _submit_incident,
    "procedure-tick": _tick_procedure_step,
    "visitor-in": _sign_in_visitor,
    "visitor-out": _sign_out_visitor,
    "found-item": _record_found_item,
}


def sync_records(
    actor: AbstractBaseUser, records: list[SyncRecord | SyncResult]
) -> list[SyncResult]:
    """Store `records` in order, each through its own service in its own savepoint, and
    return one result per record. A SyncResult in `records` (a record the caller already
    refused, e.g. a malformed one) is passed through as it is. History and ledger entries
    are those of the services; the ledger's entries of the whole batch are chained in one
    step at the end of its one transaction."""
    batch = _Batch(actor)
    results: list[SyncResult] = []
    with ledger.deferred_chaining():
        for record in records:
            if isinstance(record, SyncResult):
                results.append(record)
                continue
            results.append(_one_record(batch, record))
    return results


def _one_record(batch: _Batch, record: SyncRecord) -> SyncResult:
    # The record's savepoint is its service's own (`audited_change` inside the batch's
    # transaction): every write of a record happens inside it, and what runs before it only
    # reads, so a refusal rolls back exactly that record, at no extra round trip.
    try:
        return HANDLERS[record.type](batch, record)
    except _Waiting as waiting:
        return SyncResult(Outcome.WAITING, errors=waiting.errors)
    except (incident_services.StateConflict, visitor_services.AlreadySignedOut) as error:
        batch.forget()
        return SyncResult(Outcome.CONFLICT, errors=error.message_dict)
    except ValidationError as error:
        batch.forget()
        errors = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
        if "state" in errors:
            # A step already ticked, an incident closed: as the tick endpoint answers (409).
            return SyncResult(Outcome.CONFLICT, errors=errors)
        return SyncResult(Outcome.INVALID, errors=errors)
    except PermissionDenied as error:
        batch.forget()
        return SyncResult(Outcome.FORBIDDEN, errors={"detail": [str(error) or "Not allowed."]})
    except (
        IdempotencyConflict,
        incident_services.IdempotencyConflict,
        visitor_services.IdempotencyConflict,
        lost_found_services.IdempotencyConflict,
    ) as error:
        batch.forget()
        return SyncResult(Outcome.IDEMPOTENCY, errors={"client_uuid": [str(error)]})
    except ShiftConflict as error:
        batch.forget()
        return SyncResult(Outcome.CONFLICT, errors=error.message_dict)
