"""Sites, zones and memberships: creating and changing them, with history."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError

from facility_log.models import Membership, Role, Site, Zone
from facility_log.models.sites import SITE_CODE_FIXED
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.audit import audited_change

SITE_FIELDS = {"name", "time_zone", "address", "is_active"}
ZONE_FIELDS = {"name", "description", "is_active"}


def _apply_changes(instance, changes: dict, allowed: set[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()


def create_site(
    actor: AbstractBaseUser,
    *,
    code: str,
    name: str,
    reason: str,
    time_zone: str = "UTC",
    address: str = "",
) -> Site:
    """Create a site. Only a superuser may: a site is where all other roles begin."""
    if not actor.is_superuser:
        raise PermissionDenied("Only an administrator can create a site.")
    with audited_change(actor, reason):
        site = Site(code=code, name=name, time_zone=time_zone, address=address)
        site.full_clean()
        site.save()
    return site


def update_site(site: Site, actor: AbstractBaseUser, *, reason: str, **changes) -> Site:
    """Change a site's name, time zone, address or active flag (its managers only).
    The code is fixed: it is part of every incident number already issued."""
    if "code" in changes and changes["code"] != site.code:
        # Superusers too: the code is in issued numbers, not a matter of permission.
        raise ValidationError({"code": SITE_CODE_FIXED})
    changes.pop("code", None)
    require_role(actor, site, MANAGE_ROLES)
    with audited_change(actor, reason):
        _apply_changes(site, changes, SITE_FIELDS)
    return site


def create_zone(
    site: Site, actor: AbstractBaseUser, *, name: str, reason: str, description: str = ""
) -> Zone:
    """Add a zone to a site (its managers only)."""
    require_role(actor, site, MANAGE_ROLES)
    with audited_change(actor, reason):
        zone = Zone(site=site, name=name, description=description)
        zone.full_clean()
        zone.save()
    return zone


def update_zone(zone: Zone, actor: AbstractBaseUser, *, reason: str, **changes) -> Zone:
    """Rename, describe or deactivate a zone (its site's managers only)."""
    require_role(actor, zone.site, MANAGE_ROLES)
    with audited_change(actor, reason):
        _apply_changes(zone, changes, ZONE_FIELDS)
    return zone


def grant_membership(
    site: Site, actor: AbstractBaseUser, *, user: AbstractBaseUser, role: str, reason: str
) -> Membership:
    """Give `user` a role at `site` (reactivating an ended membership if there is one)."""
    require_role(actor, site, MANAGE_ROLES)
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role ({', '.join(Role.values)})."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.get_username()} is deactivated."})
    with audited_change(actor, reason):
        membership = Membership.objects.filter(user=user, site=site, role=role).first()
        if membership is None:
            membership = Membership(user=user, site=site, role=role)
        elif membership.is_active:
            return membership
        membership.is_active = True
        membership.save()
    return membership


def end_membership(membership: Membership, actor: AbstractBaseUser, *, reason: str) -> Membership:
    """End a role at a site. The row stays, inactive, so history still shows who held it."""
    require_role(actor, membership.site, MANAGE_ROLES)
    with audited_change(actor, reason):
        membership.is_active = False
        membership.save()
    return membership
