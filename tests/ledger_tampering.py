"""Tampering with stored data the way someone with database access would, for the tests that
prove `verify_audit` finds and names every single change (tests/services/test_ledger_stateful.py).

Each tampering picks its target with `draw` (a hypothesis draw, so a failure shrinks to the
row that was missed), writes behind the application with raw SQL (or straight to the file on
disk), and returns where the verifier must point: the ledger entries (seq) and the objects a
problem may name. `tamper_and_check` runs one inside a savepoint with the append-only
triggers dropped (`db_guards.drop_guards`), verifies, calls `undo` for what a rollback cannot
restore (bytes on disk), rolls back, and checks the verifier found it and named only its place.
"""

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import FileField, Model
from hypothesis import strategies as st

from facility_log.db_guards import drop_guards
from facility_log.models import AccessEvent, Attachment, ImportBatch, LedgerEntry
from facility_log.models.base import AppendOnlyModel
from facility_log.services.evidence import attachment_problems
from facility_log.services.ledger import Problem, ledger_head, object_type
from facility_log.services.verify import verify_audit

Draw = Callable[..., object]
HISTORY, RECORD, BATCH = LedgerEntry.Kind.HISTORY, LedgerEntry.Kind.RECORD, LedgerEntry.Kind.BATCH


@dataclass
class Expected:
    """Where the problems of one tampering must point: at one of `seqs`, or at one of
    `objects` (a problem's object is the label itself or the label followed by " (…)")."""

    what: str
    seqs: frozenset[int] = frozenset()
    objects: frozenset[str] = frozenset()
    undo: Callable[[], None] = field(default=lambda: None, repr=False)
    head: tuple[int, str] | None = None

    def names(self, problem: Problem) -> bool:
        if problem.seq is not None and problem.seq in self.seqs:
            return True
        return any(problem.object == o or problem.object.startswith(f"{o} (") for o in self.objects)


# --- raw SQL -------------------------------------------------------------------------------


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[Model]) -> str:
    return _q(model._meta.db_table)


def _fields(model: type[Model]) -> dict:
    return {f.attname: f for f in model._meta.concrete_fields}


def _row(model: type[Model], pk) -> dict:
    return model._base_manager.filter(pk=pk).values().get()


def _set_column(model: type[Model], pk, attname: str, value) -> None:
    column = _fields(model)[attname].column
    pk_column = model._meta.pk.column
    changed = _execute(
        f"UPDATE {_table(model)} SET {_q(column)} = %s WHERE {_q(pk_column)} = %s", [value, pk]
    )
    assert changed == 1, (model, pk, attname)


def _edit_text(model: type[Model], pk, draw: Draw) -> str:
    """Change one text column of the row (chosen by `draw`) to another value; returns it. A
    row with no text (a panic press: ids, times, a flag) has a time moved or a flag flipped."""
    row, fields = _row(model, pk), _fields(model)
    # A file column is left to the file tamperings: renaming it also makes the file an orphan
    # and the record's file missing, which verify_audit rightly reports as well.
    names = [
        n
        for n, v in row.items()
        if isinstance(v, str) and not fields[n].primary_key and not isinstance(fields[n], FileField)
    ]
    if not names:
        return _edit_other(model, pk, row, fields, draw)
    name = draw(st.sampled_from(sorted(names)), label="column")
    _set_column(model, pk, name, "Y" if row[name] == "X" else "X")
    return name


def _edit_other(model: type[Model], pk, row: dict, fields: dict, draw: Draw) -> str:
    import datetime as dt

    names = [
        n
        for n, v in row.items()
        if isinstance(v, bool | dt.datetime)
        and not fields[n].primary_key
        and not fields[n].is_relation
    ]
    name = draw(st.sampled_from(sorted(names)), label="column")
    value = row[name]
    changed = (not value) if isinstance(value, bool) else value - dt.timedelta(seconds=1)
    _set_column(model, pk, name, fields[name].get_db_prep_save(changed, connection))
    return name


def _insert_copy(model: type[Model], pk, **overrides) -> object:
    """Insert a copy of the row under a new primary key, behind the application; returns it."""
    fields = _fields(model)
    row = {**_row(model, pk), **overrides}
    names = [n for n in row if not fields[n].primary_key]
    values = [fields[n].get_db_prep_save(row[n], connection) for n in names]
    _execute(
        f"INSERT INTO {_table(model)} ({', '.join(_q(fields[n].column) for n in names)})"
        f" VALUES ({', '.join(['%s'] * len(names))})",
        values,
    )
    return model._base_manager.order_by("-pk").values_list("pk", flat=True).first()


def _delete(model: type[Model], pk) -> None:
    deleted = _execute(f"DELETE FROM {_table(model)} WHERE {_q(model._meta.pk.column)} = %s", [pk])
    assert deleted == 1, (model, pk)


# --- targets -------------------------------------------------------------------------------


def _purged() -> set[tuple[str, str]]:
    """Rows the retention purge removed (their entries stay, the rows are gone)."""
    tombstones = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.TOMBSTONE)
    return set(tombstones.values_list("object_type", "object_pk"))


def _entry(draw: Draw, *kinds: str, models: tuple = ()) -> LedgerEntry:
    entries = LedgerEntry.objects.filter(kind__in=kinds)
    if models:
        entries = entries.filter(object_type__in=[object_type(m) for m in models])
    purged = _purged() if set(kinds) & {HISTORY, RECORD} else set()
    seqs = [
        seq
        for seq, type_name, pk in entries.order_by("seq").values_list(
            "seq", "object_type", "object_pk"
        )
        if (type_name, pk) not in purged
    ]
    return LedgerEntry.objects.get(seq=draw(st.sampled_from(seqs), label="entry"))


def _model(entry: LedgerEntry) -> type[Model]:
    return apps.get_model(entry.object_type)


def _label(model: type[Model], pk) -> str:
    """How the verifier names a row that has no entry (or whose entry is gone)."""
    return f"{model._meta.verbose_name} {pk}"


def _batch_seq(batch_pk) -> int:
    """The batch's latest entry (a purge of some of its events adds one)."""
    entries = LedgerEntry.objects.filter(
        kind=BATCH, object_type=object_type(ImportBatch), object_pk=str(batch_pk)
    )
    return entries.order_by("-seq").first().seq


def _event(draw: Draw) -> AccessEvent:
    pks = list(AccessEvent.objects.order_by("pk").values_list("pk", flat=True))
    return AccessEvent.objects.get(pk=draw(st.sampled_from(pks), label="event"))


def _extra_objects(model: type[Model], pk) -> frozenset[str]:
    """Other checks that rightly speak up about the same row (an attachment's file)."""
    return frozenset({f"attachment {pk}"}) if model is Attachment else frozenset()


def _copyable_records() -> tuple:
    """Append-only models whose rows can be copied as they are (no unique column)."""
    found = []
    for model in apps.get_models():
        if not issubclass(model, AppendOnlyModel) or model is LedgerEntry:
            continue
        if not getattr(model, "ledger_per_row", True):
            continue
        unique = any(f.unique and not f.primary_key for f in model._meta.concrete_fields)
        if not unique and not model._meta.constraints and not model._meta.unique_together:
            found.append(model)
    return tuple(found)


# --- the tamperings --------------------------------------------------------------------------


def history_row_edited(draw: Draw) -> Expected:
    entry = _entry(draw, HISTORY)
    column = _edit_text(_model(entry), entry.object_pk, draw)
    # The live record may now differ from its latest history row: named by the record.
    return Expected(
        f"{entry.record_label}: {column} edited",
        frozenset({entry.seq}),
        frozenset({entry.record_label}),
    )


def record_edited(draw: Draw) -> Expected:
    entry = _entry(draw, RECORD)
    model = _model(entry)
    column = _edit_text(model, entry.object_pk, draw)
    extra = _extra_objects(model, entry.object_pk)
    return Expected(f"{entry.record_label}: {column} edited", frozenset({entry.seq}), extra)


def batch_event_edited(draw: Draw) -> Expected:
    event = _event(draw)
    column = _edit_text(AccessEvent, event.pk, draw)
    return Expected(
        f"access event {event.pk}: {column} edited", frozenset({_batch_seq(event.batch_id)})
    )


def history_row_inserted(draw: Draw) -> Expected:
    entry = _entry(draw, HISTORY)
    model = _model(entry)
    new_pk = _insert_copy(model, entry.object_pk)
    return Expected(
        f"copy of {entry.record_label} inserted",
        objects=frozenset({_label(model, new_pk), entry.record_label}),
    )


def record_inserted(draw: Draw) -> Expected:
    entry = _entry(draw, RECORD, models=_copyable_records())
    model = _model(entry)
    new_pk = _insert_copy(model, entry.object_pk)
    # A copied import also has no batch entry ("import batch #N").
    also = f"{model._meta.verbose_name} #{new_pk}"
    return Expected(
        f"copy of {entry.record_label} inserted", objects=frozenset({_label(model, new_pk), also})
    )


def batch_event_inserted(draw: Draw) -> Expected:
    event = _event(draw)
    _insert_copy(AccessEvent, event.pk, external_id=f"forged-{event.pk}")
    seq = _batch_seq(event.batch_id)
    return Expected(f"event inserted into batch {event.batch_id}", frozenset({seq}))


def history_row_deleted(draw: Draw) -> Expected:
    entry = _entry(draw, HISTORY)
    _delete(_model(entry), entry.object_pk)
    return Expected(
        f"{entry.record_label} deleted", frozenset({entry.seq}), frozenset({entry.record_label})
    )


def record_deleted(draw: Draw) -> Expected:
    entry = _entry(draw, RECORD)
    model = _model(entry)
    _delete(model, entry.object_pk)
    extra = _extra_objects(model, entry.object_pk)
    return Expected(f"{entry.record_label} deleted", frozenset({entry.seq}), extra)


def batch_event_deleted(draw: Draw) -> Expected:
    event = _event(draw)
    _delete(AccessEvent, event.pk)
    return Expected(f"access event {event.pk} deleted", frozenset({_batch_seq(event.batch_id)}))


ENTRY_COLUMNS = ("actor_name", "record_label", "digest", "created_at", "hash", "prev_hash")


def entry_altered(draw: Draw) -> Expected:
    entry = _entry(draw, HISTORY, RECORD, BATCH)
    column = draw(st.sampled_from(ENTRY_COLUMNS), label="column")
    if column == "created_at":
        value = connection.ops.adapt_datetimefield_value(entry.created_at + timedelta(seconds=1))
    elif column in ("digest", "hash", "prev_hash"):
        value = hashlib.sha256(f"forged {column} {entry.seq}".encode()).hexdigest()
    else:
        value = "Y" if getattr(entry, column) == "X" else "X"
    _set_column(LedgerEntry, entry.pk, column, value)
    return Expected(f"entry #{entry.seq}: {column} altered", frozenset({entry.seq, entry.seq + 1}))


def entry_removed(draw: Draw) -> Expected:
    entry = _entry(draw, HISTORY, RECORD, BATCH)
    head = ledger_head()
    _delete(LedgerEntry, entry.pk)
    model = _model(entry)
    covered = (
        f"{AccessEvent._meta.verbose_name} batch {entry.object_pk}"
        if entry.kind == BATCH
        else _label(model, entry.object_pk)
    )
    # A removed batch entry also leaves its import without a batch entry; a removed tombstone
    # leaves the purged row expected where its first entry put it.
    batch = f"{ImportBatch._meta.verbose_name} #{entry.object_pk}" if entry.kind == BATCH else ""
    seqs, objects = {entry.seq, entry.seq + 1}, {covered, batch} - {""}
    if entry.kind == LedgerEntry.Kind.TOMBSTONE:
        earlier = LedgerEntry.objects.filter(
            object_type=entry.object_type, object_pk=entry.object_pk, seq__lt=entry.seq
        )
        seqs |= set(earlier.values_list("seq", flat=True))
        objects |= set(earlier.values_list("record_label", flat=True))
    return Expected(
        f"entry #{entry.seq} ({entry.kind} {entry.record_label}) removed",
        frozenset(seqs),
        frozenset(objects),
        head=head,
    )


def entries_swapped(draw: Draw) -> Expected:
    seqs = list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True))
    first = draw(st.sampled_from(seqs[:-1]), label="entry")
    other = draw(st.sampled_from([s for s in seqs if s > first]), label="other entry")
    table, seq = _table(LedgerEntry), _q("seq")
    for to, where in ((-1, first), (first, other), (other, -1)):
        _execute(f"UPDATE {table} SET {seq} = %s WHERE {seq} = %s", [to, where])
    return Expected(
        f"entries #{first} and #{other} swapped",
        frozenset(
            {
                first,
                first + 1,
                other,
                other + 1,
                *_purged_by(first),
                *_purged_by(other),
                *_same_record_between(first, other),
            }
        ),
    )


def _same_record_between(first: int, other: int) -> list[int]:
    """The entries of the swapped entries' own records that lie between the two: a record's
    entries are read in order, so moving one of them past another (an import batch restated
    after a purge, say) leaves the other expecting rows the moved one no longer describes."""
    moved = LedgerEntry.objects.filter(seq__in=[first, other])
    between = LedgerEntry.objects.filter(seq__gt=first, seq__lt=other)
    seqs = []
    for entry in moved:
        same = between.filter(object_type=entry.object_type, object_pk=entry.object_pk)
        seqs += list(same.values_list("seq", flat=True))
    return seqs


def _purged_by(seq: int) -> list[int]:
    """The entries of the rows a tombstone purged: moving the tombstone after them leaves them
    naming rows that are missing, which is where the problem is."""
    entry = LedgerEntry.objects.get(seq=seq)
    if entry.kind != LedgerEntry.Kind.TOMBSTONE:
        return []
    return list(
        LedgerEntry.objects.filter(object_type=entry.object_type, object_pk=entry.object_pk)
        .exclude(kind=LedgerEntry.Kind.TOMBSTONE)
        .values_list("seq", flat=True)
    )


def attachment_bytes_changed(draw: Draw) -> Expected:
    pks = list(Attachment.objects.order_by("pk").values_list("pk", flat=True))
    attachment = Attachment.objects.get(pk=draw(st.sampled_from(pks), label="attachment"))
    name = attachment.file.name
    with default_storage.open(name, "rb") as handle:
        original = handle.read()
    how = draw(st.sampled_from(["one byte flipped", "truncated", "removed"]), label="how")
    path = default_storage.path(name)

    def write(data: bytes | None) -> None:
        if data is None:
            default_storage.delete(name)
            return
        with open(path, "wb") as handle:
            handle.write(data)

    if how == "one byte flipped":
        position = draw(st.integers(0, len(original) - 1), label="byte")
        write(original[:position] + bytes([original[position] ^ 0xFF]) + original[position + 1 :])
    else:
        write(original[:-1] if how == "truncated" else None)
    return Expected(
        f"attachment {attachment.pk}: file {how}",
        objects=frozenset({f"attachment {attachment.pk}"}),
        undo=lambda: write(original),
    )


def _exists(*kinds: str, models: tuple = ()) -> Callable[[], bool]:
    def check() -> bool:
        entries = LedgerEntry.objects.filter(kind__in=kinds)
        if models:
            entries = entries.filter(object_type__in=[object_type(m) for m in models])
        return entries.exists()

    return check


def _has(model: type[Model]) -> Callable[[], bool]:
    return lambda: model._base_manager.exists()


# name → (tampering, whether it has a target now). Those whose targets are rarer come first:
# hypothesis leans towards the first of a list.
TAMPERINGS: dict[str, tuple[Callable[[Draw], Expected], Callable[[], bool]]] = {
    "attachment bytes changed on disk": (attachment_bytes_changed, _has(Attachment)),
    "access event of a batch edited": (batch_event_edited, _has(AccessEvent)),
    "access event inserted into a batch": (batch_event_inserted, _has(AccessEvent)),
    "access event of a batch deleted": (batch_event_deleted, _has(AccessEvent)),
    "append-only record edited": (record_edited, _exists(RECORD)),
    "append-only record inserted without entry": (
        record_inserted,
        lambda: _exists(RECORD, models=_copyable_records())(),
    ),
    "append-only record deleted": (record_deleted, _exists(RECORD)),
    "history row edited": (history_row_edited, _exists(HISTORY)),
    "history row inserted without entry": (history_row_inserted, _exists(HISTORY)),
    "history row deleted": (history_row_deleted, _exists(HISTORY)),
    "ledger entry altered": (entry_altered, _exists(HISTORY, RECORD, BATCH)),
    "ledger entry removed": (entry_removed, _exists(HISTORY, RECORD, BATCH)),
    "two ledger entries swapped": (entries_swapped, lambda: LedgerEntry.objects.count() > 1),
}


def with_target() -> list[str]:
    """The tamperings that have something to tamper with now."""
    return [name for name, (_apply, has_target) in TAMPERINGS.items() if has_target()]


def guard_count() -> int:
    """How many append-only triggers the database holds now."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'fl_guard'")
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                " AND name LIKE 'fl_guard_%'"
            )
        return cursor.fetchone()[0]


def _owned_files() -> set[str]:
    from facility_log.models import Attachment
    from facility_log.services.evidence import _owned_names

    return _owned_names(Attachment._meta.get_field("file").storage)


def _orphaned_by_tampering(problem, owned_before: set[str]) -> bool:
    name = problem.object.removeprefix("file ")
    return (
        problem.object.startswith("file ")
        and "orphan" in problem.message
        and (name in owned_before)
    )


def tamper_and_check(kind: str, draw: Draw, stats: Counter) -> None:
    """Apply the tampering `kind` in a savepoint with the triggers dropped, verify, undo and
    roll back; then assert the triggers and files are back, and that the verifier found the
    tampering and every problem it reported names the tampered place. Counts go to `stats`."""
    guards = guard_count()
    assert guards > 0
    owned_before = _owned_files()
    with transaction.atomic():
        drop_guards()
        expected = TAMPERINGS[kind][0](draw)
        try:
            problems = verify_audit().problems
        finally:
            expected.undo()
        transaction.set_rollback(True)
    assert guard_count() == guards, "the append-only triggers did not come back"
    assert not list(attachment_problems()), "the evidence files were not restored"
    stats[f"tampering: {kind}"] += 1
    listed = "\n".join(str(problem) for problem in problems) or "(none)"
    if not problems:
        stats["misses"] += 1
    assert problems, f"missed: {expected.what}"
    # A record deleted or its file column edited leaves its file without an owner: reported
    # too, rightly, naming the file the record held before the tampering.
    stray = [
        problem
        for problem in problems
        if not expected.names(problem) and not _orphaned_by_tampering(problem, owned_before)
    ]
    if stray:
        stats["misplaced"] += 1
    assert not stray, f"{expected.what}: problems name other places:\n{listed}"
