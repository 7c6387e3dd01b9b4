"""Access events: raising the alarms of one stored chunk in bulk, with their history rows and
ledger entries (the import's write path, services/access_ingest.py).

A chunk of 10,000 events with one in ten raising an alarm used to build 1,000 Alarm and 1,000
historical objects in Python and hand them to `bulk_create`: that cost more than storing the
10,000 events themselves (bench/ingest.py). Here the database derives them from the rows it
has just stored, in two statements whatever the number of alarms:

1. `INSERT INTO alarm … SELECT` from the chunk's events (found by their batch, which is new
   per chunk), the site's alarm rules resolved as a `CASE` over the rules read once per
   ingestion (`AlarmRules`: door rule, else site rule, else the default types), in event
   order, every other column at its model default;
2. `INSERT INTO historicalalarm … SELECT` from those alarm rows: one "+" history row each,
   stamped with the acting user, the user's name, the reason and the request id of the
   enclosing `audited_change`, exactly as `create_in_bulk` stamps them.

Each history row then gets its ledger entry, chained at the end of the chunk's transaction
(ledger.py), with the digest of the row as the database returned it. The
history rows are written in the same statement sequence and transaction as the alarms, so no
alarm ever exists without its history.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from facility_log.models import AccessEvent, Alarm, LedgerEntry
from facility_log.models.access import DEFAULT_ALARM_TYPES
from facility_log.services import ledger
from facility_log.services.access import DEFAULT_ESCALATE_MINUTES, AlarmRules
from facility_log.services.audit import MissingChangeReason, current_audit, current_request_id

# The alarm columns the events give; every other column takes its model default.
FROM_EVENT = {"site_id": "site_id", "door_id": "door_id", "event_id": "id"}


@dataclass(frozen=True)
class RaisedAlarm:
    """What the caller needs of an alarm just raised: its key and type (for the notices)."""

    pk: int
    event_type: str


def _minutes_case(rules: AlarmRules) -> tuple[str, list]:
    """`AlarmRules.minutes_for` as SQL over the event row `e`: the escalation minutes, or NULL
    when the event raises no alarm. Door rules first, then site rules, then the defaults."""
    whens, params = [], []
    for (door_id, event_type), rule in sorted(rules.rules.items(), key=_rule_order):
        minutes = rule.escalate_after_minutes if rule.is_active else None
        if door_id is None:
            whens.append("WHEN e.event_type = %s THEN CAST(%s AS integer)")
            params += [event_type, minutes]
        else:
            whens.append("WHEN e.door_id = %s AND e.event_type = %s THEN CAST(%s AS integer)")
            params += [door_id, event_type, minutes]
    defaults = [str(t) for t in DEFAULT_ALARM_TYPES]
    whens.append(f"WHEN e.event_type IN ({', '.join(['%s'] * len(defaults))}) THEN %s")
    params += [*defaults, DEFAULT_ESCALATE_MINUTES]
    return f"CASE {' '.join(whens)} END", params


def _rule_order(item) -> tuple:
    # Door rules (door set) before site rules (door None): a door rule wins.
    (door_id, event_type), _rule = item
    return (door_id is None, door_id or 0, str(event_type))


def _insert_alarms(rules: AlarmRules, batch_pk: int, raised_at: datetime) -> None:
    quote = connection.ops.quote_name
    events = quote(AccessEvent._meta.db_table)
    columns, values, params = [], [], []
    for field in Alarm._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.attname in FROM_EVENT:
            values.append(f"c.{quote(FROM_EVENT[field.attname])}")
        elif field.attname == "event_type":
            values.append("c.event_type")
        elif field.attname == "escalate_after_minutes":
            values.append("c.minutes")
        elif field.attname == "raised_at":
            values.append("%s")
            params.append(field.get_db_prep_save(raised_at, connection))
        else:
            # What an Alarm() built in Python would hold (NULL, "", state "new").
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    case, case_params = _minutes_case(rules)
    types = sorted(str(t) for t in rules.event_types())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Alarm._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM ("
            f"SELECT e.id, e.site_id, e.door_id, e.event_type, {case} AS minutes "
            f"FROM {events} e WHERE e.batch_id = %s "
            f"AND e.event_type IN ({', '.join(['%s'] * len(types))})"
            ") c WHERE c.minutes IS NOT NULL ORDER BY c.id",
            [*params, *case_params, batch_pk, *types],
        )


def _insert_history(batch_pk: int, history_date: datetime) -> list[tuple]:
    """One "+" history row per alarm of the batch, in order: (history id, alarm id, type,
    the row's ledger digest or None to read it back when the entries are chained)."""
    context = current_audit()
    if context is None:
        raise MissingChangeReason("alarms are raised inside audited_change(actor, reason).")
    actor = context.actor
    history = Alarm.history.model
    quote = connection.ops.quote_name
    tracked = [f.column for f in history.tracked_fields]
    stamped = {
        "history_date": history._meta.get_field("history_date").get_db_prep_save(
            history_date, connection
        ),
        "history_change_reason": context.reason,
        "history_type": "+",
        "history_user_id": actor.pk if actor is not None else None,
        "history_user_name": actor.get_username() if actor is not None else "",
        "history_request_id": current_request_id(),
    }
    # PostgreSQL gives the stored rows back as `values()` reads them (no converter applies to
    # these columns), so their digests are taken from RETURNING instead of a second read.
    # SQLite's come back as text, converted by Django on reading: read back when chained.
    whole = connection.vendor == "postgresql"
    fields = history._meta.concrete_fields if whole else []
    returned = ", ".join(quote(f.column) for f in fields) if whole else "history_id"
    columns = [*tracked, *stamped]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(c) for c in columns)}) "
            f"SELECT {', '.join(f'a.{quote(c)}' for c in tracked)}, "
            f"{', '.join(['%s'] * len(stamped))} "
            f"FROM {quote(Alarm._meta.db_table)} a WHERE a.event_id IN "
            f"(SELECT id FROM {quote(AccessEvent._meta.db_table)} WHERE batch_id = %s) "
            f"ORDER BY a.id RETURNING history_id, id, event_type, {returned}",
            [*stamped.values(), batch_pk],
        )
        rows = sorted(cursor.fetchall())
    names = [f.attname for f in fields]
    return [
        (
            history_id,
            alarm_id,
            event_type,
            ledger.sha256_hex(ledger.canonical_json(dict(zip(names, rest, strict=True))))
            if whole
            else None,
        )
        for history_id, alarm_id, event_type, *rest in rows
    ]


def raise_alarms(rules: AlarmRules, batch_pk: int, raised_at: datetime) -> list[RaisedAlarm]:
    """Raise the alarms of the events stored under `batch_pk` (a chunk's own batch), with
    their history rows and ledger entries; inside `audited_change`. Returns them in order."""
    _insert_alarms(rules, batch_pk, raised_at)
    # Like simple-history's bulk_history_create: the history is dated when it is written.
    rows = _insert_history(batch_pk, timezone.now())
    history = Alarm.history.model
    actor = current_audit().actor
    label = Alarm._meta.verbose_name
    for history_id, alarm_id, _type, digest in rows:
        # As `ledger.record_history_row` does for a history row simple-history writes.
        ledger.append_entry(
            kind=LedgerEntry.Kind.HISTORY,
            model=history,
            pk=history_id,
            digest=digest,
            actor=actor,
            label=f"{label} #{alarm_id}",
        )
    return [RaisedAlarm(alarm_id, event_type) for _h, alarm_id, event_type, _d in rows]
