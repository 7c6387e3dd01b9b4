"""Access events: doors, vendor mappings, alarm rules, checking incoming rows, and alarms.

Storing checked rows (the import's write path: staging, ON CONFLICT, batches, ledger) is in
services/access_ingest.py. Idempotent on (site, source, external id): sending the same events
again adds nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from facility_log.models import (
    Alarm,
    AlarmRule,
    AlarmState,
    DenialReason,
    Direction,
    Door,
    DoorExternalId,
    EventType,
    Site,
    SourceFormat,
    WebhookSecret,
    Zone,
)
from facility_log.models.access import DEFAULT_ALARM_TYPES
from facility_log.scoping import MANAGE_ROLES, REVIEW_ROLES, require_role
from facility_log.services.access_formats import Incoming, TimeRefused, parse_time
from facility_log.services.access_mapping import (  # noqa: F401 (re-exported)
    Mapper,
    ensure_vendor_mappings,
    unmapped_vendor_types,
)
from facility_log.services.audit import audited_change
from facility_log.services.credentials import credential_key, pseudonymiser

# Enum `.values` is rebuilt on every access; rows are checked against these sets instead.
# A missed check-in is raised by the lone-worker check, never reported by a door.
EVENT_TYPES = frozenset(EventType.values) - {EventType.MISSED_CHECK_IN}
DENIAL_REASONS = frozenset(DenialReason.values)
DIRECTIONS = frozenset(Direction.values)
DEFAULT_ESCALATE_MINUTES = 10
# Events are searched by cardholder at one site at a time (pages and API alike): nothing
# follows a person's movements across sites (PRIVACY.md).
CARDHOLDER_NEEDS_SITE = (
    "Choose one site: a cardholder is searched at one site at a time, never across sites."
)

# --- results and errors -------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One bad row: where (line or item number, column) and why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class IngestRefused(ValidationError):
    """The input had bad rows; nothing was stored. `errors` names every one."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])


def describe_skipped(skipped: dict[str, int]) -> str:
    """One line for people: how many events were skipped, from which sources."""
    if not skipped:
        return ""
    sources = ", ".join(f"{name} ({count})" for name, count in sorted(skipped.items()))
    return f"{sum(skipped.values())} event(s) skipped from sources that are not doors: {sources}."


@dataclass(frozen=True)
class Skipped:
    """A row from a source that is no door (a workstation, a controller, an operator)."""

    source: str


# --- mappings, doors, rules ------------------------------------------------------------------


def create_door(
    site: Site, actor: AbstractBaseUser, *, zone: Zone, code: str, name: str, reason: str
) -> Door:
    """Add a door to a site (its managers only)."""
    require_role(actor, site, MANAGE_ROLES)
    if zone.site_id != site.pk:
        raise ValidationError({"zone": "The zone belongs to another site."})
    with audited_change(actor, reason):
        door = Door(site=site, zone=zone, code=code, name=name)
        door.full_clean()
        door.save()
    return door


def add_door_external_id(
    door: Door, actor: AbstractBaseUser, *, source: str, external_id: str, reason: str
) -> DoorExternalId:
    """Record the id a source system uses for a door."""
    require_role(actor, door.site, MANAGE_ROLES)
    with audited_change(actor, reason):
        link = DoorExternalId(site=door.site, door=door, source=source, external_id=external_id)
        link.full_clean()
        link.save()
    return link


def set_webhook_secret(
    site: Site, actor: AbstractBaseUser, *, secret: str, reason: str, source: str = "kisi"
) -> WebhookSecret:
    """Configure (or replace) the secret a site's webhook bodies must be signed with."""
    require_role(actor, site, MANAGE_ROLES)
    with audited_change(actor, reason):
        record = WebhookSecret.objects.filter(site=site, source=source).first()
        record = record or WebhookSecret(site=site, source=source)
        record.secret, record.is_active = secret, True
        record.full_clean()
        record.save()
    return record


def set_alarm_rule(
    site: Site,
    actor: AbstractBaseUser,
    *,
    event_type: str,
    reason: str,
    door: Door | None = None,
    is_active: bool = True,
    escalate_after_minutes: int = DEFAULT_ESCALATE_MINUTES,
    held_open_seconds: int | None = None,
) -> AlarmRule:
    """Switch an alarm type on or off for one door or the whole site, and set when an
    unacknowledged alarm escalates."""
    require_role(actor, site, MANAGE_ROLES)
    with audited_change(actor, reason):
        rule = AlarmRule.objects.filter(site=site, door=door, event_type=event_type).first()
        rule = rule or AlarmRule(site=site, door=door, event_type=event_type)
        rule.is_active, rule.escalate_after_minutes = is_active, escalate_after_minutes
        rule.held_open_seconds = held_open_seconds
        rule.full_clean(validate_constraints=False)
        rule.save()
    return rule


class AlarmRules:
    """The site's rules resolved once per ingestion: door rule, else site rule, else default."""

    def __init__(self, site: Site):
        self.rules = {(r.door_id, r.event_type): r for r in AlarmRule.objects.filter(site=site)}

    def event_types(self) -> set[str]:
        """Every type that can raise an alarm at this site."""
        switched_on = {t for (_door, t), rule in self.rules.items() if rule.is_active}
        return set(DEFAULT_ALARM_TYPES) | switched_on

    def minutes_for(self, door_id: int, event_type: str) -> int | None:
        """Escalation minutes when this event raises an alarm, None when it does not."""
        rule = self.rules.get((door_id, event_type)) or self.rules.get((None, event_type))
        if rule is not None:
            return rule.escalate_after_minutes if rule.is_active else None
        return DEFAULT_ESCALATE_MINUTES if event_type in DEFAULT_ALARM_TYPES else None


# --- checking rows -----------------------------------------------------------------------------


class _Checker:
    """Checks rows against one site's doors and one vendor's mapping."""

    def __init__(self, site: Site, vendor: str, site_time: bool = False):
        self.site = site
        self.doors = {d.code: d.pk for d in Door.objects.filter(site=site, is_active=True)}
        self.external = {
            (x.source, x.external_id): x.door_id
            for x in DoorExternalId.objects.filter(site=site, door__is_active=True)
        }
        self.mapper = Mapper(site, vendor)
        # Times without an offset are read in the site's zone only when the caller says so.
        self.zone = site.tzinfo if site_time else None
        # One clock reading per input: the plausible window is the same for every row.
        self.now = timezone.now()
        self.pseudonymise = pseudonymiser(credential_key())
        self._mapped_reason = ""

    def check(self, row: Incoming) -> tuple | list[RowError] | Skipped:
        if row.vendor == SourceFormat.GENERIC:
            checked = self._good_generic(row)
            if checked is not None:
                return checked
        errors: list[RowError] = []

        def bad(name: str, message: str) -> None:
            errors.append(RowError(row.line, row.column(name), message))

        if self._not_a_door(row):
            return Skipped(row.source_name or row.door or "(no source)")

        for name in ("source", "external_id", "occurred_at", "door"):
            if not getattr(row, name):
                bad(name, "is required")
        if len(row.source) > 64 or len(row.external_id) > 128:
            bad("external_id" if len(row.external_id) > 128 else "source", "is too long")
        occurred_at = self._time(row, bad) if row.occurred_at else None
        door_id = self._door(row, bad) if row.door else None
        event_type, vendor_type = self._type(row, bad)
        reason = self._reason(row, event_type, bad)
        if row.direction and row.direction not in DIRECTIONS:
            bad("direction", f"{row.direction!r} is not in, out or empty")
        if len(row.cardholder) > 200:
            bad("cardholder", "is longer than 200 characters")
        if errors:
            return errors
        credential_hash, hint = self.pseudonymise(row.credential)
        return (
            row.source,
            row.external_id,
            event_type,
            reason,
            vendor_type,
            occurred_at,
            door_id,
            row.direction,
            row.cardholder,
            credential_hash,
            hint,
        )

    def _good_generic(self, row: Incoming) -> tuple | None:
        """`check` of a generic row in one step when nothing is wrong with it; None sends it
        through the full check, which names every fault. (This runs once per imported row:
        the full check's helper calls cost as much as the rest of the import's Python.)"""
        source, external_id, door = row.source, row.external_id, row.door
        event_type = row.event_type
        if (
            not (source and external_id and row.occurred_at and door)
            or len(source) > 64
            or len(external_id) > 128
            or len(row.cardholder) > 200
            or event_type not in EVENT_TYPES
            or (row.direction and row.direction not in DIRECTIONS)
        ):
            return None
        reason = row.reason if row.reason and event_type == EventType.DENIED else ""
        if reason and reason not in DENIAL_REASONS:
            return None
        door_id = self.external.get((source, door)) or self.doors.get(door)
        if door_id is None:
            return None
        try:
            occurred_at = parse_time(row.occurred_at, epoch=row.epoch, zone=self.zone, now=self.now)
        except TimeRefused:
            return None
        credential_hash, hint = self.pseudonymise(row.credential)
        return (
            source,
            external_id,
            event_type,
            reason,
            "",
            occurred_at,
            door_id,
            row.direction,
            row.cardholder,
            credential_hash,
            hint,
        )

    def _time(self, row: Incoming, bad) -> datetime | None:
        try:
            return parse_time(row.occurred_at, epoch=row.epoch, zone=self.zone, now=self.now)
        except TimeRefused as refused:
            bad("occurred_at", str(refused))
            return None

    def _not_a_door(self, row: Incoming) -> bool:
        """An event from a source that is no door of the site and whose type concerns no door
        (a workstation logon, a controller restarting): counted and skipped, not refused."""
        if row.vendor == SourceFormat.GENERIC:
            return False
        known = self.external.get((row.source, row.door)) or self.doors.get(row.door)
        return known is None and not self.mapper.concerns_a_door(row)

    def _door(self, row: Incoming, bad) -> int | None:
        door_id = self.external.get((row.source, row.door)) or self.doors.get(row.door)
        if door_id is None:
            bad("door", f"site {self.site.code} has no door {row.door!r}")
        return door_id

    def _type(self, row: Incoming, bad) -> tuple[str, str]:
        if row.vendor == SourceFormat.GENERIC:
            if row.event_type not in EVENT_TYPES:
                bad("event_type", f"{row.event_type!r} is not a neutral event type")
            return row.event_type, ""
        if not row.vendor_type:
            bad("vendor_type", "is required")
        mapped = self.mapper.resolve(row)
        self._mapped_reason = mapped.reason
        return mapped.event_type, row.vendor_type

    def _reason(self, row: Incoming, event_type: str, bad) -> str:
        if row.vendor != SourceFormat.GENERIC and self._mapped_reason:
            return self._mapped_reason
        if not row.reason or event_type != EventType.DENIED:
            return ""
        if row.reason in DENIAL_REASONS:
            return row.reason
        if row.vendor == SourceFormat.GENERIC:
            bad("reason", f"{row.reason!r} is not a denial reason")
        return ""


# --- alarms --------------------------------------------------------------------------------------


def acknowledge_alarm(alarm: Alarm, actor: AbstractBaseUser, *, note: str) -> Alarm:
    """Someone has seen the alarm and is responding: recorded with who, when and the note."""
    require_role(actor, alarm.site, REVIEW_ROLES)
    if alarm.state != AlarmState.NEW:
        raise ValidationError({"state": f"The alarm is already {alarm.state}."})
    if not note.strip():
        raise ValidationError({"note": "Say what is being done about the alarm."})
    with audited_change(actor, f"alarm acknowledged: {note.strip()}"):
        alarm.state = AlarmState.ACKNOWLEDGED
        alarm.acknowledged_by, alarm.acknowledged_at = actor, timezone.now()
        alarm.acknowledge_note = note.strip()
        alarm.save()
    return alarm


def acknowledge_alarms(alarms: list[Alarm], actor: AbstractBaseUser, *, note: str) -> list[Alarm]:
    """Acknowledge several alarms with one note, all or none: one that is not new any more (or
    of a site where the actor does not review) refuses the whole step, naming it."""
    if not alarms:
        raise ValidationError({"alarms": "Choose at least one alarm."})
    if not note.strip():
        raise ValidationError({"note": "Say what is being done about the alarms."})
    for alarm in alarms:
        require_role(actor, alarm.site, REVIEW_ROLES)
    done = [a for a in alarms if a.state != AlarmState.NEW]
    if done:
        named = ", ".join(f"#{a.pk} ({a.state})" for a in done)
        raise ValidationError({"state": f"Not new any more: {named}. Nothing was acknowledged."})
    with audited_change(actor, f"alarms acknowledged together: {note.strip()}"):
        # In (site, type) order, the order every writer changes the open-alarm counts in
        # (migration 0032): two writers never wait for each other's count in turn.
        for alarm in sorted(alarms, key=lambda a: (a.site_id, a.event_type, a.pk)):
            acknowledge_alarm(alarm, actor, note=note)
    return alarms


def resolve_alarm(alarm: Alarm, actor: AbstractBaseUser, *, note: str) -> Alarm:
    """Close the alarm with the response note (a new alarm is acknowledged on the way)."""
    require_role(actor, alarm.site, REVIEW_ROLES)
    if alarm.state == AlarmState.RESOLVED:
        raise ValidationError({"state": "The alarm is already resolved."})
    if not note.strip():
        raise ValidationError({"note": "Say how the alarm was resolved."})
    now = timezone.now()
    with audited_change(actor, f"alarm resolved: {note.strip()}"):
        if alarm.state == AlarmState.NEW:
            alarm.acknowledged_by, alarm.acknowledged_at = actor, now
        alarm.state = AlarmState.RESOLVED
        alarm.resolved_by, alarm.resolved_at = actor, now
        alarm.resolution_note = note.strip()
        alarm.save()
    return alarm


def alarms_to_escalate(now: datetime | None = None) -> list[Alarm]:
    """New alarms older than their escalation delay that have not been escalated yet."""
    now = now or timezone.now()
    candidates = Alarm.objects.filter(state=AlarmState.NEW, escalated_at__isnull=True)
    candidates = candidates.select_related(
        "site", "door", "panic__last_checkpoint", "missed_check_in__shift__guard"
    )
    return [
        alarm
        for alarm in candidates.order_by("raised_at")
        if alarm.raised_at + timedelta(minutes=alarm.escalate_after_minutes) <= now
    ]


def mark_escalated(alarm: Alarm, actor: AbstractBaseUser, *, recipients: list[str]) -> bool:
    """Record that the alarm was escalated (so it never is again); False when another run (a
    second worker, a manual `check_alarms` beside the scheduled one) got there first."""
    with audited_change(actor, f"alarm escalated by email to {', '.join(recipients) or 'nobody'}"):
        current = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if current.escalated_at is not None:
            return False
        current.escalated_at = timezone.now()
        current.save()
    alarm.escalated_at = current.escalated_at
    return True


def escalation_recipients(site: Site) -> list[str]:
    """Email addresses of the site's active supervisors and managers."""
    from facility_log.models import Membership

    members = Membership.objects.filter(
        site=site, is_active=True, role__in=REVIEW_ROLES, user__is_active=True
    ).exclude(user__email="")
    return sorted(set(members.values_list("user__email", flat=True)))


def escalate_alarm(alarm: Alarm, actor: AbstractBaseUser) -> list[str] | None:
    """Tell the site's supervisors and managers about an alarm nobody acknowledged, once (in
    the app, and by email to those who have an address and want it); returns the addresses
    emailed, or None when a concurrent run had escalated it already. The alarm is marked
    escalated in the same transaction as the notices."""
    from facility_log.services import notifications

    with audited_change(actor, "alarm not acknowledged in time"):
        if not mark_escalated(alarm, actor, recipients=escalation_recipients(alarm.site)):
            return None
        notices = notifications.alarm_unacknowledged(alarm)
        recipients = sorted(notice.emailed_to for notice in notices if notice.emailed_to)
    return recipients
