"""Where domains meet: an incident opened from an alarm or a checkpoint observation, and
what the doors and the rounds saw around an incident."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from facility_log import choice_labels
from facility_log.models import Category, Incident, IncidentSource
from facility_log.models.access import AccessEvent, Alarm, Door
from facility_log.models.rounds import Checkpoint, Run, Scan
from facility_log.scoping import REPORT_ROLES, REVIEW_ROLES, require_role
from facility_log.services import alarm_priorities, incidents
from facility_log.services.audit import audited_change
from facility_log.services.incident_page import ID_SENTINEL, TIME_SENTINELS
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

# Incidents opened from the same alarm or scan get the same client UUID, so a double tap or
# a retry opens one incident.
LINK_NAMESPACE = uuid.UUID("6f1b8f3e-2b7a-4c59-9d2e-5f0c1a7e9b10")
SURROUNDINGS_MINUTES = 30
SURROUNDINGS_LIMIT = 200
User = get_user_model()


def _category(name: str) -> Category | None:
    return Category.objects.filter(name=name, is_active=True).first()


def open_incident_from_alarm(alarm: Alarm, actor: AbstractBaseUser) -> Incident:
    """A supervisor turns an alarm into a draft incident with the door's zone (for a panic
    button: the last checkpoint's), the time of the event and the event linked; its severity
    comes from the alarm's priority (a duress alarm opens a critical incident, never a low
    one). Opening it twice returns the same incident."""
    require_role(actor, alarm.site, REVIEW_ROLES)
    existing = IncidentSource.objects.filter(alarm=alarm).select_related("incident").first()
    if existing is not None:
        return existing.incident
    kind = alarm.get_event_type_display()
    if alarm.door_id:
        zone, title = alarm.door.zone, f"{kind} at {alarm.door.name}"
        narrative = (
            f"{kind} reported by the access-control system at door {alarm.door.code} "
            f"({alarm.door.name})."
        )
    elif alarm.missed_check_in_id:
        # Shift context only: whose shift, since when; no place.
        zone, title = None, f"{kind}: lone worker"
        narrative = f"A lone worker's check-in was missed. {alarm.where}."
    else:
        checkpoint = alarm.panic.last_checkpoint
        zone, title = (checkpoint.zone if checkpoint else None), f"{kind}: panic button"
        narrative = f"Panic button pressed on a guard's tablet. {alarm.where}."
    with audited_change(actor, f"incident opened from alarm {alarm.pk}"):
        incident, _created = incidents.create_incident(
            actor,
            site=alarm.site,
            client_uuid=uuid.uuid5(LINK_NAMESPACE, f"alarm:{alarm.pk}"),
            reason=f"opened from alarm {alarm.pk}",
            category=_category("Alarm"),
            zone=zone,
            severity=alarm_priorities.severity_for(alarm),
            occurred_from=alarm.occurred_at,
            discovered_at=alarm.raised_at,
            title=title,
            narrative=narrative,
        )
        IncidentSource.objects.create(incident=incident, alarm=alarm, created_by=actor)
    return incident


def report_from_scan(scan: Scan, actor: AbstractBaseUser) -> Incident:
    """A checkpoint observation becomes a draft incident with site, zone and time filled in."""
    site = scan.run.site
    require_role(actor, site, REPORT_ROLES)
    existing = IncidentSource.objects.filter(scan=scan).select_related("incident").first()
    if existing is not None:
        return existing.incident
    checkpoint = scan.checkpoint
    with audited_change(actor, f"incident reported from checkpoint scan {scan.pk}"):
        incident, _created = incidents.create_incident(
            actor,
            site=site,
            client_uuid=uuid.uuid5(LINK_NAMESPACE, f"scan:{scan.pk}"),
            reason=f"reported from checkpoint scan {scan.pk}",
            category=_category("Suspicious activity"),
            zone=checkpoint.zone,
            occurred_from=scan.effective_time,
            location_text=checkpoint.name,
            title=f"Observation at {checkpoint.name}",
            narrative=scan.note,
        )
        IncidentSource.objects.create(incident=incident, scan=scan, created_by=actor)
    return incident


@dataclass(frozen=True)
class Nearby:
    """One thing that happened around an incident: a door event or a checkpoint scan."""

    when: datetime
    kind: str
    where: str
    detail: str
    linked: bool = False


def _window(incident: Incident) -> tuple[datetime, datetime]:
    margin = timedelta(minutes=SURROUNDINGS_MINUTES)
    return incident.occurred_from - margin, (
        incident.occurred_to or incident.occurred_from
    ) + margin


# The surroundings read only the columns a row shows (values, not model instances): up to
# 200 door events and 200 scans an incident page, each with its door or checkpoint and guard.
_EVENT_TYPE = AccessEvent._meta.get_field("event_type")
_REASON = AccessEvent._meta.get_field("reason")
_EVENT_COLUMNS = ("occurred_at", "event_type", "reason", "cardholder", "door__name")


def _door_events_query(has_zone: bool, site_id, start, end, zone_id):
    events = AccessEvent.objects.filter(site_id=site_id, occurred_at__range=(start, end))
    if has_zone:
        events = events.filter(door__zone_id=zone_id)
    return events.order_by("occurred_at").values("pk", *_EVENT_COLUMNS)[:SURROUNDINGS_LIMIT]


# Compiled once per process (services/precompiled.py), one shape with a zone and one without.
_DOOR_EVENTS = PreparedQuery(
    _door_events_query,
    {
        "site_id": Slot(ID_SENTINEL, AccessEvent._meta.get_field("site")),
        "start": Slot(TIME_SENTINELS[0], AccessEvent._meta.get_field("occurred_at")),
        "end": Slot(TIME_SENTINELS[1], AccessEvent._meta.get_field("occurred_at")),
        "zone_id": Slot(ID_SENTINEL + 1, Door._meta.get_field("zone")),
    },
)


def _details(cardholder: str, reason: str) -> str:
    return " ".join(filter(None, [cardholder, reason]))


def surroundings_reads(incident: Incident) -> dict[str, tuple[PrecompiledQuery, bool, dict]]:
    """The surroundings' two precompiled reads of `incident` as (query, key, values), by
    name: for a caller that sends them with other reads (`incident_surroundings`' `read`)."""
    start, end = _window(incident)
    values = {"site_id": incident.site_id, "start": start, "end": end}
    if incident.zone_id:
        values["zone_id"] = incident.zone_id
    key = bool(incident.zone_id)
    return {"door_events": (_DOOR_EVENTS, key, values), "scans": (_SCANS, key, values)}


def _door_events(rows: list[tuple], linked_ids: set[int]) -> list[Nearby]:
    """Door events of rows read as tuples: the id, then `_EVENT_COLUMNS`."""
    types, reasons = choice_labels.labels(_EVENT_TYPE), choice_labels.labels(_REASON)
    return [
        Nearby(
            when,
            f"door: {types.get(event_type, event_type)}",
            door,
            _details(cardholder, reason and reasons.get(reason, reason)),
            pk in linked_ids,
        )
        for pk, when, event_type, reason, cardholder, door in rows
    ]


def _linked_events(incident: Incident, sources: list[IncidentSource] | None) -> list[Nearby]:
    if sources is None:
        linked = IncidentSource.objects.filter(incident=incident, alarm__isnull=False)
        events = AccessEvent.objects.filter(alarm__incident_source__in=linked)
    else:
        alarm_ids = [source.alarm_id for source in sources if source.alarm_id is not None]
        if not alarm_ids:
            return []
        events = AccessEvent.objects.filter(alarm__in=alarm_ids)
    types = choice_labels.labels(_EVENT_TYPE)
    return [
        Nearby(when, f"door: {types.get(event_type, event_type)}", door, "linked alarm", True)
        for when, event_type, _reason, _cardholder, door in events.values_list(*_EVENT_COLUMNS)
    ]


def _scans_query(has_zone: bool, site_id, start, end, zone_id):
    scans = Scan.objects.filter(run__site_id=site_id, effective_time__range=(start, end))
    if has_zone:
        scans = scans.filter(checkpoint__zone_id=zone_id)
    return scans.order_by("effective_time").values(
        "effective_time", "checkpoint__name", f"run__guard__{User.USERNAME_FIELD}", "note"
    )[:SURROUNDINGS_LIMIT]


_SCANS = PreparedQuery(
    _scans_query,
    {
        "site_id": Slot(ID_SENTINEL, Run._meta.get_field("site")),
        "start": Slot(TIME_SENTINELS[0], Scan._meta.get_field("effective_time")),
        "end": Slot(TIME_SENTINELS[1], Scan._meta.get_field("effective_time")),
        "zone_id": Slot(ID_SENTINEL + 1, Checkpoint._meta.get_field("zone")),
    },
)


def _scans(rows: list[tuple]) -> list[Nearby]:
    """Scans of rows read as tuples: time, checkpoint, guard, note (`_scans_query`)."""
    return [
        Nearby(when, "round scan", checkpoint, f"{guard} {note}".strip())
        for when, checkpoint, guard, note in rows
    ]


def surroundings_rows(compiler, rows: list | None = None) -> list[tuple]:
    """The rows of one of `surroundings_reads`' queries as tuples in its columns' order (of
    `rows` fetched with its statement when given, else read here): a page shows about a
    hundred, and a dict per row, named as `values()` names it, cost more than the tuple the
    driver gives."""
    found = compiler.results_iter() if rows is None else compiler.results_iter([rows])
    return [tuple(row) for row in found]


def incident_surroundings(
    incident: Incident,
    sources: list[IncidentSource] | None = None,
    read: dict[str, list[tuple]] | None = None,
) -> list[Nearby]:
    """The incident's linked door events, plus the door events and round scans of its zone
    (its site, if no zone) from 30 minutes before to 30 minutes after, in time order.
    `sources`: the incident's IncidentSource rows, already read (else read here); `read`:
    the rows of `surroundings_reads`, already read as `surroundings_rows` gives them (else
    read here)."""
    if read is None:
        read = {
            name: surroundings_rows(query.statement(key, **values)[0])
            for name, (query, key, values) in surroundings_reads(incident).items()
        }
    linked = _linked_events(incident, sources)
    linked_keys = {(n.when, n.where) for n in linked}
    nearby = [
        n for n in _door_events(read["door_events"], set()) if (n.when, n.where) not in linked_keys
    ]
    return sorted([*linked, *nearby, *_scans(read["scans"])], key=lambda n: n.when)
