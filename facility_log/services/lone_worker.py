"""Lone-worker check-ins: while a guard is the only one on duty at a site (the only open
shift there) and the site's managers have the rule on, the tablet asks "I'm OK" every
interval; a check-in not made within the grace period after it was due raises one alarm of
high priority (services/alarm_priorities.py), and supervisors and managers are told at once.

What a check-in records is its time and its shift, nothing else (PRIVACY.md): no position, no
checkpoint, no device. The missed check-in's alarm says who has not checked in since when.

When a check-in is due. From the guard's last sign of life the rule counts from, `since`:
the latest of the shift's start, the rule's last change, the moment the guard came to be
alone (another guard's shift at the site ended) and the last check-in. The next check-in is
due one interval after `since` or, once one was missed, one interval after the missed one's
due time: a guard who never answers raises one alarm per interval, each exactly once (a
MissedCheckIn row per shift and due time, a unique constraint holding it).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.models import (
    Alarm,
    CheckIn,
    EventType,
    LoneWorkerPolicy,
    MissedCheckIn,
    Shift,
    Site,
)
from facility_log.scoping import MANAGE_ROLES, REPORT_ROLES, require_role
from facility_log.services import notifications
from facility_log.services.access import DEFAULT_ESCALATE_MINUTES, AlarmRules
from facility_log.services.audit import audited_change
from facility_log.services.rounds import IdempotencyConflict

# A tablet's clock a little ahead of the server's is normal; a check-in further ahead would
# put the next one due later than it should be, so it is refused.
CLOCK_AHEAD = timedelta(minutes=5)
MIN_INTERVAL, MAX_INTERVAL = 5, 480
MIN_GRACE, MAX_GRACE = 1, 60


# --- the site's rule ---------------------------------------------------------------------


def policy_for(site: Site) -> LoneWorkerPolicy | None:
    """The site's lone-worker rule, if its managers ever set one (none: the rule is off)."""
    return LoneWorkerPolicy.objects.filter(site=site).first()


def _check_policy_values(interval_minutes: int, grace_minutes: int, reason: str) -> None:
    errors = {}
    if not MIN_INTERVAL <= interval_minutes <= MAX_INTERVAL:
        errors["interval_minutes"] = _("Ask every %(low)s to %(high)s minutes (got %(got)s).") % {
            "low": MIN_INTERVAL,
            "high": MAX_INTERVAL,
            "got": interval_minutes,
        }
    if not MIN_GRACE <= grace_minutes <= MAX_GRACE:
        errors["grace_minutes"] = _("Allow %(low)s to %(high)s minutes of grace.") % {
            "low": MIN_GRACE,
            "high": MAX_GRACE,
        }
    elif grace_minutes >= interval_minutes:
        errors["grace_minutes"] = _("The grace period must be shorter than the interval.")
    if not reason.strip():
        errors["reason"] = _("Say why the rule changes; it is kept in the history.")
    if errors:
        raise ValidationError(errors)


def set_lone_worker_policy(
    site: Site,
    actor: AbstractBaseUser,
    *,
    enabled: bool,
    interval_minutes: int,
    grace_minutes: int,
    reason: str,
) -> LoneWorkerPolicy:
    """A site's managers turn the lone-worker rule on or off and set its interval and grace
    period, with the reason why (a history row). No check-in is due from before the change."""
    require_role(actor, site, MANAGE_ROLES)
    _check_policy_values(interval_minutes, grace_minutes, reason)
    with audited_change(actor, f"lone-worker rule: {reason.strip()}"):
        policy = policy_for(site) or LoneWorkerPolicy(site=site)
        policy.enabled = enabled
        policy.interval_minutes = interval_minutes
        policy.grace_minutes = grace_minutes
        policy.changed_at = timezone.now()
        policy.save()
    return policy


# --- the guard's check-in ----------------------------------------------------------------


def _same_check_in(existing: CheckIn, shift: Shift, checked_in_at: datetime) -> CheckIn:
    if (existing.shift_id, existing.checked_in_at) != (shift.pk, checked_in_at):
        raise IdempotencyConflict(
            _("This client_uuid was used for another check-in (shift or time differ).")
        )
    return existing


def _check_time(shift: Shift, checked_in_at: datetime) -> None:
    if checked_in_at < shift.started_at:
        raise ValidationError({"checked_in_at": _("Before the shift started.")})
    if shift.ended_at is not None and checked_in_at > shift.ended_at:
        raise ValidationError({"checked_in_at": _("After the shift ended.")})
    if checked_in_at > timezone.now() + CLOCK_AHEAD:
        raise ValidationError({"checked_in_at": _("In the future: is the tablet's clock right?")})


def record_check_in(
    actor: AbstractBaseUser, *, shift: Shift, client_uuid: uuid.UUID, checked_in_at: datetime
) -> tuple[CheckIn, bool]:
    """Record the guard's "I'm OK" in `shift` (the shift's own guard only); `(check_in,
    created)`. Sent again with the same client_uuid, the same check-in is answered."""
    require_role(actor, shift.site, REPORT_ROLES)
    if shift.guard_id != actor.pk:
        raise PermissionDenied(_("Only the shift's own guard checks in."))
    existing = CheckIn.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _same_check_in(existing, shift, checked_in_at), False
    _check_time(shift, checked_in_at)
    try:
        with audited_change(actor, "lone-worker check-in"):
            check_in = CheckIn.objects.create(
                shift=shift, client_uuid=client_uuid, checked_in_at=checked_in_at
            )
    except IntegrityError:
        # Two sends of the same check-in crossed: the first one won.
        existing = CheckIn.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _same_check_in(existing, shift, checked_in_at), False
    return check_in, True


# --- which check-ins are due, and the missed ones' alarms ----------------------------------


@dataclass(frozen=True)
class DueCheckIn:
    """The next check-in of a lone guard's shift: due at `due_at`, counted from `since`."""

    shift: Shift
    policy: LoneWorkerPolicy
    since: datetime
    due_at: datetime

    @property
    def missed_after(self) -> datetime:
        return self.due_at + timedelta(minutes=self.policy.grace_minutes)


def _lone_shifts() -> list[Shift]:
    """Open shifts at sites with the rule on, where that shift is the only open one; each
    annotated with the times its next check-in counts from (one query)."""
    open_here = Shift.objects.filter(site=OuterRef("site"), ended_at__isnull=True)
    others_ended = (
        Shift.objects.filter(site=OuterRef("site"), ended_at__gt=OuterRef("started_at"))
        .exclude(pk=OuterRef("pk"))
        .order_by("-ended_at")
        .values("ended_at")[:1]
    )
    last_check_in = CheckIn.objects.filter(shift=OuterRef("pk")).order_by("-checked_in_at")
    last_missed = MissedCheckIn.objects.filter(shift=OuterRef("pk")).order_by("-due_at")
    shifts = (
        Shift.objects.filter(ended_at__isnull=True, site__lone_worker_policy__enabled=True)
        .select_related("site__lone_worker_policy", "guard")
        .annotate(
            guards_on_duty=Subquery(
                open_here.order_by().values("site").annotate(n=Count("pk")).values("n")[:1]
            ),
            alone_since=Subquery(others_ended),
            last_check_in=Subquery(last_check_in.values("checked_in_at")[:1]),
            last_missed_due=Subquery(last_missed.values("due_at")[:1]),
        )
        .order_by("site_id", "pk")
    )
    return [shift for shift in shifts if shift.guards_on_duty == 1]


def next_check_in(shift: Shift) -> DueCheckIn:
    """When the lone guard of `shift` (annotated by `_lone_shifts`) must check in next."""
    policy = shift.site.lone_worker_policy
    signs = [shift.started_at, policy.changed_at, shift.alone_since, shift.last_check_in]
    since = max(t for t in signs if t is not None)
    counted_from = max(since, shift.last_missed_due or since)
    due_at = counted_from + timedelta(minutes=policy.interval_minutes)
    return DueCheckIn(shift=shift, policy=policy, since=since, due_at=due_at)


def due_check_ins() -> list[DueCheckIn]:
    """The next check-in of every guard working alone under a site's rule."""
    return [next_check_in(shift) for shift in _lone_shifts()]


def _raise_missed(actor: AbstractBaseUser, due: DueCheckIn) -> Alarm | None:
    site = due.shift.site
    minutes = AlarmRules(site).minutes_for(None, EventType.MISSED_CHECK_IN)
    try:
        with audited_change(actor, "lone worker missed a check-in"):
            missed = MissedCheckIn.objects.create(
                shift=due.shift, since=due.since, due_at=due.due_at
            )
            alarm = Alarm(
                site=site,
                missed_check_in=missed,
                event_type=EventType.MISSED_CHECK_IN,
                raised_at=timezone.now(),
                escalate_after_minutes=minutes or DEFAULT_ESCALATE_MINUTES,
            )
            alarm.save()
    except IntegrityError:
        # A run beside this one recorded it first: still one alarm.
        if MissedCheckIn.objects.filter(shift=due.shift, due_at=due.due_at).exists():
            return None
        raise
    return alarm


def raise_missed_check_ins(actor: AbstractBaseUser, now: datetime | None = None) -> list[Alarm]:
    """Raise one alarm for each check-in now missed (due + grace passed, none made) and tell
    each site's supervisors and managers at once; a second run finds nothing new."""
    now = now or timezone.now()
    raised = [
        alarm
        for due in due_check_ins()
        if due.missed_after <= now
        for alarm in [_raise_missed(actor, due)]
        if alarm is not None
    ]
    by_site = defaultdict(list)
    for alarm in raised:
        by_site[alarm.site].append(alarm)
    for site, alarms in by_site.items():
        with audited_change(actor, "missed check-ins noticed"):
            notifications.urgent_alarms(site, alarms)
    return raised
