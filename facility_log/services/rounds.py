"""Guard rounds: setting up checkpoints, routes and schedules; starting runs, recording scans,
finishing runs; the exceptions computed from them; and the periodic check for missed rounds.

Times.
  Everything is stored in UTC. Schedule windows are computed in the site's local *wall time*
  (zoneinfo) and each occurrence is converted to UTC on its own, so "every 2 hours from 22:00
  to 06:00" means 22:00, 00:00, 02:00, 04:00, 06:00 on the clock on the wall, every night.
  Across a daylight-saving change:
  * a local time that does not exist (spring forward, 02:00–03:00 in Europe/Berlin) is moved
    forward by the length of the gap (02:00 → 03:00 summer time, 02:30 → 03:30), which is
    what the wall clock shows at that moment (PEP 495, fold=0); two times that land on the
    same instant give one window;
  * a local time that happens twice (fall back, 02:00–03:00) gives one window, at its first
    occurrence (summer time).

Trusting device clocks.
  A tablet without signal keeps scanning and uploads later. Lateness is judged on the time
  the device says the tag was scanned, not when the scan arrived. The device also sends its
  clock at upload time (`device_sent_at`); the server compares it with its own clock on
  arrival. A difference beyond FACILITY_LOG["ROUNDS_CLOCK_DRIFT_SECONDS"] is flagged as clock
  drift, and the scan's time is corrected by the measured difference. Without
  `device_sent_at`, a device time in the future is the only drift that can be seen.
"""

import secrets as _secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from facility_log.models import (
    Checkpoint,
    ExceptionKind,
    RoundException,
    Route,
    RouteStop,
    Run,
    Scan,
    ScanMethod,
    Schedule,
    ScheduleKind,
    Site,
    Zone,
)
from facility_log.models.rounds import new_tag_code, normalize_tag_code
from facility_log.scoping import MANAGE_ROLES, REPORT_ROLES, REVIEW_ROLES, has_role, require_role
from facility_log.services.audit import audited_change

DEFAULTS = {
    "ROUNDS_MIN_WALK_SECONDS": 20,
    "ROUNDS_CLOCK_DRIFT_SECONDS": 120,
    "ROUNDS_DEFAULT_GRACE_MINUTES": 5,
    "ROUNDS_OVERDUE_MINUTES": 30,
    "ROUNDS_LOOKBACK_HOURS": 48,
}


class IdempotencyConflict(Exception):
    """The client UUID was used before for a different record (the API answers 422)."""


def knob(name: str) -> int:
    """A rounds setting from FACILITY_LOG, with its documented default."""
    return int(settings.FACILITY_LOG.get(name, DEFAULTS[name]))


# --- checkpoints, routes, schedules -----------------------------------------------------------


def _save(instance) -> None:
    instance.full_clean()
    instance.save()


def create_checkpoint(
    site: Site, actor: AbstractBaseUser, *, zone: Zone, name: str, reason: str, instructions=""
) -> Checkpoint:
    """Add a checkpoint with a fresh random tag code (the site's managers only)."""
    require_role(actor, site, MANAGE_ROLES)
    if zone.site_id != site.pk:
        raise ValidationError({"zone": "The zone belongs to another site."})
    with audited_change(actor, reason):
        checkpoint = Checkpoint(site=site, zone=zone, name=name, instructions=instructions)
        checkpoint.tag_code = _unused_tag_code()
        _save(checkpoint)
    return checkpoint


def _unused_tag_code() -> str:
    code = new_tag_code()
    while Checkpoint.objects.filter(tag_code=code).exists():  # 2^-60 per try; still checked
        code = new_tag_code()
    return code


def update_checkpoint(
    checkpoint: Checkpoint, actor: AbstractBaseUser, *, reason: str, **changes
) -> Checkpoint:
    """Rename, move to another zone of the site, change instructions, or deactivate."""
    require_role(actor, checkpoint.site, MANAGE_ROLES)
    unknown = set(changes) - {"name", "zone", "instructions", "is_active"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    with audited_change(actor, reason):
        for field, value in changes.items():
            setattr(checkpoint, field, value)
        _save(checkpoint)
    return checkpoint


def replace_tag_code(checkpoint: Checkpoint, actor: AbstractBaseUser, *, reason: str) -> str:
    """Issue a new tag code (a label was lost or copied); the old code stops working."""
    require_role(actor, checkpoint.site, MANAGE_ROLES)
    with audited_change(actor, reason):
        checkpoint.tag_code = _unused_tag_code()
        checkpoint.save()
    return checkpoint.tag_code


def create_route(
    site: Site,
    actor: AbstractBaseUser,
    *,
    name: str,
    stops: list[tuple[Checkpoint, int]],
    reason: str,
    must_follow_order: bool = False,
    random_order: bool = False,
) -> Route:
    """A route of `stops` — (checkpoint, expected minutes from the run's start) in order."""
    require_role(actor, site, MANAGE_ROLES)
    _check_stops(site, stops)
    with audited_change(actor, reason):
        route = Route(
            site=site, name=name, must_follow_order=must_follow_order, random_order=random_order
        )
        _save(route)
        for position, (checkpoint, minutes) in enumerate(stops, start=1):
            stop = RouteStop(
                route=route, checkpoint=checkpoint, position=position, expected_minutes=minutes
            )
            _save(stop)
    return route


def _check_stops(site: Site, stops) -> None:
    if not stops:
        raise ValidationError({"stops": "A route needs at least one checkpoint."})
    ids = [checkpoint.pk for checkpoint, _ in stops]
    if len(set(ids)) != len(ids):
        raise ValidationError({"stops": "A checkpoint appears twice on the route."})
    for line, (checkpoint, minutes) in enumerate(stops, start=1):
        if checkpoint.site_id != site.pk:
            raise ValidationError({"stops": f"Stop {line}: the checkpoint is at another site."})
        if minutes is None or minutes < 0:
            raise ValidationError({"stops": f"Stop {line}: expected minutes must be 0 or more."})
    minutes = [m for _, m in stops]
    if minutes != sorted(minutes):
        raise ValidationError({"stops": "Expected minutes must not decrease along the route."})


def create_schedule(route: Route, actor: AbstractBaseUser, *, reason: str, **fields) -> Schedule:
    """A schedule for `route` (fields as on Schedule). Refused with the field named when a
    window could never happen (it ends when it starts, or the schedule ends before it begins)."""
    require_role(actor, route.site, MANAGE_ROLES)
    schedule = Schedule(route=route, **fields)
    validate_schedule(schedule)
    with audited_change(actor, reason):
        _save(schedule)
    return schedule


def validate_schedule(schedule: Schedule) -> None:
    """Raise ValidationError naming the field for a schedule that cannot produce windows."""
    if schedule.kind == ScheduleKind.EVERY:
        _validate_every(schedule)
    elif schedule.kind == ScheduleKind.FIXED:
        schedule.fixed_times = _parse_fixed_times(schedule.fixed_times)
    else:
        raise ValidationError({"kind": f"Choose one of: {', '.join(ScheduleKind.values)}."})
    if schedule.active_until and schedule.active_until <= schedule.active_from:
        raise ValidationError({"active_until": "The schedule ends before it starts."})


def _validate_every(schedule: Schedule) -> None:
    for field in ("start_time", "end_time", "every_hours"):
        if getattr(schedule, field) in (None, ""):
            raise ValidationError({field: "Required for a schedule that repeats every N hours."})
    if schedule.start_time == schedule.end_time:
        raise ValidationError({"end_time": "The window ends when it starts; pick another end."})
    if not 1 <= schedule.every_hours <= 24:
        raise ValidationError({"every_hours": "Between 1 and 24."})
    if schedule.grace_minutes >= schedule.every_hours * 60:
        raise ValidationError({"grace_minutes": "Grace must be shorter than the interval."})


def _parse_fixed_times(values) -> list[str]:
    if not values:
        raise ValidationError({"fixed_times": "Give at least one time (HH:MM)."})
    parsed = []
    for value in values:
        try:
            parsed.append(time.fromisoformat(str(value).strip()).strftime("%H:%M"))
        except ValueError:
            raise ValidationError({"fixed_times": f"{value!r} is not a time (HH:MM)."}) from None
    return sorted(set(parsed))


# --- windows ----------------------------------------------------------------------------------


def local_to_utc(local: datetime, tz) -> datetime:
    """A naive local wall time to UTC: fold=0 moves a nonexistent time forward by the gap and
    picks the first of two ambiguous ones (see the module docstring)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _local_times(schedule: Schedule, day: date) -> list[datetime]:
    if schedule.kind == ScheduleKind.FIXED:
        return [datetime.combine(day, time.fromisoformat(t)) for t in schedule.fixed_times]
    start = datetime.combine(day, schedule.start_time)
    end = datetime.combine(day, schedule.end_time)
    if end <= start:
        end += timedelta(days=1)
    times, step = [], timedelta(hours=schedule.every_hours)
    while start <= end:
        times.append(start)
        start += step
    return times


def schedule_windows(schedule: Schedule, since: datetime, until: datetime) -> list[datetime]:
    """The UTC start of every window of `schedule` with since <= start <= until."""
    if until < since:
        raise ValidationError({"until": "The period ends before it starts."})
    tz = schedule.route.site.tzinfo
    first_day = since.astimezone(tz).date() - timedelta(days=1)
    last_day = until.astimezone(tz).date()
    found = set()
    for offset in range((last_day - first_day).days + 1):
        for local in _local_times(schedule, first_day + timedelta(days=offset)):
            found.add(local_to_utc(local, tz))
    lower = max(since, schedule.active_from)
    return sorted(
        w
        for w in found
        if lower <= w <= until and (schedule.active_until is None or w < schedule.active_until)
    )


def _window_for(route: Route, started_at: datetime) -> tuple[Schedule | None, datetime | None]:
    """The schedule window a run started at `started_at` belongs to: the nearest window start
    within the schedule's grace, not yet walked."""
    best = (None, None)
    for schedule in route.schedules.filter(is_active=True):
        grace = timedelta(minutes=schedule.grace_minutes)
        for window in schedule_windows(schedule, started_at - grace, started_at + grace):
            taken = Run.objects.filter(schedule=schedule, window_start=window).exists()
            if not taken and (
                best[1] is None or abs(window - started_at) < abs(best[1] - started_at)
            ):
                best = (schedule, window)
    return best


# --- runs and scans ---------------------------------------------------------------------------


def _plan(route: Route) -> list[dict]:
    stops = list(route.stops.order_by("position"))
    checkpoints = [stop.checkpoint_id for stop in stops]
    if route.random_order:
        _secrets.SystemRandom().shuffle(checkpoints)
    return [
        {"checkpoint": cp, "minutes": stop.expected_minutes}
        for cp, stop in zip(checkpoints, stops, strict=True)
    ]


def _check_may_walk(actor: AbstractBaseUser, site: Site, guard: AbstractBaseUser) -> None:
    require_role(actor, site, REPORT_ROLES)
    if guard != actor:
        require_role(actor, site, REVIEW_ROLES)
        if not has_role(guard, site, REPORT_ROLES):
            raise ValidationError({"guard": f"{guard.get_username()} holds no role here."})


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
    _check_may_walk(actor, route.site, guard)
    if client_uuid and (existing := Run.objects.filter(client_uuid=client_uuid).first()):
        if existing.route_id != route.pk or existing.guard_id != guard.pk:
            raise IdempotencyConflict("This client_uuid was used for another run.")
        return existing
    if not route.is_active:
        raise ValidationError({"route": "This route is no longer in use."})
    started_at = started_at or timezone.now()
    refuse_future_time(started_at, "started_at")
    try:
        with audited_change(actor, reason):
            return _create_run(route, guard, started_at, client_uuid)
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


def refuse_future_time(value: datetime, field: str) -> None:
    """Refuse a device time in the future beyond the allowed clock drift, naming `field`."""
    if value > timezone.now() + timedelta(seconds=knob("ROUNDS_CLOCK_DRIFT_SECONDS")):
        raise ValidationError({field: "This time is in the future."})


def _create_run(route, guard, started_at, client_uuid) -> Run:
    schedule, window = _window_for(route, started_at)
    run = Run(
        site=route.site,
        route=route,
        guard=guard,
        schedule=schedule,
        window_start=window,
        plan=_plan(route),
        started_at=started_at,
        client_uuid=client_uuid,
    )
    run.save()
    if window is not None:
        _withdraw(
            RoundException.objects.filter(key=_missed_round_key(schedule, window)),
            "a run for this window arrived after the window was checked",
        )
    return run


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
    route: Route | None = None,
    photo=None,
    reason: str = "checkpoint scanned",
) -> tuple[Scan, bool]:
    """Record one scan into `run` (or start a run of `route` with it). Returns (scan, created):
    the same `client_uuid` sent again returns the stored scan; with a different payload it is
    refused (IdempotencyConflict). Bad input raises ValidationError naming the field and
    stores nothing."""
    existing = Scan.objects.filter(client_uuid=data.client_uuid)
    if existing := existing.select_related("checkpoint", "run__site").first():
        return _same_scan(existing, data, run, actor), False
    site = _scan_site(run, route)
    _check_may_walk(actor, site, run.guard if run else actor)
    checkpoint = _checkpoint_for(site, data)
    try:
        with audited_change(actor, reason):
            scan = _create_scan(actor, data, run, route, checkpoint, photo)
            sync_run_exceptions(scan.run, final=False)
    except IntegrityError:
        existing = Scan.objects.filter(client_uuid=data.client_uuid).first()
        if existing is None:
            raise
        return _same_scan(existing, data, run, actor), False
    return scan, True


def _scan_site(run: Run | None, route: Route | None) -> Site:
    if run is not None:
        if run.is_finished:
            raise ValidationError({"run": "This run is finished; start a new run to scan again."})
        return run.site
    if route is None:
        raise ValidationError({"run": "Name the run (or the route, to start one)."})
    if not route.is_active:
        raise ValidationError({"route": "This route is no longer in use."})
    return route.site


def _checkpoint_for(site: Site, data: ScanInput) -> Checkpoint:
    if data.method not in ScanMethod.values:
        raise ValidationError({"method": f"Choose one of: {', '.join(ScanMethod.values)}."})
    refuse_future_time(data.device_time, "device_time")
    code = normalize_tag_code(data.tag_code)
    checkpoint = Checkpoint.objects.filter(site=site, tag_code=code, is_active=True).first()
    if checkpoint is None or not code:
        # The same words for an unknown code and another site's: existence is not revealed.
        raise ValidationError({"tag_code": f"No checkpoint at {site.code} has this tag code."})
    return checkpoint


def _same_scan(existing: Scan, data: ScanInput, run: Run | None, actor) -> Scan:
    same = (
        has_role(actor, existing.run.site, REPORT_ROLES)
        and existing.checkpoint.tag_code == normalize_tag_code(data.tag_code)
        and existing.device_time == data.device_time
        and existing.method == data.method
        and existing.note == data.note
        and (run is None or existing.run_id == run.pk)
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


def _create_scan(actor, data: ScanInput, run, route, checkpoint, photo) -> Scan:
    received = timezone.now()
    offset = clock_offset(data.device_time, data.device_sent_at, received)
    drifting = abs(offset.total_seconds()) > knob("ROUNDS_CLOCK_DRIFT_SECONDS")
    effective = data.device_time + offset if drifting else data.device_time
    if run is None:
        run = _create_run(route, actor, effective, None)
    scan = Scan(
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
        photo=photo or "",
        recorded_by=actor,
    )
    scan.save()
    return scan


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
    _check_may_walk(actor, run.site, run.guard)
    if run.is_finished:
        if finished_at is not None and finished_at == run.finished_at:
            return run
        raise ValidationError({"run": "This run is already finished."})
    finished_at = finished_at or timezone.now()
    refuse_future_time(finished_at, "finished_at")
    if finished_at < run.started_at:
        raise ValidationError({"finished_at": "The run cannot end before it started."})
    with audited_change(actor, reason):
        run.finished_at = finished_at
        run.save()
        sync_run_exceptions(run, final=True)
        if finished_at <= overdue_after(run):
            _withdraw(run.exceptions.filter(kind=ExceptionKind.OVERDUE), "finished in time")
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


# --- exceptions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One exception as computed, before it is stored."""

    kind: str
    key: str
    detail: str
    checkpoint_id: int | None = None
    scan: Scan | None = None


def stop_grace(run: Run) -> timedelta:
    minutes = run.schedule.grace_minutes if run.schedule_id else None
    return timedelta(
        minutes=minutes if minutes is not None else knob("ROUNDS_DEFAULT_GRACE_MINUTES")
    )


def overdue_after(run: Run) -> datetime:
    """When an unfinished run becomes overdue: its last stop's due time plus the allowance."""
    last = max((stop["minutes"] for stop in run.plan), default=0)
    allowance = timedelta(minutes=knob("ROUNDS_OVERDUE_MINUTES"))
    return run.started_at + timedelta(minutes=last) + stop_grace(run) + allowance


class _Walk:
    """Replays a run's scans in time order, collecting findings."""

    def __init__(self, run: Run, names: dict[int, str]):
        self.run, self.names = run, names
        grace = stop_grace(run)
        self.due = {
            s["checkpoint"]: run.started_at + timedelta(minutes=s["minutes"]) + grace
            for s in run.plan
        }
        self.order = [s["checkpoint"] for s in run.plan]
        self.seen: dict[int, Scan] = {}
        self.previous: Scan | None = None
        self.findings: list[Finding] = []

    def add(self, kind, key, detail, scan=None, checkpoint_id=None) -> None:
        self.findings.append(Finding(kind, key, detail, checkpoint_id, scan))

    def scan(self, scan: Scan) -> None:
        cp, name = scan.checkpoint_id, self.names.get(scan.checkpoint_id, "?")
        if abs(scan.clock_offset_seconds) > knob("ROUNDS_CLOCK_DRIFT_SECONDS"):
            detail = f"device clock {scan.clock_offset_seconds:+d} s from the server's"
            self.add(ExceptionKind.CLOCK_DRIFT, f"clock_drift:scan:{scan.pk}", detail, scan, cp)
        if cp not in self.due:
            detail = f"{name} is not on this route"
            self.add(ExceptionKind.NOT_ON_ROUTE, f"not_on_route:scan:{scan.pk}", detail, scan, cp)
        elif cp in self.seen:
            detail = f"{name} scanned again"
            self.add(ExceptionKind.DUPLICATE_SCAN, f"duplicate:scan:{scan.pk}", detail, scan, cp)
            return
        else:
            self._stop(scan, cp, name)
        self.previous = scan

    def _stop(self, scan: Scan, cp: int, name: str) -> None:
        run_key = f"run:{self.run.pk}:cp:{cp}"
        if scan.effective_time > self.due[cp]:
            late = round((scan.effective_time - self.due[cp]).total_seconds() / 60)
            self.add(ExceptionKind.LATE, f"late:{run_key}", f"{name} {late} min late", scan, cp)
        expected = next((c for c in self.order if c not in self.seen), None)
        if self.run.route.must_follow_order and cp != expected:
            detail = f"{name} scanned before {self.names.get(expected, '?')}"
            self.add(ExceptionKind.OUT_OF_ORDER, f"out_of_order:{run_key}", detail, scan, cp)
        if self.previous is not None:
            gap = (scan.effective_time - self.previous.effective_time).total_seconds()
            if gap < knob("ROUNDS_MIN_WALK_SECONDS"):
                detail = f"{name} reached {gap:.0f} s after the previous checkpoint"
                self.add(ExceptionKind.TOO_FAST, f"too_fast:{run_key}", detail, scan, cp)
        self.seen[cp] = scan

    def missed(self) -> None:
        for cp in self.order:
            if cp not in self.seen:
                detail = f"{self.names.get(cp, '?')} not scanned"
                key = f"missed_checkpoint:run:{self.run.pk}:cp:{cp}"
                self.add(ExceptionKind.MISSED_CHECKPOINT, key, detail, checkpoint_id=cp)


def run_findings(run: Run, *, final: bool) -> list[Finding]:
    """Every exception `run` has given its scans so far; missed checkpoints only when final."""
    scans = list(run.scans.select_related("checkpoint").order_by("effective_time", "pk"))
    names = dict(Checkpoint.objects.filter(site=run.site).values_list("pk", "name"))
    walk = _Walk(run, names)
    for scan in scans:
        walk.scan(scan)
    if final:
        walk.missed()
    return walk.findings


# Findings that a later scan (synced late, earlier device time) can disprove.
REPLAYED_KINDS = {
    ExceptionKind.LATE,
    ExceptionKind.OUT_OF_ORDER,
    ExceptionKind.TOO_FAST,
    ExceptionKind.DUPLICATE_SCAN,
    ExceptionKind.NOT_ON_ROUTE,
    ExceptionKind.CLOCK_DRIFT,
}


def sync_run_exceptions(run: Run, *, final: bool) -> list[RoundException]:
    """Store the run's findings (once each) and withdraw stored ones the scans now disprove.
    Call inside `audited_change`."""
    findings = run_findings(run, final=final)
    keys = {f.key for f in findings}
    stale = run.exceptions.filter(kind__in=REPLAYED_KINDS, withdrawn_at__isnull=True)
    _withdraw(stale.exclude(key__in=keys), "disproved by scans that arrived later")
    # Every finding is looked up at each scan: one query for all of them, not one each (a
    # tablet syncing a night's scans would otherwise pay for every finding at every scan).
    stored = {e.key: e for e in RoundException.objects.filter(key__in=keys)}
    return [
        exception
        for finding in findings
        if (exception := record_exception(run.site, finding, stored=stored, run=run)) is not None
    ]


def record_exception(
    site: Site, finding: Finding, *, stored: dict | None = None, **about
) -> RoundException | None:
    """Store `finding` unless its key is stored already (then None; a withdrawn one that holds
    again is reinstated). `stored` maps keys to exceptions already read by the caller. Call
    inside `audited_change`."""
    if stored is not None:
        existing = stored.get(finding.key)
    else:
        existing = RoundException.objects.filter(key=finding.key).first()
    if existing is not None:
        if existing.withdrawn_at is not None:
            existing.withdrawn_at, existing.withdrawn_reason = None, ""
            existing.save()
        return None
    exception = RoundException(
        site=site,
        kind=finding.kind,
        key=finding.key,
        detail=finding.detail,
        checkpoint_id=finding.checkpoint_id,
        scan=finding.scan,
        **about,
    )
    exception.save()
    return exception


def _withdraw(queryset, why: str) -> None:
    for exception in queryset.filter(withdrawn_at__isnull=True):
        exception.withdrawn_at = timezone.now()
        exception.withdrawn_reason = why
        exception.save()


def _missed_round_key(schedule: Schedule, window: datetime) -> str:
    return f"missed_round:schedule:{schedule.pk}:{window.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


# --- the periodic check -----------------------------------------------------------------------


def check_rounds(
    actor: AbstractBaseUser, *, now: datetime | None = None, since: datetime | None = None
) -> list[RoundException]:
    """Record every missed round (a window past its grace with no run) and every overdue run
    since `since` (default: FACILITY_LOG["ROUNDS_LOOKBACK_HOURS"] ago). Each is recorded once:
    running this again records nothing new. Returns what was recorded now."""
    if not actor.is_superuser:
        raise PermissionDenied("check_rounds runs as the system account.")
    now = now or timezone.now()
    since = since or now - timedelta(hours=knob("ROUNDS_LOOKBACK_HOURS"))
    with audited_change(actor, "check_rounds: missed rounds and overdue runs"):
        recorded = _missed_rounds(now, since) + _overdue_runs(now, since)
    return recorded


def _missed_rounds(now: datetime, since: datetime) -> list[RoundException]:
    recorded = []
    schedules = Schedule.objects.filter(is_active=True, route__is_active=True)
    for schedule in schedules.select_related("route__site"):
        grace = timedelta(minutes=schedule.grace_minutes)
        windows = [w for w in schedule_windows(schedule, since, now) if w + grace < now]
        walked = set(
            Run.objects.filter(schedule=schedule, window_start__in=windows).values_list(
                "window_start", flat=True
            )
        )
        for window in windows:
            if window in walked:
                continue
            local = window.astimezone(schedule.route.site.tzinfo)
            detail = f"{schedule.route.name}: no run for the window at {local:%Y-%m-%d %H:%M %Z}"
            finding = Finding(
                ExceptionKind.MISSED_ROUND, _missed_round_key(schedule, window), detail
            )
            about = {"schedule": schedule, "window_start": window}
            if (exception := record_exception(schedule.route.site, finding, **about)) is not None:
                recorded.append(exception)
    return recorded


def _overdue_runs(now: datetime, since: datetime) -> list[RoundException]:
    recorded = []
    runs = Run.objects.filter(finished_at__isnull=True, started_at__gte=since)
    for run in runs.select_related("site", "route", "schedule"):
        if overdue_after(run) >= now:
            continue
        local = run.started_at.astimezone(run.site.tzinfo)
        detail = f"{run.route.name} started {local:%Y-%m-%d %H:%M %Z} is not finished"
        finding = Finding(ExceptionKind.OVERDUE, f"overdue:run:{run.pk}", detail)
        if (exception := record_exception(run.site, finding, run=run)) is not None:
            recorded.append(exception)
    return recorded
