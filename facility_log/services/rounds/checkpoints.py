"""Setting up rounds: checkpoints with their tag codes, and routes through them."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from facility_log.models import Checkpoint, Route, RouteStop, Site, Zone
from facility_log.models.rounds import new_tag_code
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.audit import audited_change
from facility_log.services.rounds.common import save_validated


def create_checkpoint(
    site: Site, actor: AbstractBaseUser, *, zone: Zone, name: str, reason: str, instructions=""
) -> Checkpoint:
    """Add a checkpoint with a fresh random tag code (the site's managers only)."""
    require_role(actor, site, MANAGE_ROLES)
    if zone.site_id != site.pk:
        raise ValidationError({"zone": "The zone belongs to another site."})
    with audited_change(actor, reason):
        checkpoint = Checkpoint(site=site, zone=zone, name=name, instructions=instructions)
        checkpoint.tag_code = _unused_tag_code()
        save_validated(checkpoint)
    return checkpoint


def _unused_tag_code() -> str:
    code = new_tag_code()
    while Checkpoint.objects.filter(tag_code=code).exists():  # 2^-60 per try; still checked
        code = new_tag_code()
    return code


def update_checkpoint(
    checkpoint: Checkpoint, actor: AbstractBaseUser, *, reason: str, **changes
) -> Checkpoint:
    """Rename, move to another zone of the site, change instructions, or deactivate."""
    require_role(actor, checkpoint.site, MANAGE_ROLES)
    unknown = set(changes) - {"name", "zone", "instructions", "is_active"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    with audited_change(actor, reason):
        for field, value in changes.items():
            setattr(checkpoint, field, value)
        save_validated(checkpoint)
    return checkpoint


def replace_tag_code(checkpoint: Checkpoint, actor: AbstractBaseUser, *, reason: str) -> str:
    """Issue a new tag code (a label was lost or copied); the old code stops working."""
    require_role(actor, checkpoint.site, MANAGE_ROLES)
    with audited_change(actor, reason):
        checkpoint.tag_code = _unused_tag_code()
        checkpoint.save()
    return checkpoint.tag_code


def create_route(
    site: Site,
    actor: AbstractBaseUser,
    *,
    name: str,
    stops: list[tuple[Checkpoint, int]],
    reason: str,
    must_follow_order: bool = False,
    random_order: bool = False,
) -> Route:
    """A route of `stops` — (checkpoint, expected minutes from the run's start) in order."""
    require_role(actor, site, MANAGE_ROLES)
    _check_stops(site, stops)
    with audited_change(actor, reason):
        route = Route(
            site=site, name=name, must_follow_order=must_follow_order, random_order=random_order
        )
        save_validated(route)
        for position, (checkpoint, minutes) in enumerate(stops, start=1):
            stop = RouteStop(
                route=route, checkpoint=checkpoint, position=position, expected_minutes=minutes
            )
            save_validated(stop)
    return route


class RouteVersionConflict(Exception):
    """A route was changed from an older version than the one stored (HTTP 409)."""

    def __init__(self, current: Route, expected_version: int):
        self.current = current
        super().__init__(
            f"The route changed since you opened it: you edited version {expected_version}, "
            f"the stored version is {current.version}."
        )


# Changing any of these makes a new version of the route.
VERSIONED = ("must_follow_order", "random_order")


def update_route(
    route: Route,
    actor: AbstractBaseUser,
    *,
    reason: str,
    expected_version: int | None = None,
    stops: list[tuple[Checkpoint, int]] | None = None,
    **changes,
) -> Route:
    """Change a route (the site's managers). New stops or order rules make a new version;
    runs already started keep the stops they were given. A name or active flag alone is
    changed in place. `expected_version`: refused with RouteVersionConflict when stale."""
    require_role(actor, route.site, MANAGE_ROLES)
    unknown = set(changes) - {"name", "is_active", *VERSIONED}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    if stops is not None:
        _check_stops(route.site, stops)
    with audited_change(actor, reason):
        current = Route.objects.select_for_update().get(pk=route.pk)
        if expected_version is not None and expected_version != current.version:
            raise RouteVersionConflict(current, expected_version)
        new_stops = stops is not None and _stop_list(current) != [
            (checkpoint.pk, minutes) for checkpoint, minutes in stops
        ]
        new_rules = any(
            name in changes and changes[name] != getattr(current, name) for name in VERSIONED
        )
        for name, value in changes.items():
            setattr(current, name, value)
        if new_stops or new_rules:
            current.version += 1
        save_validated(current)
        if new_stops:
            _replace_stops(current, stops)
    return current


def _stop_list(route: Route) -> list[tuple[int, int]]:
    return list(route.stops.order_by("position").values_list("checkpoint_id", "expected_minutes"))


def _replace_stops(route: Route, stops) -> None:
    """The old stops go (each with its history row), the new ones are written in order."""
    for stop in route.stops.all():
        stop.delete()
    for position, (checkpoint, minutes) in enumerate(stops, start=1):
        save_validated(
            RouteStop(
                route=route, checkpoint=checkpoint, position=position, expected_minutes=minutes
            )
        )


def _check_stops(site: Site, stops) -> None:
    if not stops:
        raise ValidationError({"stops": "A route needs at least one checkpoint."})
    ids = [checkpoint.pk for checkpoint, _ in stops]
    if len(set(ids)) != len(ids):
        raise ValidationError({"stops": "A checkpoint appears twice on the route."})
    for line, (checkpoint, minutes) in enumerate(stops, start=1):
        if checkpoint.site_id != site.pk:
            raise ValidationError({"stops": f"Stop {line}: the checkpoint is at another site."})
        if minutes is None or minutes < 0:
            raise ValidationError({"stops": f"Stop {line}: expected minutes must be 0 or more."})
    minutes = [m for _, m in stops]
    if minutes != sorted(minutes):
        raise ValidationError({"stops": "Expected minutes must not decrease along the route."})
