"""When routes must be walked: schedules, and their windows in the site's wall time.

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
"""

from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from facility_log.models import Route, Run, Schedule, ScheduleKind
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.rounds.common import save_validated


def create_schedule(route: Route, actor: AbstractBaseUser, *, reason: str, **fields) -> Schedule:
    """A schedule for `route` (fields as on Schedule). Refused with the field named when a
    window could never happen (it ends when it starts, or the schedule ends before it begins)."""
    require_role(actor, route.site, MANAGE_ROLES)
    schedule = Schedule(route=route, **fields)
    validate_schedule(schedule)
    with audited_change(actor, reason):
        save_validated(schedule)
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


def window_for(route: Route, started_at: datetime) -> tuple[Schedule | None, datetime | None]:
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


def missed_round_key(schedule: Schedule, window: datetime) -> str:
    """The key of the "missed round" exception of one window of `schedule`."""
    return f"missed_round:schedule:{schedule.pk}:{window.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
