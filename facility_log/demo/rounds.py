"""Demo guard rounds at HQ: a checkpoint in each zone, a night route, a schedule every two
hours from 22:00 to 06:00, and two walked runs from last night (one on time, one with a
late stop). Idempotent: nothing is added when the route exists."""

import uuid
from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from facility_log.models import Route, Site, Zone
from facility_log.services import rounds
from facility_log.services.rounds import ScanInput

REASON = "demo data (manage.py seed_demo)"
ROUTE_NAME = "Night round"
CHECKPOINTS = [
    ("Main entrance", "Main entrance doors", "Doors locked, alarm panel armed.", 0),
    ("Loading dock", "Dock shutter 2", "Shutter down and padlocked; no pallets blocking exits.", 8),
    ("Server room", "Server room door", "Door closed, temperature display below 25 °C.", 15),
    ("Roof", "Roof hatch", "Hatch latched; look for water on the floor.", 22),
    ("Gate B", "Gate B barrier", "Barrier down, intercom light green.", 30),
    ("Car park", "Car park level -1", "No vehicles left with lights on; fire doors shut.", 38),
]


def seed_rounds(actor) -> str:
    """Create HQ's demo rounds once; returns a line for the command's output."""
    site = Site.objects.filter(code="HQ").first()
    if site is None or Route.objects.filter(site=site, name=ROUTE_NAME).exists():
        return "rounds: already there"
    zones = {zone.name: zone for zone in Zone.objects.filter(site=site)}
    stops = []
    for zone_name, name, instructions, minutes in CHECKPOINTS:
        checkpoint = rounds.create_checkpoint(
            site, actor, zone=zones[zone_name], name=name, instructions=instructions, reason=REASON
        )
        stops.append((checkpoint, minutes))
    route = rounds.create_route(
        site, actor, name=ROUTE_NAME, stops=stops, must_follow_order=True, reason=REASON
    )
    now = timezone.now()
    schedule = rounds.create_schedule(
        route,
        actor,
        reason=REASON,
        name="Nights, every 2 hours",
        kind="every",
        start_time=time(22),
        end_time=time(6),
        every_hours=2,
        grace_minutes=15,
        active_from=now - timedelta(days=1),
    )
    _walk_last_night(schedule, route, [cp for cp, _ in stops], now)
    return f"rounds: {len(stops)} checkpoints, route {ROUTE_NAME!r}, schedule and 2 runs at HQ"


def _walk_last_night(schedule, route, checkpoints, now) -> None:
    guard = get_user_model().objects.filter(username="guard").first()
    windows = rounds.schedule_windows(schedule, now - timedelta(days=1), now - timedelta(hours=2))
    if guard is None or len(windows) < 2:
        return
    for window, late_minutes in zip(windows[-2:], (0, 20), strict=True):
        run = rounds.start_run(route, guard, started_at=window + timedelta(minutes=3))
        for stop in run.plan:
            checkpoint = next(cp for cp in checkpoints if cp.pk == stop["checkpoint"])
            extra = late_minutes if stop["minutes"] >= 30 else 0
            device_time = run.started_at + timedelta(minutes=stop["minutes"] + extra)
            data = ScanInput(checkpoint.tag_code, uuid.uuid4(), device_time, method="qr")
            rounds.record_scan(guard, data, run=run)
        rounds.finish_run(run, guard, finished_at=device_time + timedelta(minutes=2))
