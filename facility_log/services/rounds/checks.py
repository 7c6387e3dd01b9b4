"""The periodic check (`manage.py check_rounds`): missed rounds and overdue runs."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from facility_log.models import ExceptionKind, RoundException, Run, Schedule
from facility_log.services.audit import audited_change
from facility_log.services.rounds.common import knob
from facility_log.services.rounds.findings import Finding, overdue_after, record_exception
from facility_log.services.rounds.schedules import missed_round_key, schedule_windows


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
                ExceptionKind.MISSED_ROUND, missed_round_key(schedule, window), detail
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
