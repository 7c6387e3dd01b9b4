"""The dashboard's figures for a period, per site or across several sites, in a fixed number
of queries however many incidents, runs or alarms there are.

Counting is done by the database, grouped by local day (each site's own time zone, through
Trunc/Extract with `tzinfo`), and rolled up into the period's buckets here; only the alarm
times (two columns) and the scheduled runs' windows are read row by row, because medians and
"which window was walked" need them. Exactly what counts: docs/dashboard.md.
"""

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, DateField, IntegerField, Min, Q, When
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone

from facility_log.models import (
    Alarm,
    AlarmState,
    Category,
    ExceptionKind,
    Incident,
    RoundException,
    Run,
    Schedule,
    Site,
)
from facility_log.models.incidents import Severity, Status
from facility_log.services.dashboard.period import Period
from facility_log.services.rounds.schedules import schedule_windows
from facility_log.services.rounds_report import day_bounds

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Incidents that were reported: submitted at least once (they have a number), not voided.
REPORTED = Q(number__isnull=False) & ~Q(status=Status.VOID)


@dataclass
class BucketRow:
    """One bucket (day, ISO week or month) of the figures over time."""

    start: date
    first_day: date
    last_day: date
    label: str
    incidents: int = 0
    by_category: Counter = field(default_factory=Counter)
    by_severity: Counter = field(default_factory=Counter)
    windows_due: int = 0
    windows_walked: int = 0
    missed_recorded: int = 0
    unscheduled_runs: int = 0
    alarms_raised: int = 0
    ack_minutes: list[float] = field(default_factory=list)

    @property
    def compliance_percent(self) -> float | None:
        return percent(self.windows_walked, self.windows_due)

    @property
    def ack_median(self) -> float | None:
        return median(self.ack_minutes)

    @property
    def ack_p90(self) -> float | None:
        return p90(self.ack_minutes)


@dataclass
class OpenItem:
    """What waits now: how many, since when, and how many for over a day and over a week."""

    kind: str
    label: str
    count: int
    oldest: datetime | None
    over_1_day: int
    over_7_days: int
    now: datetime
    link: str | None = None

    @property
    def oldest_age_hours(self) -> float | None:
        if self.oldest is None:
            return None
        return round((self.now - self.oldest).total_seconds() / 3600, 1)

    @property
    def oldest_age_text(self) -> str:
        """`5.5 hours`, or `3.2 days` past two days; `—` when nothing is open."""
        hours = self.oldest_age_hours
        if hours is None:
            return "—"
        return f"{hours:g} hours" if hours < 48 else f"{round(hours / 24, 1):g} days"


@dataclass
class SiteSummary:
    """One site's totals, for the dashboard across sites."""

    site: Site
    incidents: int = 0
    windows_due: int = 0
    windows_walked: int = 0
    missed_recorded: int = 0
    alarms_raised: int = 0
    ack_minutes: list[float] = field(default_factory=list)

    @property
    def compliance_percent(self) -> float | None:
        return percent(self.windows_walked, self.windows_due)

    @property
    def ack_median(self) -> float | None:
        return median(self.ack_minutes)


@dataclass
class Dashboard:
    """Every figure of one dashboard (see docs/dashboard.md for what each counts)."""

    sites: list[Site]
    period: Period
    now: datetime
    buckets: list[BucketRow]
    categories: list[tuple[int | None, str, int]]
    severities: list[tuple[str, str, int]]
    heatmap: list[list[int]]
    open_items: list[OpenItem]
    per_site: list[SiteSummary]
    ack_minutes: list[float]
    alarms_unacknowledged: int

    @property
    def incidents(self) -> int:
        return sum(row.incidents for row in self.buckets)

    @property
    def heatmap_max(self) -> int:
        return max((n for row in self.heatmap for n in row), default=0)

    @property
    def heatmap_rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(WEEKDAYS, self.heatmap, strict=True))

    @property
    def windows_due(self) -> int:
        return sum(row.windows_due for row in self.buckets)

    @property
    def windows_walked(self) -> int:
        return sum(row.windows_walked for row in self.buckets)

    @property
    def missed_recorded(self) -> int:
        return sum(row.missed_recorded for row in self.buckets)

    @property
    def unscheduled_runs(self) -> int:
        return sum(row.unscheduled_runs for row in self.buckets)

    @property
    def compliance_percent(self) -> float | None:
        return percent(self.windows_walked, self.windows_due)

    @property
    def alarms_raised(self) -> int:
        return sum(row.alarms_raised for row in self.buckets)

    @property
    def alarms_acknowledged(self) -> int:
        return len(self.ack_minutes)

    @property
    def ack_median(self) -> float | None:
        return median(self.ack_minutes)

    @property
    def ack_p90(self) -> float | None:
        return p90(self.ack_minutes)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count), 1 decimal."""
    return round(statistics.median(values), 1) if values else None


def p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank: the smallest value with at least 90 % of the
    values at or below it (so it is always one of the values), 1 decimal."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)


# --- local time, for one or several time zones ------------------------------------------------


def _zones(sites: list[Site]) -> dict[str, list[Site]]:
    zones: dict[str, list[Site]] = defaultdict(list)
    for site in sites:
        zones[site.time_zone].append(site)
    return zones


def _in_period(field_name: str, sites: list[Site], period: Period, prefix: str = "") -> Q:
    """Records of `sites` whose `field_name` falls on a local day of the period (each site's
    days in its own zone)."""
    q = Q(pk__in=[])
    for group in _zones(sites).values():
        first, last = day_bounds(group[0], period.start, period.end)
        q |= Q(
            **{
                f"{prefix}site__in": [s.pk for s in group],
                f"{field_name}__gte": first,
                f"{field_name}__lt": last,
            }
        )
    return q


def _local(function, field_name: str, sites: list[Site], output, prefix: str = ""):
    """`function(field, tzinfo=<the record's site's zone>)`, as one expression."""
    zones = _zones(sites)
    if len(zones) == 1:
        return function(field_name, tzinfo=sites[0].tzinfo)
    return Case(
        *[
            When(
                **{f"{prefix}site__in": [s.pk for s in group]},
                then=function(field_name, tzinfo=group[0].tzinfo),
            )
            for group in zones.values()
        ],
        output_field=output,
    )


def _local_day(field_name: str, sites: list[Site], prefix: str = ""):
    return _local(TruncDate, field_name, sites, DateField(), prefix)


# --- the figures --------------------------------------------------------------------------------


def dashboard_figures(sites: list[Site], period: Period, now: datetime | None = None) -> Dashboard:
    """The figures of `sites` (already scoped by the caller) for `period`."""
    now = now or timezone.now()
    sites = list(sites)
    rows = {
        start: BucketRow(start, *period.bucket_days(start), period.bucket_label(start))
        for start in period.buckets()
    }
    per_site = {site.pk: SiteSummary(site) for site in sites}
    categories, severities = _incidents(sites, period, rows, per_site)
    ack_minutes, unacknowledged = _alarms(sites, period, rows, per_site)
    _rounds(sites, period, now, rows, per_site)
    return Dashboard(
        sites=sites,
        period=period,
        now=now,
        buckets=list(rows.values()),
        categories=categories,
        severities=severities,
        heatmap=_heatmap(sites, period),
        open_items=_open_items(sites, now),
        per_site=list(per_site.values()),
        ack_minutes=ack_minutes,
        alarms_unacknowledged=unacknowledged,
    )


def _incidents(sites, period, rows, per_site):
    """Reported incidents by local day of `occurred_from`, category and severity (1 query),
    with the category names (1 query)."""
    grouped = (
        Incident.objects.filter(REPORTED)
        .filter(_in_period("occurred_from", sites, period))
        .annotate(day=_local_day("occurred_from", sites))
        .values("site_id", "day", "category_id", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_category, by_severity = Counter(), Counter()
    for item in grouped:
        row = rows[period.bucket_of(item["day"])]
        row.incidents += item["n"]
        row.by_category[item["category_id"]] += item["n"]
        row.by_severity[item["severity"]] += item["n"]
        by_category[item["category_id"]] += item["n"]
        by_severity[item["severity"]] += item["n"]
        per_site[item["site_id"]].incidents += item["n"]
    names = dict(Category.objects.values_list("pk", "name"))
    order = list(Category.objects.values_list("pk", flat=True))
    categories = [(pk, names[pk], by_category[pk]) for pk in order if by_category[pk]]
    if by_category[None]:
        categories.append((None, "No category", by_category[None]))
    severities = [(value, label, by_severity[value]) for value, label in Severity.choices]
    return categories, severities


def _heatmap(sites, period) -> list[list[int]]:
    """Reported incidents by local weekday (Monday first) and hour of `occurred_from`."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    grouped = (
        Incident.objects.filter(REPORTED)
        .filter(_in_period("occurred_from", sites, period))
        .annotate(
            weekday=_local(ExtractIsoWeekDay, "occurred_from", sites, IntegerField()),
            hour=_local(ExtractHour, "occurred_from", sites, IntegerField()),
        )
        .values("weekday", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item in grouped:
        grid[item["weekday"] - 1][item["hour"]] += item["n"]
    return grid


def _alarms(sites, period, rows, per_site):
    """Alarms raised in the period, and for the acknowledged ones the minutes from raised to
    acknowledged (one query over three columns: medians need the values)."""
    tz = {site.pk: site.tzinfo for site in sites}
    alarms = Alarm.objects.filter(_in_period("raised_at", sites, period)).values_list(
        "site_id", "raised_at", "acknowledged_at"
    )
    minutes, unacknowledged = [], 0
    for site_id, raised_at, acknowledged_at in alarms.order_by():
        row = rows[period.bucket_of(raised_at.astimezone(tz[site_id]).date())]
        row.alarms_raised += 1
        per_site[site_id].alarms_raised += 1
        if acknowledged_at is None:
            unacknowledged += 1
            continue
        delay = max((acknowledged_at - raised_at).total_seconds(), 0) / 60
        row.ack_minutes.append(delay)
        per_site[site_id].ack_minutes.append(delay)
        minutes.append(delay)
    return minutes, unacknowledged


def _rounds(sites, period, now, rows, per_site) -> None:
    """Schedule windows due in the period and whether a run walked each (schedules: 1 query;
    the scheduled runs' windows: 1), missed rounds recorded (1), runs outside any window (1)."""
    schedules = Schedule.objects.filter(
        is_active=True, route__is_active=True, route__site__in=sites
    ).select_related("route__site")
    walked = set(
        Run.objects.filter(schedule__isnull=False)
        .filter(_in_period("window_start", sites, period))
        .values_list("schedule_id", "window_start")
    )
    for schedule in schedules:
        site = schedule.route.site
        first, last = day_bounds(site, period.start, period.end)
        grace = timedelta(minutes=schedule.grace_minutes)
        for window in schedule_windows(schedule, first, max(first, min(last, now))):
            done = (schedule.pk, window) in walked
            if window >= last or not (done or window + grace < now):
                continue
            row = rows[period.bucket_of(window.astimezone(site.tzinfo).date())]
            row.windows_due += 1
            row.windows_walked += done
            per_site[site.pk].windows_due += 1
            per_site[site.pk].windows_walked += done
    missed = (
        RoundException.objects.filter(kind=ExceptionKind.MISSED_ROUND, withdrawn_at__isnull=True)
        .filter(_in_period("window_start", sites, period))
        .annotate(day=_local_day("window_start", sites))
        .values("site_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item in missed:
        rows[period.bucket_of(item["day"])].missed_recorded += item["n"]
        per_site[item["site_id"]].missed_recorded += item["n"]
    unscheduled = (
        Run.objects.filter(window_start__isnull=True)
        .filter(_in_period("started_at", sites, period))
        .annotate(day=_local_day("started_at", sites))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for item in unscheduled:
        rows[period.bucket_of(item["day"])].unscheduled_runs += item["n"]


def _open_items(sites, now) -> list[OpenItem]:
    """What waits now, one aggregate query per kind: reports submitted and not yet reviewed
    (since their submission), alarms not resolved (since raised), round exceptions neither
    withdrawn nor signed off (since detected)."""
    day, week = now - timedelta(days=1), now - timedelta(days=7)

    def aggregate(queryset, moment: str) -> dict:
        return queryset.aggregate(
            count=Count("id"),
            oldest=Min(moment),
            over_1_day=Count("id", filter=Q(**{f"{moment}__lt": day})),
            over_7_days=Count("id", filter=Q(**{f"{moment}__lt": week})),
        )

    reports = aggregate(
        Incident.objects.filter(site__in=sites, status=Status.SUBMITTED), "submitted_at"
    )
    alarms = aggregate(
        Alarm.objects.filter(site__in=sites).exclude(state=AlarmState.RESOLVED), "raised_at"
    )
    exceptions = aggregate(
        RoundException.objects.filter(
            site__in=sites, withdrawn_at__isnull=True, signed_off_at__isnull=True
        ),
        "detected_at",
    )
    return [
        OpenItem("reports", "Reports waiting for review", now=now, **reports),
        OpenItem("alarms", "Alarms not resolved", now=now, **alarms),
        OpenItem("exceptions", "Round exceptions to sign off", now=now, **exceptions),
    ]
