"""What the guard's tablet needs to work with no network: its sites, zones, routes with their
stops, the site's checkpoints, the incident categories, the pass-down notes of the previous
shift, the site's post orders, any shift the guard already has open and the rounds open in it,
and which route is due now. Read-only; the tablet writes through the API.

Tag codes are not sent: a guard holding every code could record a round from the guard house.
Each checkpoint carries only the first 8 hex digits of the SHA-256 of its code, enough to tell
the guard offline which checkpoint a scan matched (and whether it belongs to another route),
far too little to recover the code (60 random bits; 28 of them stay unknown).
"""

import hashlib
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from facility_log.models import (
    Category,
    Checkpoint,
    Route,
    RouteStop,
    Run,
    Scan,
    Schedule,
    Site,
    Zone,
)
from facility_log.models.incidents import PersonRole, Severity
from facility_log.models.shifts import ShiftEntryKind
from facility_log.scoping import REPORT_ROLES, sites_for
from facility_log.services import post_orders
from facility_log.services import shifts as shift_services
from facility_log.services.incidents import REQUIRED_TO_SUBMIT
from facility_log.services.rounds import knob
from facility_log.services.rounds.schedules import schedule_windows

TAG_HINT_HEX_DIGITS = 8


def tag_hint(tag_code: str) -> str:
    """The short hash the tablet compares a scanned code against (see the module docstring)."""
    return hashlib.sha256(tag_code.encode()).hexdigest()[:TAG_HINT_HEX_DIGITS]


def tablet_bundle(user, now: datetime | None = None) -> dict:
    """Everything the tablet caches for `user`, as JSON-ready data; queries do not grow with
    the number of routes, stops, checkpoints or zones (one per related table, plus a few per
    site for the shifts, open rounds and post orders: a guard holds roles at a handful of
    sites)."""
    now = now or timezone.now()
    sites = list(
        sites_for(user, REPORT_ROLES)
        .filter(is_active=True)
        .select_related("lone_worker_policy")
        .order_by("code")
        .prefetch_related(
            Prefetch("zones", queryset=Zone.objects.filter(is_active=True).order_by("name")),
            Prefetch(
                "checkpoints",
                queryset=Checkpoint.objects.filter(is_active=True).order_by("name"),
                to_attr="active_checkpoints",
            ),
            Prefetch(
                "routes",
                queryset=Route.objects.filter(is_active=True)
                .order_by("name")
                .prefetch_related(
                    Prefetch(
                        "stops",
                        queryset=RouteStop.objects.select_related("checkpoint").order_by(
                            "position"
                        ),
                    ),
                    Prefetch(
                        "schedules",
                        queryset=Schedule.objects.filter(is_active=True),
                        to_attr="active_schedules",
                    ),
                ),
            ),
        )
    )
    return {
        "user": user.get_username(),
        "user_name": user.get_full_name() or user.get_username(),
        "sites": [_site_data(site, user, now) for site in sites],
        "categories": [
            {"id": c.pk, "name": c.name} for c in Category.objects.filter(is_active=True)
        ],
        "severities": [{"value": v, "label": str(label)} for v, label in Severity.choices],
        "entry_kinds": [{"value": v, "label": str(label)} for v, label in ShiftEntryKind.choices],
        "person_roles": [{"value": v, "label": str(label)} for v, label in PersonRole.choices],
        "required_to_submit": list(REQUIRED_TO_SUBMIT),
    }


def _site_data(site: Site, user, now: datetime) -> dict:
    handover = shift_services.previous_handover(site)
    open_shift = shift_services.open_shift_for(user, site)
    due = due_route(site, now)
    routes = site.routes.all()
    return {
        "code": site.code,
        "name": site.name,
        "time_zone": str(site.time_zone),
        "zones": [{"id": z.pk, "name": z.name} for z in site.zones.all()],
        "checkpoints": [_checkpoint_data(c) for c in site.active_checkpoints],
        "routes": [_route_data(route, due) for route in routes],
        "due_route": _due_data(due),
        "handover": _handover_data(handover),
        "lone_worker": _lone_worker_data(getattr(site, "lone_worker_policy", None)),
        "post_orders": post_orders.tablet_data(site, user),
        "open_shift": (
            {
                "id": open_shift.pk,
                "client_uuid": str(open_shift.client_uuid),
                "started_at": open_shift.started_at.isoformat(),
            }
            if open_shift
            else None
        ),
        "open_runs": _open_runs(site, user, open_shift),
    }


def _lone_worker_data(policy) -> dict | None:
    # The site's check-in rule, for checkin.js (None: never set, so off).
    if policy is None:
        return None
    return {
        "enabled": policy.enabled,
        "interval_minutes": policy.interval_minutes,
        "grace_minutes": policy.grace_minutes,
        "changed_at": policy.changed_at.isoformat(),
    }


def _checkpoint_data(checkpoint: Checkpoint) -> dict:
    return {
        "id": checkpoint.pk,
        "name": checkpoint.name,
        "instructions": checkpoint.instructions,
        "hint": tag_hint(checkpoint.tag_code),
    }


def _route_data(route: Route, due: tuple | None) -> dict:
    # A run started now inside a window belongs to its schedule and is judged by its grace
    # (services/rounds/findings.py); any other run by the default.
    grace = due[2].grace_minutes if due and due[0].pk == route.pk else None
    return {
        "id": route.pk,
        "name": route.name,
        "must_follow_order": route.must_follow_order and not route.random_order,
        "grace_minutes": grace if grace is not None else knob("ROUNDS_DEFAULT_GRACE_MINUTES"),
        "stops": [
            {
                "name": stop.checkpoint.name,
                "checkpoint": stop.checkpoint_id,
                "instructions": stop.checkpoint.instructions,
                "hint": tag_hint(stop.checkpoint.tag_code),
                "minutes": stop.expected_minutes,
            }
            for stop in route.stops.all()
            if stop.checkpoint.is_active
        ],
    }


def due_route(site: Site, now: datetime) -> tuple[Route, datetime, Schedule] | None:
    """The route of `site` due now: the one whose schedule window starts nearest to `now`
    within that schedule's grace and has not been walked yet (as `window_for` assigns a run
    started now). None when no window is open. Reads the routes and schedules `tablet_bundle`
    prefetched, and one query for the windows already taken."""
    candidates = []
    for route in site.routes.all():
        for schedule in route.active_schedules:
            grace = timedelta(minutes=schedule.grace_minutes)
            for window in schedule_windows(schedule, now - grace, now + grace):
                candidates.append((abs(window - now), route, window, schedule))
    if not candidates:
        return None
    taken = set(
        Run.objects.filter(
            schedule__in=[c[3] for c in candidates], window_start__in=[c[2] for c in candidates]
        ).values_list("schedule_id", "window_start")
    )
    free = [c for c in candidates if (c[3].pk, c[2]) not in taken]
    if not free:
        return None
    _distance, route, window, schedule = min(free, key=lambda c: (c[0], c[1].name))
    return route, window, schedule


def _due_data(due: tuple | None) -> dict | None:
    # `until`: a page opened offline hours later no longer calls the route due.
    if due is None:
        return None
    route, window, schedule = due
    until = window + timedelta(minutes=schedule.grace_minutes)
    return {"id": route.pk, "window": window.isoformat(), "until": until.isoformat()}


def _open_runs(site: Site, user, open_shift) -> list[dict]:
    # Rounds this guard started during the open shift and has not finished, on any device:
    # the tablet offers to take them up rather than leaving them open on the server.
    if open_shift is None:
        return []
    runs = (
        Run.objects.filter(
            site=site, guard=user, finished_at__isnull=True, started_at__gte=open_shift.started_at
        )
        .order_by("started_at")
        .prefetch_related(Prefetch("scans", queryset=Scan.objects.order_by("effective_time", "pk")))
    )
    return [
        {
            "id": run.pk,
            "client_uuid": str(run.client_uuid) if run.client_uuid else None,
            "route": run.route_id,
            "started_at": run.started_at.isoformat(),
            "scans": [
                {
                    "client_uuid": str(scan.client_uuid),
                    "checkpoint": scan.checkpoint_id,
                    "at": scan.effective_time.isoformat(),
                }
                for scan in run.scans.all()
            ],
        }
        for run in runs
    ]


def _handover_data(shift) -> dict | None:
    if shift is None:
        return None
    return {
        "guard": shift.guard.get_full_name() or shift.guard.get_username(),
        "ended_at": shift.ended_at.isoformat(),
        "notes": shift.pass_down_notes,
    }
