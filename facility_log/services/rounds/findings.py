"""The exceptions a run's scans give (late, out of order, implausibly fast, clock drift,
duplicate, not on route, missed checkpoint), and storing them once each.

A run's findings are what replaying its scans in time order finds (`run_findings`). A tablet
sends its scans in the order they were made, so a new scan almost always comes last in time:
then its findings follow from the run's state before it alone — which of the planned
checkpoints were scanned, and when the previous scan that counted was — and no earlier
finding changes (`sync_new_scan`, one query however many scans the run has, none for a
scan after the first of a run in a /sync/ batch, which keeps the run's `RunState`). A scan that goes
before others in time (a device that synced late) can change what the later ones are judged
against, so the run is replayed whole and what it no longer finds is withdrawn
(`sync_run_exceptions`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from facility_log.models import Checkpoint, ExceptionKind, RoundException, Run, Scan, Site
from facility_log.services import ledger
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery
from facility_log.services.rounds.common import knob


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
    """Walks a run's scans in time order, collecting findings. It starts from the run's
    state before the first scan it is given: the planned checkpoints already scanned
    (`seen`) and the time of the last scan that counted (`previous_time`; a repeat of a
    checkpoint does not count)."""

    def __init__(
        self,
        run: Run,
        name_of: Callable[[int | None], str],
        *,
        seen: Iterable[int] = (),
        previous_time: datetime | None = None,
    ):
        self.run, self.name_of = run, name_of
        grace = stop_grace(run)
        self.due = {
            s["checkpoint"]: run.started_at + timedelta(minutes=s["minutes"]) + grace
            for s in run.plan
        }
        self.order = [s["checkpoint"] for s in run.plan]
        self.seen: set[int] = set(seen)
        self.previous_time = previous_time
        self.findings: list[Finding] = []

    def add(self, kind, key, detail, scan=None, checkpoint_id=None) -> None:
        self.findings.append(Finding(kind, key, detail, checkpoint_id, scan))

    def scan(self, scan: Scan) -> None:
        cp, name = scan.checkpoint_id, self.name_of(scan.checkpoint_id)
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
        self.previous_time = scan.effective_time

    def _stop(self, scan: Scan, cp: int, name: str) -> None:
        run_key = f"run:{self.run.pk}:cp:{cp}"
        if scan.effective_time > self.due[cp]:
            late = round((scan.effective_time - self.due[cp]).total_seconds() / 60)
            self.add(ExceptionKind.LATE, f"late:{run_key}", f"{name} {late} min late", scan, cp)
        expected = next((c for c in self.order if c not in self.seen), None)
        if self.run.route.must_follow_order and cp != expected:
            detail = f"{name} scanned before {self.name_of(expected)}"
            self.add(ExceptionKind.OUT_OF_ORDER, f"out_of_order:{run_key}", detail, scan, cp)
        if self.previous_time is not None:
            gap = (scan.effective_time - self.previous_time).total_seconds()
            if gap < knob("ROUNDS_MIN_WALK_SECONDS"):
                detail = f"{name} reached {gap:.0f} s after the previous checkpoint"
                self.add(ExceptionKind.TOO_FAST, f"too_fast:{run_key}", detail, scan, cp)
        self.seen.add(cp)

    def missed(self) -> None:
        for cp in self.order:
            if cp not in self.seen:
                detail = f"{self.name_of(cp)} not scanned"
                key = f"missed_checkpoint:run:{self.run.pk}:cp:{cp}"
                self.add(ExceptionKind.MISSED_CHECKPOINT, key, detail, checkpoint_id=cp)


def run_findings(run: Run, *, final: bool) -> list[Finding]:
    """Every exception `run` has given its scans so far; missed checkpoints only when final."""
    scans = list(run.scans.select_related("checkpoint").order_by("effective_time", "pk"))
    names = dict(Checkpoint.objects.filter(site=run.site).values_list("pk", "name"))
    walk = _Walk(run, lambda pk: names.get(pk, "?"))
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
    withdraw(stale.exclude(key__in=keys), "disproved by scans that arrived later")
    # Every finding is looked up at each scan: one query for all of them, not one each (a
    # tablet syncing a night's scans would otherwise pay for every finding at every scan).
    stored = {e.key: e for e in RoundException.objects.filter(key__in=keys)}
    return _store(run, findings, stored)


class RunState:
    """What judging a new scan needs of its run's earlier scans: per checkpoint, the first and
    last effective time (`times`; None until read). Whoever holds the run's lock for several
    scans (a /sync/ batch) keeps one and passes it along: each scan then adds itself to it
    instead of the next one reading it again. `held` says the caller's transaction holds
    the run's row lock (set by `record_scan` once a scan is stored under it)."""

    def __init__(self) -> None:
        self.times: dict[int, tuple[datetime, datetime]] | None = None
        self.held = False

    def read(self, run: Run, scan: Scan) -> None:
        """Read the run's scans, `scan` (just saved) apart: one query, which also gives the
        ledger the new row's digest (it is not read back a second time)."""
        self.times = {}
        for row in _RUN_SCANS.rows("all", run_id=run.pk):
            if row["id"] == scan.pk:
                ledger.provide_digest(Scan, scan.pk, row)
            else:
                self.add(row["checkpoint_id"], row["effective_time"])

    def read_from(self, rows) -> None:
        """The run's scans as (checkpoint_id, effective_time) rows, read by the caller (in
        the round trip that locks the run: `RUN_SCAN_TIMES`)."""
        self.times = {}
        for checkpoint_id, time in rows:
            self.add(checkpoint_id, time)

    def add(self, checkpoint_id: int, time: datetime) -> None:
        first, last = self.times.get(checkpoint_id, (time, time))
        self.times[checkpoint_id] = (min(first, time), max(last, time))

    def forget(self) -> None:
        self.times, self.held = None, False


# Every scan of a run reads this: compiled once per process (services/precompiled.py).
_RUN_SCANS = PrecompiledQuery(
    lambda _key, run_id: Scan._base_manager.filter(run_id=run_id).values(),
    {"run_id": Slot(-(2**62) + 21, Run._meta.pk)},
)
# What `RunState.read_from` needs of a run's scans, for a caller that sends it in the same
# round trip as the statement locking the run (services/rounds/scans.py); planned once per
# connection (services/prepared.py).
RUN_SCAN_TIMES = PreparedQuery(
    lambda _key, run_id: (
        Scan._base_manager.filter(run_id=run_id)
        .order_by()
        .values_list("checkpoint_id", "effective_time")
    ),
    {"run_id": Slot(-(2**62) + 22, Run._meta.pk)},
)


def sync_new_scan(
    run: Run, scan: Scan, checkpoint: Checkpoint, state: RunState | None = None
) -> list[RoundException]:
    """Store what `scan` (of `checkpoint`, just saved into `run`) brings; the run's other
    scans must not change meanwhile (the caller holds the run's row lock). Judged from the
    run's state before it when it comes last in time, else by replaying the run (module
    docstring). `state`: the run's state kept by the caller (read here if not yet known;
    `scan` is added to it once its findings are stored). Call inside `audited_change`."""
    state = state if state is not None else RunState()
    if state.times is None:
        state.read(run, scan)
    findings = new_scan_findings(run, scan, checkpoint, state)
    return store_new_scan_findings(run, scan, findings, state)


def new_scan_findings(
    run: Run, scan: Scan, checkpoint: Checkpoint, state: RunState
) -> list[Finding] | None:
    """What `scan` finds when it comes last in time, judged from the run's state before it
    (`state.times` known, `scan` not in it); None when it goes before a scan of the run
    (then the run is replayed: `store_new_scan_findings`). Reads nothing of the run's scans,
    so a caller may learn before storing the scan that it finds nothing."""
    planned = {stop["checkpoint"] for stop in run.plan}
    seen, counted, latest = set(), [], None
    for checkpoint_id, (first, last) in state.times.items():
        if checkpoint_id in planned:
            seen.add(checkpoint_id)
            counted.append(first)  # later scans of it are repeats, which do not count
        else:
            counted.append(last)
        latest = last if latest is None else max(latest, last)
    if latest is not None and scan.effective_time < latest:
        return None
    # Equal times are ordered by primary key, and this scan's is the run's highest.
    walk = _Walk(
        run,
        _name_of_one(run.site, checkpoint),
        seen=seen,
        previous_time=max(counted, default=None),
    )
    walk.scan(scan)
    return walk.findings


def store_new_scan_findings(
    run: Run, scan: Scan, findings: list[Finding] | None, state: RunState
) -> list[RoundException]:
    """Store `findings` of `new_scan_findings` (the scan is stored already), or replay the
    run when it gave None; then add the scan to `state`."""
    if findings is None:
        stored = sync_run_exceptions(run, final=False)
    else:
        # Each finding is new: its key names this scan, or a checkpoint this run never
        # scanned before (a repeat is a duplicate, keyed by the scan).
        stored = _store(run, findings, stored={})
    state.add(scan.checkpoint_id, scan.effective_time)
    return stored


def _name_of_one(site: Site, checkpoint: Checkpoint) -> Callable[[int | None], str]:
    """Checkpoint names for judging one scan: its own checkpoint's, and any other one read
    when a finding names it (the checkpoint that should have come first)."""

    def name_of(pk: int | None) -> str:
        if pk == checkpoint.pk:
            return checkpoint.name
        names = Checkpoint.objects.filter(site=site, pk=pk).values_list("name", flat=True)
        return next(iter(names), "?")

    return name_of


def _store(run: Run, findings: list[Finding], stored: dict) -> list[RoundException]:
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


def withdraw(queryset, why: str) -> None:
    """Withdraw the exceptions of `queryset` not withdrawn yet (kept, never deleted)."""
    for exception in queryset.filter(withdrawn_at__isnull=True):
        exception.withdrawn_at = timezone.now()
        exception.withdrawn_reason = why
        exception.save()
