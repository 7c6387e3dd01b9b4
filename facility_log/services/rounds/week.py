"""The week view of a site's schedules: every window of the coming days in the site's local
time, with the days on which the clocks change marked (their windows follow the rules in
`schedules`: a time that does not exist moves forward, a time that happens twice counts once).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from facility_log.models import Schedule, Site
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.rounds.schedules import local_to_utc, schedule_windows


@dataclass
class Window:
    """One window: its local start (with the offset in force then) and its schedule."""

    local: datetime
    schedule: Schedule

    @property
    def clock(self) -> str:
        """The wall-clock time at the site (template filters would show it in UTC)."""
        return self.local.strftime("%H:%M")


@dataclass
class Day:
    """One local day of the week view."""

    day: date
    clock_change: str = ""  # e.g. "clocks go back 1 h (UTC+02:00 → UTC+01:00)"
    windows: list[Window] = field(default_factory=list)


def week_view(site: Site, first_day: date, days: int = 7) -> list[Day]:
    """The windows of `site`'s active schedules on `days` local days from `first_day` (one
    query for the schedules; the windows are computed)."""
    tz = site.tzinfo
    start = local_to_utc(datetime.combine(first_day, time()), tz)
    end = local_to_utc(datetime.combine(first_day + timedelta(days=days), time()), tz)
    schedules = Schedule.objects.filter(route__site=site, is_active=True).select_related(
        "route__site"
    )
    by_day = {
        first_day + timedelta(days=n): Day(first_day + timedelta(days=n)) for n in range(days)
    }
    for schedule in schedules:
        for window in schedule_windows(schedule, start, end - timedelta(microseconds=1)):
            local = window.astimezone(tz)
            if local.date() in by_day:
                by_day[local.date()].windows.append(Window(local, schedule))
    for day in by_day.values():
        day.windows.sort(key=lambda w: (w.local, w.schedule.route.name))
        day.clock_change = _clock_change(day.day, tz)
    return list(by_day.values())


def _clock_change(day: date, tz) -> str:
    before = local_to_utc(datetime.combine(day, time()), tz).astimezone(tz).utcoffset()
    after_utc = local_to_utc(datetime.combine(day + timedelta(days=1), time()), tz)
    after = after_utc.astimezone(tz).utcoffset()
    if before == after:
        return ""
    hours = abs(after - before).total_seconds() / 3600
    direction = "forward" if after > before else "back"
    return f"clocks go {direction} {hours:g} h ({_offset(before)} → {_offset(after)})"


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def end_schedule(schedule: Schedule, actor: AbstractBaseUser, *, reason: str) -> Schedule:
    """Stop a schedule from now on (no more windows, no more missed rounds); it stays in the
    history with the runs it produced."""
    require_role(actor, schedule.route.site, MANAGE_ROLES)
    with audited_change(actor, reason):
        schedule.is_active = False
        schedule.active_until = max(timezone.now(), schedule.active_from + timedelta(seconds=1))
        schedule.save()
    return schedule
