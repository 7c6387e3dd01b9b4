"""Access events: the one ingestion path (file, batch API, webhook), doors, and alarms.

Ingestion runs in two passes so that a bad line leaves no trace and memory stays flat:

1. read and check every row (door known, time with offset, type in the vocabulary, …),
   collecting every error with its line and column, dropping rows already stored or repeated
   in the input, and spooling the good new rows to a temporary file in chunks;
2. only if no row failed: one transaction writes the batch record, the events with
   `bulk_create` in chunks (events are append-only, so no history row is owed), and one
   alarm per event that matches an alarm rule.

Idempotent on (site, source, external id): sending the same events again adds nothing.
"""

import csv
import pickle
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from facility_log.models import (
    AccessEvent,
    Alarm,
    AlarmRule,
    AlarmState,
    DenialReason,
    Direction,
    Door,
    DoorExternalId,
    EventType,
    ImportBatch,
    Site,
    SourceFormat,
    VendorTypeMapping,
    WebhookSecret,
    Zone,
)
from facility_log.models.access import DEFAULT_ALARM_TYPES
from facility_log.scoping import INGEST_ROLES, MANAGE_ROLES, REVIEW_ROLES, require_role
from facility_log.services import ledger
from facility_log.services.access_formats import FormatError, Incoming
from facility_log.services.audit import audited_change, create_in_bulk, current_request_id
from facility_log.services.credentials import credential_key, pseudonymise

CHUNK_SIZE = 2000
# Enum `.values` is rebuilt on every access; rows are checked against these sets instead.
EVENT_TYPES = frozenset(EventType.values)
DENIAL_REASONS = frozenset(DenialReason.values)
DIRECTIONS = frozenset(Direction.values)
DEFAULT_ESCALATE_MINUTES = 10
# Events are searched by cardholder at one site at a time (pages and API alike): nothing
# follows a person's movements across sites (PRIVACY.md).
CARDHOLDER_NEEDS_SITE = (
    "Choose one site: a cardholder is searched at one site at a time, never across sites."
)

# Gallagher and Kisi types named in the samples' README; administrators extend the table.
DEFAULT_MAPPINGS = {
    SourceFormat.GALLAGHER: {
        "Access Granted": EventType.GRANTED,
        "Access Denied": EventType.DENIED,
        "Door Forced Open": EventType.FORCED_OPEN,
        "Door Open Too Long": EventType.HELD_OPEN,
        "Door Opened": EventType.DOOR_OPENED,
        "Request To Exit": EventType.REX,
        "Reader Tamper": EventType.TAMPER,
        "Controller Offline": EventType.OFFLINE,
        "Controller Online": EventType.ONLINE,
        "Duress": EventType.DURESS,
    },
    SourceFormat.KISI: {"lock.unlock": (EventType.GRANTED, EventType.DENIED)},
}


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


@dataclass
class IngestResult:
    """What one accepted ingestion call did."""

    batch: ImportBatch | None
    total: int = 0
    created: int = 0
    duplicates: int = 0
    alarms: int = 0
    statuses: list[str] = field(default_factory=list)


# --- mappings, doors, rules ------------------------------------------------------------------


def ensure_vendor_mappings(vendor: str, actor: AbstractBaseUser | None = None) -> None:
    """Seed the default mappings of a vendor once (when it has no row at all yet)."""
    if vendor not in DEFAULT_MAPPINGS or VendorTypeMapping.objects.filter(vendor=vendor).exists():
        return
    from facility_log.services.accounts import system_actor

    with audited_change(actor or system_actor(), f"default {vendor} type mappings"):
        for vendor_type, neutral in DEFAULT_MAPPINGS[vendor].items():
            success, failed = neutral if isinstance(neutral, tuple) else (neutral, "")
            # get_or_create: two first webhooks arriving together must not collide.
            VendorTypeMapping.objects.get_or_create(
                vendor=vendor,
                vendor_type=vendor_type,
                defaults={"neutral_type": success, "neutral_type_if_failed": failed},
            )


def vendor_mapping(vendor: str) -> dict[str, tuple[str, str]]:
    """vendor type → (neutral type, neutral type when the vendor flags failure)."""
    if vendor == SourceFormat.GENERIC:
        return {}
    ensure_vendor_mappings(vendor)
    rows = VendorTypeMapping.objects.filter(vendor=vendor, is_active=True)
    return {m.vendor_type: (m.neutral_type, m.neutral_type_if_failed) for m in rows}


def unmapped_vendor_types(sites) -> list[dict]:
    """Vendor types stored as `other` at these sites, with how many events each: the list an
    administrator maps from (VendorTypeMapping in the admin)."""
    from django.db.models import Count

    return list(
        AccessEvent.objects.filter(site__in=sites, event_type=EventType.OTHER)
        .exclude(vendor_type="")
        .values("source", "vendor_type")
        # COUNT(*), not of the id: read from the partial index of `other` events alone
        # (access_event_unmapped) without visiting the table.
        .annotate(events=Count("*"))
        .order_by("source", "vendor_type")
    )


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

    def __init__(self, site: Site, vendor: str):
        self.site = site
        self.doors = {d.code: d.pk for d in Door.objects.filter(site=site, is_active=True)}
        self.external = {
            (x.source, x.external_id): x.door_id
            for x in DoorExternalId.objects.filter(site=site, door__is_active=True)
        }
        self.mapping = vendor_mapping(vendor)
        self.key = credential_key()

    def check(self, row: Incoming) -> tuple | list[RowError]:
        errors: list[RowError] = []

        def bad(name: str, message: str) -> None:
            errors.append(RowError(row.line, row.column(name), message))

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
        credential_hash, hint = pseudonymise(row.credential, self.key)
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

    def _time(self, row: Incoming, bad) -> datetime | None:
        try:
            value = datetime.fromisoformat(row.occurred_at)
        except ValueError:
            bad("occurred_at", f"{row.occurred_at!r} is not an ISO 8601 date and time")
            return None
        if value.tzinfo is None:
            bad("occurred_at", f"{row.occurred_at!r} has no offset or Z")
            return None
        return value

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
        success, failed = self.mapping.get(row.vendor_type, (EventType.OTHER, ""))
        return (failed or success) if row.failed else success, row.vendor_type

    def _reason(self, row: Incoming, event_type: str, bad) -> str:
        if not row.reason or event_type != EventType.DENIED:
            return ""
        if row.reason in DENIAL_REASONS:
            return row.reason
        if row.vendor == SourceFormat.GENERIC:
            bad("reason", f"{row.reason!r} is not a denial reason")
        return ""


# --- the two passes ----------------------------------------------------------------------------


class _Spool:
    """Good new rows, pickled to a temporary file chunk by chunk (flat memory)."""

    def __init__(self):
        # Closed by ingest_events once both passes are done.
        self.file = tempfile.TemporaryFile()  # noqa: SIM115

    def add(self, rows: list[tuple]) -> None:
        pickle.dump(rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def chunks(self):
        self.file.seek(0)
        while True:
            try:
                # Our own temporary file, written a moment ago by this process: trusted.
                yield pickle.load(self.file)  # noqa: S301
            except EOFError:
                return


@dataclass
class _Pass1:
    total: int = 0
    new: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


def _existing_keys(site: Site, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    found = set()
    for source, ids in by_source.items():
        found.update(
            AccessEvent.objects.filter(site=site, source=source, external_id__in=ids).values_list(
                "source", "external_id"
            )
        )
    return found


def _flush(site, chunk, seen, spool, result: _Pass1, collect: bool) -> None:
    """Drop rows already stored or already seen in this input; spool the rest."""
    stored = _existing_keys(site, [(r[0], r[1]) for _i, r in chunk])
    fresh = []
    for index, row in chunk:
        duplicate = (row[0], row[1]) in stored
        # One string per key (not a tuple of two): the only thing kept per row in memory.
        key = f"{row[0]}\x1f{row[1]}"
        duplicate = duplicate or key in seen
        seen.add(key)
        if collect:
            result.statuses[index] = "duplicate" if duplicate else "created"
        if duplicate:
            result.duplicates += 1
        else:
            fresh.append(row)
    result.new += len(fresh)
    if fresh:
        spool.add(fresh)


def _first_pass(site, rows, checker, spool, collect, progress, every) -> _Pass1:
    result = _Pass1()
    seen: set[str] = set()
    chunk: list[tuple[int, tuple]] = []
    try:
        for row in rows:
            index = result.total
            result.total += 1
            if collect:
                result.statuses.append("error")
            checked = checker.check(row)
            if isinstance(checked, list):
                result.errors.extend(checked)
            elif not result.errors:
                chunk.append((index, checked))
            if len(chunk) >= CHUNK_SIZE:
                _flush(site, chunk, seen, spool, result, collect)
                chunk = []
            if progress and result.total % every == 0:
                progress("checked", result.total)
    except FormatError as error:
        result.errors.append(RowError(error.line, error.column, error.message))
    except UnicodeDecodeError as error:
        result.errors.append(RowError(result.total + 2, "", f"not UTF-8 text ({error.reason})"))
    except csv.Error as error:
        result.errors.append(RowError(result.total + 2, "", f"not readable as CSV ({error})"))
    if chunk and not result.errors:
        _flush(site, chunk, seen, spool, result, collect)
    if not result.total and not result.errors:
        result.errors.append(RowError(1, "", "no events in the input"))
    return result


def _write_events(site, batch, spool, progress, alarm_types: set[str]) -> tuple[list, str]:
    """Insert the spooled rows in chunks, digesting them for the ledger as they go; return the
    keys of those that may raise alarms and the batch digest."""
    written, candidates = 0, []
    digest, fields = ledger.BatchDigest(), ledger.row_fields(AccessEvent)
    for chunk in spool.chunks():
        events = [_event(site, batch, row) for row in chunk]
        AccessEvent.objects.bulk_create(events, ignore_conflicts=True)
        for event in events:
            digest.add(ledger.instance_values(event, fields))
        candidates.extend((row[0], row[1]) for row in chunk if row[2] in alarm_types)
        written += len(chunk)
        if progress:
            progress("stored", written)
    stored = AccessEvent.objects.filter(batch=batch)
    if stored.count() != written:
        # A concurrent import stored some of these first (ignore_conflicts skipped them):
        # digest what this batch really holds.
        return candidates, ledger.batch_digest(stored)
    return candidates, digest.hexdigest()


def _event(site: Site, batch: ImportBatch, row: tuple) -> AccessEvent:
    source, external_id, event_type, reason, vendor_type, occurred_at, door_id = row[:7]
    direction, cardholder, credential_hash, hint = row[7:]
    return AccessEvent(
        site_id=site.pk,
        batch_id=batch.pk,
        source=source,
        external_id=external_id,
        event_type=event_type,
        reason=reason,
        vendor_type=vendor_type,
        occurred_at=occurred_at,
        received_at=batch.created_at,
        door_id=door_id,
        direction=direction,
        cardholder=cardholder,
        credential_hash=credential_hash,
        credential_hint=hint,
    )


def _alarm_events(site: Site, batch: ImportBatch, keys: list[tuple]):
    """The events of this batch with these keys, found through the unique index."""
    for start in range(0, len(keys), CHUNK_SIZE):
        by_source: dict[str, list[str]] = {}
        for source, external_id in keys[start : start + CHUNK_SIZE]:
            by_source.setdefault(source, []).append(external_id)
        for source, ids in by_source.items():
            yield from AccessEvent.objects.filter(
                site=site, source=source, external_id__in=ids, batch=batch
            ).order_by("occurred_at", "id")


def _raise_alarms(site: Site, batch: ImportBatch, rules: AlarmRules, keys: list[tuple]) -> int:
    """One alarm per new event that an alarm rule covers, created in bulk (with history)."""
    raised, alarms = 0, []
    for event in _alarm_events(site, batch, keys):
        minutes = rules.minutes_for(event.door_id, event.event_type)
        if minutes is None:
            continue
        alarms.append(
            Alarm(
                site=site,
                door_id=event.door_id,
                event=event,
                event_type=event.event_type,
                raised_at=event.received_at,
                escalate_after_minutes=minutes,
            )
        )
        if len(alarms) >= CHUNK_SIZE:
            raised += len(create_in_bulk(Alarm, alarms))
            alarms = []
    if alarms:
        raised += len(create_in_bulk(Alarm, alarms))
    return raised


def ingest_events(
    site: Site,
    actor: AbstractBaseUser,
    rows: Iterable[Incoming],
    *,
    channel: str,
    vendor: str = SourceFormat.GENERIC,
    file_name: str = "",
    per_item: bool = False,
    progress: Callable[[str, int], None] | None = None,
    progress_every: int = CHUNK_SIZE,
) -> IngestResult:
    """Check every row, then store the new ones (all or nothing) and raise their alarms.

    Refuses with `IngestRefused` naming every bad row (line, column, reason) and stores
    nothing when any row is bad. The actor needs the integration or manager role at the site.
    `progress(phase, rows)` is called every `progress_every` rows checked and per chunk stored.
    """
    require_role(actor, site, INGEST_ROLES)
    checker = _Checker(site, vendor)
    spool = _Spool()
    try:
        first = _first_pass(site, rows, checker, spool, per_item, progress, progress_every)
        if first.errors:
            raise IngestRefused(first.errors)
        with audited_change(actor, f"access events received ({channel})"):
            batch = ImportBatch.objects.create(
                site=site,
                channel=channel,
                source_format=vendor,
                file_name=file_name[:255],
                actor=actor,
                actor_name=actor.get_username(),
                request_id=current_request_id(),
                total=first.total,
                created=first.new,
                duplicates=first.duplicates,
            )
            rules = AlarmRules(site)
            keys, digest = _write_events(site, batch, spool, progress, rules.event_types())
            ledger.record_batch(batch, digest, actor=actor)
            alarms = _raise_alarms(site, batch, rules, keys)
    finally:
        spool.file.close()
    return IngestResult(batch, first.total, first.new, first.duplicates, alarms, first.statuses)


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
    return [
        alarm
        for alarm in candidates.select_related("site", "door").order_by("raised_at")
        if alarm.raised_at + timedelta(minutes=alarm.escalate_after_minutes) <= now
    ]


def mark_escalated(alarm: Alarm, actor: AbstractBaseUser, *, recipients: list[str]) -> None:
    """Record that the alarm was escalated (so it never is again)."""
    with audited_change(actor, f"alarm escalated by email to {', '.join(recipients) or 'nobody'}"):
        alarm.escalated_at = timezone.now()
        alarm.save()


def escalation_recipients(site: Site) -> list[str]:
    """Email addresses of the site's active supervisors and managers."""
    from facility_log.models import Membership

    members = Membership.objects.filter(
        site=site, is_active=True, role__in=REVIEW_ROLES, user__is_active=True
    ).exclude(user__email="")
    return sorted(set(members.values_list("user__email", flat=True)))


def escalate_alarm(alarm: Alarm, actor: AbstractBaseUser) -> list[str]:
    """Email the site's supervisors and managers about an alarm nobody acknowledged, once.
    The alarm is marked escalated in the same transaction as the decision to send."""
    from django.core.mail import send_mail

    recipients = escalation_recipients(alarm.site)
    mark_escalated(alarm, actor, recipients=recipients)
    if recipients:
        local = alarm.raised_at.astimezone(alarm.site.tzinfo)
        send_mail(
            f"[facility_log] {alarm.site.code}: {alarm.get_event_type_display()} at "
            f"{alarm.door.code} not acknowledged",
            f"Alarm #{alarm.pk}: {alarm.get_event_type_display()} at {alarm.door.name} "
            f"({alarm.door.code}), site {alarm.site.name}, raised {local:%Y-%m-%d %H:%M %Z}, "
            f"still not acknowledged after {alarm.escalate_after_minutes} minutes.\n"
            f"Acknowledge it on the alarm console: /access/alarms/{alarm.pk}/\n",
            None,
            recipients,
        )
    return recipients
