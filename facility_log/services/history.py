"""Reading history: rows of several audited models merged into one list with field-by-field
changes, and the history of one record as its pages and the API show it. Read-only."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from facility_log.models import (
    Alarm,
    Incident,
    InvolvedPerson,
    LegalHold,
    Membership,
    PropertyItem,
    RoundException,
    Run,
    Shift,
    Site,
    Vehicle,
    Zone,
)

KINDS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class Change:
    field: str
    old: object
    new: object


@dataclass
class HistoryEntry:
    when: datetime
    record: str
    kind: str
    user_name: str
    reason: str
    request_id: str
    changes: list[Change] = field(default_factory=list)


def _tracked(history_model) -> list:
    return [f for f in history_model.tracked_fields if f.name not in {"id"}]


def _label(history_model, row) -> str:
    """A short name for the record that needs no extra query (no related lookups)."""
    name = next(
        (getattr(row, attr) for attr in ("code", "name", "username", "role") if hasattr(row, attr)),
        "",
    )
    return f"{history_model.instance_type._meta.verbose_name} #{row.id} {name}".strip()


def _entries_for(history_qs: QuerySet) -> list[HistoryEntry]:
    """One model's history rows, each compared with the previous row of the same object.
    Rows are read in one query and compared in memory: no query per row."""
    return entries_of_rows(history_qs.model, history_qs.order_by("history_date", "history_id"))


def entries_of_rows(model, rows) -> list[HistoryEntry]:
    """`_entries_for` of history rows of `model` already read, oldest first."""
    fields = _tracked(model)
    previous: dict = {}
    entries = []
    for row in rows:
        before = previous.get(row.id)
        changes = [
            Change(f.name, getattr(before, f.attname, None), getattr(row, f.attname))
            for f in fields
            if before is None or getattr(before, f.attname) != getattr(row, f.attname)
        ]
        if before is None:
            changes = [c for c in changes if c.new not in (None, "")]
        previous[row.id] = row
        entries.append(
            HistoryEntry(
                when=row.history_date,
                record=_label(model, row),
                kind=KINDS.get(row.history_type, row.history_type),
                user_name=row.history_user_name,
                reason=row.history_change_reason or "",
                request_id=row.history_request_id,
                changes=changes,
            )
        )
    return entries


def merged_history(*history_querysets: QuerySet, newest_first: bool = True) -> list[HistoryEntry]:
    """History rows of several models as one timeline."""
    entries = [entry for qs in history_querysets for entry in _entries_for(qs)]
    entries.sort(key=lambda e: e.when, reverse=newest_first)
    return entries


# --- the history of one record, as pages and the API show it ---------------------------------

# Bookkeeping a reader of the history does not need (the version counter, idempotency keys).
HIDDEN_FIELDS = frozenset({"version", "client_payload_sha256", "client_uuid"})


def _without_hidden(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    for entry in entries:
        entry.changes = [c for c in entry.changes if c.field not in HIDDEN_FIELDS]
    return entries


def _by_time(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    entries.sort(key=lambda e: e.when)
    return entries


def incident_history(incident) -> list[HistoryEntry]:
    """Every change to the incident and its persons, vehicles, property and legal holds,
    field by field, and its supplements, reviews and attachments as the records they are;
    oldest first. A fixed number of queries however long the history."""

    entries = merged_history(
        Incident.history.filter(id=incident.pk),
        InvolvedPerson.history.filter(incident_id=incident.pk),
        Vehicle.history.filter(incident_id=incident.pk),
        PropertyItem.history.filter(incident_id=incident.pk),
        LegalHold.history.filter(incident_id=incident.pk),
        newest_first=False,
    )
    return _by_time(_without_hidden(entries) + _incident_records(incident))


def _incident_records(incident) -> list[HistoryEntry]:
    """The incident's append-only parts: written once, so their row is their history."""
    entries = [
        HistoryEntry(
            s.created_at,
            f"supplement #{s.pk}",
            "added",
            s.author.get_username(),
            s.reason,
            "",
            [Change("text", None, s.text)],
        )
        for s in incident.supplements.select_related("author")
    ]
    entries += [
        HistoryEntry(
            r.created_at, f"review #{r.pk}", r.decision, r.reviewer.get_username(), r.comment, ""
        )
        for r in incident.reviews.select_related("reviewer")
    ]
    entries += [
        HistoryEntry(
            a.uploaded_at,
            f"attachment #{a.pk}",
            "attached",
            a.uploaded_by.get_username(),
            a.description,
            "",
            [Change("file", None, a.original_name), Change("sha256", None, a.sha256)],
        )
        for a in incident.attachments.select_related("uploaded_by")
    ]
    return entries + procedure_tick_entries(incident.procedure_ticks)


def alarm_history(alarm) -> list[HistoryEntry]:
    """Raised, acknowledged, resolved, escalated: who, when, with which note; and each step
    of its procedure ticked (or taken back); oldest first."""

    entries = merged_history(Alarm.history.filter(id=alarm.pk), newest_first=False)
    return _by_time(entries + procedure_tick_entries(alarm.procedure_ticks))


def alarm_history_of(history_rows, ticks) -> list[HistoryEntry]:
    """`alarm_history` of the alarm's history rows (oldest first) and its ticks (with who
    ticked, in their model's order), already read."""
    entries = entries_of_rows(Alarm.history.model, history_rows)
    entries.sort(key=lambda e: e.when)  # as merged_history(newest_first=False)
    return _by_time(entries + tick_entries(ticks))


def procedure_tick_entries(ticks) -> list[HistoryEntry]:
    """Ticks of a procedure's steps (append-only: the row is its history), in one query."""
    return tick_entries(ticks.select_related("ticked_by"))


def tick_entries(ticks) -> list[HistoryEntry]:
    """`procedure_tick_entries` of ticks already read with who ticked."""
    return [
        HistoryEntry(
            t.ticked_at,
            f"procedure step {t.step_number}",
            "step taken back" if t.undone else "step ticked",
            t.ticked_by.get_username(),
            t.reason,
            "",
            [
                Change("step", None, t.step_text),
                Change("procedure_version", None, t.procedure_version),
            ],
        )
        for t in ticks
    ]


def run_history(run) -> list[HistoryEntry]:
    """The run's changes and its exceptions (found, withdrawn), and each scan as recorded;
    oldest first."""

    entries = merged_history(
        Run.history.filter(id=run.pk),
        RoundException.history.filter(run_id=run.pk),
        newest_first=False,
    )
    scans = [
        HistoryEntry(
            s.received_at,
            f"scan #{s.pk}",
            "scanned",
            s.recorded_by.get_username(),
            s.note,
            "",
            [
                Change("checkpoint", None, s.checkpoint_id),
                Change("method", None, s.method),
                Change("device_time", None, s.device_time),
            ],
        )
        for s in run.scans.select_related("recorded_by")
    ]
    return _by_time(_without_hidden(entries) + scans)


def shift_history(shift) -> list[HistoryEntry]:
    """The shift's changes (started, ended, pass-down notes) and its log entries as
    recorded; oldest first."""

    entries = merged_history(Shift.history.filter(id=shift.pk), newest_first=False)
    logged = [
        HistoryEntry(
            e.recorded_at,
            f"log entry #{e.pk}",
            "logged",
            e.recorded_by.get_username(),
            "",
            "",
            [Change("kind", None, e.kind), Change("text", None, e.text)],
        )
        for e in shift.entries.select_related("recorded_by")
    ]
    return _by_time(_without_hidden(entries) + logged)


def site_history(site) -> list[HistoryEntry]:
    """Every change to the site, its zones and memberships; oldest first."""

    return merged_history(
        Site.history.filter(id=site.pk),
        Zone.history.filter(site_id=site.pk),
        Membership.history.filter(site_id=site.pk),
        newest_first=False,
    )
