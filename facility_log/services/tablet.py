"""What the guard's tablet needs to work with no network: its sites, zones, routes with their
stops, the incident categories, the pass-down notes of the previous shift, the site's post
orders and any shift the guard already has open. Read-only; the tablet writes through the API.

Tag codes are not sent: a guard holding every code could record a round from the guard house.
Each stop carries only the first 8 hex digits of the SHA-256 of its code, enough to tell the
guard offline which checkpoint a scan matched, far too little to recover the code (60 random
bits; 28 of them stay unknown).
"""

import hashlib

from django.db.models import Prefetch

from facility_log.models import Category, Route, RouteStop, Site, Zone
from facility_log.models.incidents import Severity
from facility_log.models.shifts import ShiftEntryKind
from facility_log.scoping import REPORT_ROLES, sites_for
from facility_log.services import post_orders
from facility_log.services import shifts as shift_services

TAG_HINT_HEX_DIGITS = 8


def tag_hint(tag_code: str) -> str:
    """The short hash the tablet compares a scanned code against (see the module docstring)."""
    return hashlib.sha256(tag_code.encode()).hexdigest()[:TAG_HINT_HEX_DIGITS]


def tablet_bundle(user) -> dict:
    """Everything the tablet caches for `user`, as JSON-ready data; queries do not grow with
    the number of routes, stops or zones (one per related table, plus two per site for the
    shifts and one for the post orders: a guard holds roles at a handful of sites)."""
    sites = list(
        sites_for(user, REPORT_ROLES)
        .filter(is_active=True)
        .order_by("code")
        .prefetch_related(
            Prefetch("zones", queryset=Zone.objects.filter(is_active=True).order_by("name")),
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
                    )
                ),
            ),
        )
    )
    return {
        "user": user.get_username(),
        "sites": [_site_data(site, user) for site in sites],
        "categories": [
            {"id": c.pk, "name": c.name} for c in Category.objects.filter(is_active=True)
        ],
        "severities": [{"value": v, "label": str(label)} for v, label in Severity.choices],
        "entry_kinds": [{"value": v, "label": str(label)} for v, label in ShiftEntryKind.choices],
    }


def _site_data(site: Site, user) -> dict:
    handover = shift_services.previous_handover(site)
    open_shift = shift_services.open_shift_for(user, site)
    return {
        "code": site.code,
        "name": site.name,
        "time_zone": str(site.time_zone),
        "zones": [{"id": z.pk, "name": z.name} for z in site.zones.all()],
        "routes": [_route_data(route) for route in site.routes.all()],
        "handover": _handover_data(handover),
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
    }


def _route_data(route: Route) -> dict:
    return {
        "id": route.pk,
        "name": route.name,
        "stops": [
            {
                "name": stop.checkpoint.name,
                "checkpoint": stop.checkpoint_id,
                "instructions": stop.checkpoint.instructions,
                "hint": tag_hint(stop.checkpoint.tag_code),
            }
            for stop in route.stops.all()
            if stop.checkpoint.is_active
        ],
    }


def _handover_data(shift) -> dict | None:
    if shift is None:
        return None
    return {
        "guard": shift.guard.get_full_name() or shift.guard.get_username(),
        "ended_at": shift.ended_at.isoformat(),
        "notes": shift.pass_down_notes,
    }
