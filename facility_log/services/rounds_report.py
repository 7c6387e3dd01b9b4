"""The rounds compliance report: per local day, route and guard, the share of checkpoints
scanned on time and the rounds missed. Read-only; a fixed number of queries however many runs.

A run counts on the local day (site time zone) of its schedule window, or of its start when
it belongs to no window; a missed round on the local day of its window. A checkpoint is "on
time" when the run scanned it and it carries no (unwithdrawn) late exception; a checkpoint
not scanned is not on time, finished run or not.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch

from facility_log.models import ExceptionKind, RoundException, Route, Run, Site
from facility_log.services.csv_export import NUMBER, Column, csv_text
from facility_log.services.rounds import local_to_utc


@dataclass
class ComplianceRow:
    """One line of the report. `guard` is None on the line of missed rounds."""

    day: date
    route: Route
    guard: object | None
    runs: int = 0
    checkpoints_expected: int = 0
    checkpoints_on_time: int = 0
    missed_rounds: int = 0

    @property
    def percent_on_time(self) -> float | None:
        if not self.checkpoints_expected:
            return None
        return round(100 * self.checkpoints_on_time / self.checkpoints_expected, 1)


def day_bounds(site: Site, start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants from local midnight of `start` to local midnight after `end`."""
    tz = site.tzinfo
    first = local_to_utc(datetime.combine(start, time()), tz)
    last = local_to_utc(datetime.combine(end + timedelta(days=1), time()), tz)
    return first, last


def _runs(site, first, last, route, guard) -> Iterable[Run]:
    active = RoundException.objects.filter(withdrawn_at__isnull=True, kind=ExceptionKind.LATE)
    runs = (
        Run.objects.filter(site=site, started_at__gte=first - timedelta(hours=1))
        .filter(started_at__lt=last + timedelta(hours=1))
        .select_related("route", "guard")
        .prefetch_related(
            Prefetch("exceptions", queryset=active, to_attr="late"),
            Prefetch("scans", to_attr="all_scans"),
        )
    )
    if route is not None:
        runs = runs.filter(route=route)
    if guard is not None:
        runs = runs.filter(guard=guard)
    return runs


def _missed(site, first, last, route) -> Iterable[RoundException]:
    missed = RoundException.objects.filter(
        site=site,
        kind=ExceptionKind.MISSED_ROUND,
        withdrawn_at__isnull=True,
        window_start__gte=first,
        window_start__lt=last,
    ).select_related("schedule__route")
    if route is not None:
        missed = missed.filter(schedule__route=route)
    return missed


def compliance_report(
    site: Site, *, start: date, end: date, route: Route | None = None, guard=None
) -> list[ComplianceRow]:
    """The report for local days `start`..`end` (inclusive), optionally for one route/guard.
    The caller has checked the user may read `site`."""
    first, last = day_bounds(site, start, end)
    tz = site.tzinfo
    rows: dict[tuple, ComplianceRow] = {}
    for run in _runs(site, first, last, route, guard):
        moment = run.window_start or run.started_at
        if not first <= moment < last:
            continue
        key = (moment.astimezone(tz).date(), run.route.name, run.route_id, run.guard_id)
        row = rows.setdefault(key, ComplianceRow(key[0], run.route, run.guard))
        planned = {stop["checkpoint"] for stop in run.plan}
        scanned = {scan.checkpoint_id for scan in run.all_scans} & planned
        late = {exception.checkpoint_id for exception in run.late}
        row.runs += 1
        row.checkpoints_expected += len(planned)
        row.checkpoints_on_time += len(scanned - late)
    if guard is None:
        for exception in _missed(site, first, last, route):
            day = exception.window_start.astimezone(tz).date()
            the_route = exception.schedule.route
            key = (day, the_route.name, the_route.pk, None)
            rows.setdefault(key, ComplianceRow(day, the_route, None)).missed_rounds += 1
    return [rows[key] for key in sorted(rows, key=lambda k: (k[0], k[1], k[2], k[3] or 0))]


CSV_COLUMNS = [
    Column("day", lambda row: row.day.isoformat()),
    Column("route", lambda row: row.route.name),
    Column("guard", lambda row: row.guard.get_username() if row.guard else ""),
    Column("runs", lambda row: row.runs, NUMBER),
    Column("checkpoints_expected", lambda row: row.checkpoints_expected, NUMBER),
    Column("checkpoints_on_time", lambda row: row.checkpoints_on_time, NUMBER),
    Column("percent_on_time", lambda row: row.percent_on_time, NUMBER),
    Column("missed_rounds", lambda row: row.missed_rounds, NUMBER),
]


def compliance_csv(site: Site, rows: list[ComplianceRow]) -> str:
    """The report as CSV (services/csv_export.py), one line per row, guard by username (empty
    on missed-round lines), days in the site's time zone."""
    columns = [Column("site", lambda row: site.code), *CSV_COLUMNS]
    return csv_text(columns, rows, lambda row: site.tzinfo)
