"""Runs: a guard starting a walk of a route, finishing it, and how it went."""

import secrets as _secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from facility_log.models import ExceptionKind, RoundException, Route, Run
from facility_log.services.audit import audited_change
from facility_log.services.rounds.common import (
    IdempotencyConflict,
    check_may_walk,
    refuse_implausible_time,
)
from facility_log.services.rounds.findings import overdue_after, sync_run_exceptions, withdraw
from facility_log.services.rounds.schedules import missed_round_key, window_for


def _plan(route: Route) -> list[dict]:
    stops = list(route.stops.order_by("position"))
    checkpoints = [stop.checkpoint_id for stop in stops]
    if route.random_order:
        _secrets.SystemRandom().shuffle(checkpoints)
    return [
        {"checkpoint": cp, "minutes": stop.expected_minutes}
        for cp, stop in zip(checkpoints, stops, strict=True)
    ]


def start_run(
    route: Route,
    actor: AbstractBaseUser,
    *,
    guard: AbstractBaseUser | None = None,
    started_at: datetime | None = None,
    client_uuid: uuid.UUID | None = None,
    reason: str = "round started",
) -> Run:
    """Start walking `route`. `started_at` is the device's time (defaults to now); a run that
    starts within a schedule window's grace belongs to that window. Sending the same
    `client_uuid` again returns the run already started."""
    guard = guard or actor
    check_may_walk(actor, route.site, guard)
    if client_uuid and (existing := Run.objects.filter(client_uuid=client_uuid).first()):
        if existing.route_id != route.pk or existing.guard_id != guard.pk:
            raise IdempotencyConflict("This client_uuid was used for another run.")
        return existing
    if not route.is_active:
        raise ValidationError({"route": "This route is no longer in use."})
    started_at = started_at or timezone.now()
    refuse_implausible_time(started_at, "started_at")
    try:
        with audited_change(actor, reason):
            return create_run(route, guard, started_at, client_uuid)
    except IntegrityError:
        # A retry of this start raced it and won (the tablet's outbox, two tabs), or another
        # guard started the same schedule window a moment earlier.
        if client_uuid and (existing := Run.objects.filter(client_uuid=client_uuid).first()):
            if existing.route_id != route.pk or existing.guard_id != guard.pk:
                raise IdempotencyConflict("This client_uuid was used for another run.") from None
            return existing
        raise ValidationError(
            {"route": "This round's window was started by another run a moment ago."}
        ) from None


def create_run(route: Route, guard, started_at: datetime, client_uuid) -> Run:
    """Store a new run of `route` (checks done by the caller, inside `audited_change`)."""
    schedule, window = window_for(route, started_at)
    run = Run(
        site=route.site,
        route=route,
        guard=guard,
        schedule=schedule,
        window_start=window,
        route_version=route.version,
        plan=_plan(route),
        started_at=started_at,
        client_uuid=client_uuid,
    )
    run.save()
    if window is not None:
        withdraw(
            RoundException.objects.filter(key=missed_round_key(schedule, window)),
            "a run for this window arrived after the window was checked",
        )
    return run


def finish_run(
    run: Run,
    actor: AbstractBaseUser,
    *,
    finished_at: datetime | None = None,
    reason: str = "round finished",
) -> Run:
    """End the run (device time, default now) and store every exception it has, including
    each checkpoint not scanned. Finishing it again at the same time (a tablet's outbox
    retrying) changes nothing and returns the run; at another time it is refused."""
    check_may_walk(actor, run.site, run.guard)
    if run.is_finished:
        if finished_at is not None and finished_at == run.finished_at:
            return run
        raise ValidationError({"run": "This run is already finished."})
    finished_at = finished_at or timezone.now()
    refuse_implausible_time(finished_at, "finished_at")
    if finished_at < run.started_at:
        raise ValidationError({"finished_at": "The run cannot end before it started."})
    with audited_change(actor, reason):
        run.finished_at = finished_at
        run.save()
        sync_run_exceptions(run, final=True)
        if finished_at <= overdue_after(run):
            withdraw(run.exceptions.filter(kind=ExceptionKind.OVERDUE), "finished in time")
    return run


@dataclass(frozen=True)
class RunOutcome:
    """How a run went: every planned checkpoint scanned (complete), none of them late."""

    planned: int
    scanned: int
    late: int

    @property
    def complete(self) -> bool:
        return self.scanned == self.planned

    @property
    def on_time(self) -> bool:
        return self.complete and self.late == 0


def run_outcome(run: Run) -> RunOutcome:
    """The outcome of `run` from its scans and its stored (unwithdrawn) late exceptions."""
    planned = {stop["checkpoint"] for stop in run.plan}
    scanned = set(run.scans.values_list("checkpoint_id", flat=True)) & planned
    late = run.exceptions.filter(kind=ExceptionKind.LATE, withdrawn_at__isnull=True).count()
    return RunOutcome(planned=len(planned), scanned=len(scanned), late=late)
