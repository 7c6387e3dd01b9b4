"""Reading history: rows of several audited models merged into one list with field-by-field
changes. Read-only; used by history pages and, later, the exports."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

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
    model = history_qs.model
    fields = _tracked(model)
    previous: dict = {}
    entries = []
    for row in history_qs.order_by("history_date", "history_id"):
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
