"""What every part of guard rounds shares: the settings knobs, the idempotency error, who may
walk a round, and the refusal of device times outside the plausible window."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from facility_log.models import Site
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, has_role, require_role
from facility_log.services.times import PLAUSIBLE_PAST

DEFAULTS = {
    "ROUNDS_MIN_WALK_SECONDS": 20,
    "ROUNDS_CLOCK_DRIFT_SECONDS": 120,
    "ROUNDS_DEFAULT_GRACE_MINUTES": 5,
    "ROUNDS_OVERDUE_MINUTES": 30,
    "ROUNDS_LOOKBACK_HOURS": 48,
}


class IdempotencyConflict(Exception):
    """The client UUID was used before for a different record (the API answers 422)."""


def knob(name: str) -> int:
    """A rounds setting from FACILITY_LOG, with its documented default."""
    return int(settings.FACILITY_LOG.get(name, DEFAULTS[name]))


def save_validated(instance) -> None:
    instance.full_clean()
    instance.save()


def check_may_walk(actor: AbstractBaseUser, site: Site, guard: AbstractBaseUser) -> None:
    """Refuse unless `actor` may walk rounds at `site` for `guard` (a supervisor may record
    for a guard of the site; a guard only for themself)."""
    require_role(actor, site, REPORT_ROLES)
    if guard != actor:
        require_role(actor, site, REVIEW_ROLES)
        if not has_role(guard, site, REPORT_ROLES):
            raise ValidationError({"guard": f"{guard.get_username()} holds no role here."})


def refuse_implausible_time(value: datetime, field: str, *, ahead: timedelta | None = None) -> None:
    """Refuse a device time outside the plausible window, naming `field`: in the future beyond
    `ahead` (by default the allowed clock drift), or more than PLAUSIBLE_PAST ago (a reset
    clock or a typo; services/times.py)."""
    now = timezone.now()
    if ahead is None:
        ahead = timedelta(seconds=knob("ROUNDS_CLOCK_DRIFT_SECONDS"))
    if value > now + ahead:
        raise ValidationError({field: gettext("This time is in the future.")})
    if value < now - PLAUSIBLE_PAST:
        raise ValidationError(
            {field: "This time is more than ten years ago (a reset clock or a typo?)."}
        )
