"""Alarm priorities: duress > forced open > tamper > held open > everything else, unless a
site's managers set their own order (AlarmPriority, with a reason and history).

The priority is read live, not copied onto each alarm: a manager who raises "held open"
re-sorts the open alarms at once, and no alarm row changes (nothing to audit but the rule).
Lists get it as an annotation (`with_priority`), so sorting and filtering stay in the query.
"""

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from facility_log.models import AlarmPriority, AlarmPriorityLevel, EventType, Site
from facility_log.models.access import DEFAULT_ALARM_PRIORITIES, DEFAULT_OTHER_PRIORITY
from facility_log.models.incidents import Severity
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.audit import audited_change

# An incident opened from an alarm starts with this severity (a duress alarm never "Low").
SEVERITY_FOR_PRIORITY = {
    AlarmPriorityLevel.CRITICAL: Severity.CRITICAL,
    AlarmPriorityLevel.HIGH: Severity.HIGH,
    AlarmPriorityLevel.ELEVATED: Severity.MEDIUM,
    AlarmPriorityLevel.NORMAL: Severity.LOW,
    AlarmPriorityLevel.LOW: Severity.LOW,
}
PRIORITY_NAMES = {level.value: level.label for level in AlarmPriorityLevel}
# The console's colour per level (a CSS class), so the palette lives in app.css.
PRIORITY_CLASSES = {1: "p-critical", 2: "p-high", 3: "p-elevated", 4: "p-normal", 5: "p-low"}


def default_priority(event_type: str) -> int:
    return int(DEFAULT_ALARM_PRIORITIES.get(event_type, DEFAULT_OTHER_PRIORITY))


def site_priorities(site: Site) -> dict[str, int]:
    """Every event type's priority at `site`: the site's own rows over the defaults."""
    own = dict(AlarmPriority.objects.filter(site=site).values_list("event_type", "priority"))
    return {t: own.get(t, default_priority(t)) for t in EventType.values}


def priority_of(alarm) -> int:
    """One alarm's priority (the annotation when the list carries it)."""
    annotated = getattr(alarm, "priority", None)
    if annotated is not None:
        return annotated
    own = AlarmPriority.objects.filter(site_id=alarm.site_id, event_type=alarm.event_type)
    return own.values_list("priority", flat=True).first() or default_priority(alarm.event_type)


def priority_lookup(
    site_ids: list[int], rows: list[AlarmPriority] | None = None
) -> Callable[[int, str], int]:
    """`priority(site_id, event_type)` in Python, exactly as `priority_expression` computes it
    in SQL (the sites' own rows, then the defaults by type). One query reads the rows (none
    when the caller read the sites' `rows` already)."""
    if rows is None:
        # Unordered: the model's ordering (by site code) would join and sort the sites.
        rows = AlarmPriority.objects.filter(site_id__in=site_ids).order_by()
    own = {(row.site_id, row.event_type): row.priority for row in rows}

    def priority(site_id: int, event_type: str) -> int:
        found = own.get((site_id, event_type))
        return int(found) if found is not None else default_priority(event_type)

    return priority


def priority_expression(site_ids: list[int] | None = None) -> Case:
    """`priority` as SQL: the sites' own rows first (one WHEN each; a site has at most one per
    type), then the defaults by type. One extra query reads the sites' rows."""
    rows = AlarmPriority.objects.all()
    if site_ids is not None:
        rows = rows.filter(site_id__in=site_ids)
    whens = [
        When(Q(site_id=site_id, event_type=event_type), then=Value(priority))
        for site_id, event_type, priority in rows.values_list("site_id", "event_type", "priority")
    ]
    whens += [
        When(event_type=event_type, then=Value(int(level)))
        for event_type, level in DEFAULT_ALARM_PRIORITIES.items()
    ]
    return Case(*whens, default=Value(int(DEFAULT_OTHER_PRIORITY)), output_field=IntegerField())


def with_priority(alarms: QuerySet, site_ids: list[int] | None = None) -> QuerySet:
    """The alarms annotated with `priority` (1 = most urgent)."""
    return alarms.annotate(priority=priority_expression(site_ids))


def severity_for(alarm) -> str:
    """The severity an incident opened from `alarm` starts with."""
    return SEVERITY_FOR_PRIORITY[AlarmPriorityLevel(priority_of(alarm))]


def set_alarm_priority(
    site: Site, actor: AbstractBaseUser, *, event_type: str, priority: int, reason: str
) -> AlarmPriority:
    """A site's managers set the priority of one alarm type, with the reason why."""
    require_role(actor, site, MANAGE_ROLES)
    if event_type not in EventType.values:
        raise ValidationError({"event_type": f"{event_type!r} is not an event type."})
    if priority not in AlarmPriorityLevel.values:
        raise ValidationError({"priority": "Choose a priority from 1 (critical) to 5 (low)."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the priority changes."})
    with audited_change(actor, f"alarm priority: {reason.strip()}"):
        row = AlarmPriority.objects.filter(site=site, event_type=event_type).first()
        row = row or AlarmPriority(site=site, event_type=event_type)
        row.priority = priority
        row.full_clean(validate_constraints=False)
        row.save()
    return row
