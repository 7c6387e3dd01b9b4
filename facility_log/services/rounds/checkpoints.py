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
