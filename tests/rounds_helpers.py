"""Building guard-round data through the real services, for the rounds tests."""

import uuid
from datetime import UTC, datetime, timedelta

from facility_log.services import rounds
from facility_log.services.rounds import ScanInput

WHY = "test round data"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def night_route(
    p, *, names=("Gate", "Dock", "Roof"), minutes=(0, 10, 20), route_name="Night round", **options
):
    """Checkpoints at site A and a route through them, set up by manager_ab."""
    checkpoints = [
        rounds.create_checkpoint(
            p.site_a,
            p.manager_ab,
            zone=p.zone_a,
            name=name,
            instructions=f"Check {name}",
            reason=WHY,
        )
        for name in names
    ]
    route = rounds.create_route(
        p.site_a,
        p.manager_ab,
        name=route_name,
        reason=WHY,
        stops=list(zip(checkpoints, minutes, strict=True)),
        **options,
    )
    return route, checkpoints


def every_two_hours(p, route, *, active_from, grace=15):
    from datetime import time

    return rounds.create_schedule(
        route,
        p.manager_ab,
        reason=WHY,
        kind="every",
        start_time=time(22),
        end_time=time(6),
        every_hours=2,
        grace_minutes=grace,
        active_from=active_from,
    )


def scan(actor, run, checkpoint, device_time, *, sent_at=None, method="manual", uid=None):
    data = ScanInput(
        tag_code=checkpoint.tag_code,
        client_uuid=uid or uuid.uuid4(),
        device_time=device_time,
        method=method,
        device_sent_at=sent_at,
    )
    return rounds.record_scan(actor, data, run=run)[0]


def walk(p, route, checkpoints, start, offsets_minutes, *, guard=None, finish=True):
    """Start a run at `start`, scan each checkpoint at start + offset, finish."""
    guard = guard or p.guard_a
    run = rounds.start_run(route, guard, started_at=start)
    for checkpoint, minutes in zip(checkpoints, offsets_minutes, strict=False):
        if minutes is not None:
            scan(guard, run, checkpoint, start + timedelta(minutes=minutes))
    if finish:
        last = max([m for m in offsets_minutes if m is not None], default=0)
        rounds.finish_run(run, guard, finished_at=start + timedelta(minutes=last + 1))
    return run


def site_a_rounds(p):
    """Site A's rounds for the cross-site check, built once per personas: distinctive names,
    a route, a schedule, a run with a scan, and an exception."""
    from types import SimpleNamespace

    from django.utils import timezone

    if getattr(p, "_rounds", None) is None:
        route, checkpoints = night_route(
            p, names=("Alpha boiler room", "Alpha roof hatch"), minutes=(0, 10)
        )
        schedule = every_two_hours(p, route, active_from=timezone.now() - timedelta(days=1))
        run = rounds.start_run(route, p.guard_a, started_at=timezone.now() - timedelta(hours=1))
        first = scan(p.guard_a, run, checkpoints[0], run.started_at + timedelta(minutes=30))
        p._rounds = SimpleNamespace(
            route=route,
            checkpoints=checkpoints,
            schedule=schedule,
            run=run,
            scan=first,
            exception=run.exceptions.first(),
        )
    return p._rounds
