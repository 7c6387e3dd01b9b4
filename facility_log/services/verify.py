"""Checking the ledger against the database: `manage.py verify_audit` and the auditor page.

Recomputes the chain and every digest. Finds: an entry changed, inserted, removed or moved; a
history row (or append-only record) changed, deleted, or inserted without an entry; a live row
that differs from its latest history row (services/verify_live.py); a batch whose rows changed
or an import whose batch entry is gone; a purge that removed a row differently from its
tombstone; and whatever the registered extra checks find (e.g. attachment bytes on disk).

A full check streams: the chain in sequence order, then each table merged with its entries in
primary-key order, so memory stays flat however long the ledger is. A checkpointed check
starts from the last signed checkpoint and reads only entries after it and rows above its
high-water marks (plus the few older rows that newer entries name). Both read one consistent
snapshot of the database, so traffic during the check is never mistaken for tampering.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast
from simple_history.models import registered_models

from facility_log.models import LedgerEntry
from facility_log.models.base import AppendOnlyModel
from facility_log.services.ledger import (
    EMPTY_BATCH_DIGEST,
    GENESIS_HASH,
    BatchDigest,
    Problem,
    Verification,
    canonical_json,
    entry_hash,
    object_type,
    row_fields,
    sha256_hex,
)
from facility_log.services.ledger_seal import (
    checkpoint_is_genuine,
    latest_checkpoint,
    write_checkpoint,
)
from facility_log.services.verify_live import check_live_rows, check_live_rows_since

# object_type of a batch record → (model of its rows, the rows' foreign key to the record).
BATCH_MEMBERS: dict[str, tuple[type, str]] = {}
# Extra checks contributed by domains, e.g. attachment bytes against their recorded SHA-256.
# Each is called with the high-water marks of a checkpoint (check only rows above them) or
# None (check everything).
EXTRA_CHECKS: list[Callable[[dict | None], Iterable[Problem]]] = []

ROW_KINDS = (LedgerEntry.Kind.HISTORY, LedgerEntry.Kind.RECORD, LedgerEntry.Kind.TOMBSTONE)
CHUNK = 5000
PROGRESS_EVERY = 10_000  # entries between two progress reports


def _all_subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def covered_models() -> list[type]:
    """Tables whose every row must have its own ledger entry."""
    history = [model.history.model for model in registered_models.values()]
    append_only = [
        model
        for model in _all_subclasses(AppendOnlyModel)
        if not model._meta.abstract
        and model is not LedgerEntry
        and getattr(model, "ledger_per_row", True)
    ]
    return history + append_only


def watched_models() -> list[type]:
    """Every table a checkpoint keeps a high-water mark for."""
    batch_rows = [rows for rows, _fk in BATCH_MEMBERS.values()]
    return covered_models() + batch_rows + list(registered_models.values())


def _where(entry) -> str:
    return entry.record_label or f"{entry.object_type} #{entry.object_pk}"


@dataclass
class _Expected:
    """What the ledger says one row should be, after folding its entries in sequence order."""

    seq: int
    digest: str
    where: str
    live: bool = True


def _fold(result: Verification, state: _Expected | None, entry) -> _Expected | None:
    """Apply one entry to a row's expected state (a record, or its purge)."""
    where = _where(entry)
    if entry.kind != LedgerEntry.Kind.TOMBSTONE:
        return _Expected(entry.seq, entry.digest, where)
    if state is None or not state.live:
        result.problems.append(Problem(entry.seq, where, "purges a row the ledger never held"))
    elif state.digest != entry.digest:
        result.problems.append(Problem(state.seq, state.where, "was changed before it was purged"))
    return _Expected(entry.seq, entry.digest, where, live=False)


def _compare(result: Verification, label: str, state: _Expected | None, row: dict | None):
    """One row (or its absence) against what its entries say."""
    if row is None:
        if state is not None and state.live:
            result.problems.append(Problem(state.seq, state.where, f"{label} is missing (deleted)"))
        return
    if state is None or not state.live:
        result.problems.append(
            Problem(None, label, "has no ledger entry (written behind the application)")
        )
    elif sha256_hex(canonical_json(row)) != state.digest:
        result.problems.append(Problem(state.seq, state.where, "was changed after it was recorded"))


# --- the chain ------------------------------------------------------------------------------


def _check_chain(result: Verification, start_seq: int, start_hash: str, on_entry) -> None:
    previous_hash, next_seq = start_hash, start_seq + 1
    entries = LedgerEntry.objects.filter(seq__gt=start_seq).order_by("seq")
    for entry in entries.iterator(chunk_size=CHUNK):
        where = _where(entry)
        if entry.seq != next_seq:
            result.problems.append(
                Problem(entry.seq, where, f"entries #{next_seq}–#{entry.seq - 1} are missing")
            )
        if entry.prev_hash != previous_hash:
            result.problems.append(Problem(entry.seq, where, "does not follow the entry before"))
        if entry_hash(entry) != entry.hash:
            result.problems.append(Problem(entry.seq, where, "the entry itself was altered"))
        previous_hash, next_seq = entry.hash, entry.seq + 1
        result.entries += 1
        result.head = (entry.seq, entry.hash)
        on_entry(entry)


# --- rows, full check: merge each table with its entries in primary-key order ----------------


def _entries_by_row(type_name: str) -> Iterator[tuple[int, list]]:
    """(row pk, its entries in sequence order) for one table, in pk order, streamed."""
    entries = (
        LedgerEntry.objects.filter(object_type=type_name, kind__in=ROW_KINDS)
        .filter(object_pk__regex=r"^[0-9]{1,18}$")
        .annotate(row_pk=Cast("object_pk", BigIntegerField()))
        .order_by("row_pk", "seq")
    )
    current, group = None, []
    for entry in entries.iterator(chunk_size=CHUNK):
        if entry.row_pk != current and group:
            yield current, group
            group = []
        current = entry.row_pk
        group.append(entry)
    if group:
        yield current, group


def _check_table_full(result: Verification, model) -> None:
    pk_name = model._meta.pk.attname
    label = model._meta.verbose_name
    rows = model._base_manager.order_by(pk_name).values().iterator(chunk_size=CHUNK)
    row = next(rows, None)
    for pk, entries in _entries_by_row(object_type(model)):
        while row is not None and row[pk_name] < pk:
            _compare(result, f"{label} {row[pk_name]}", None, row)
            row = next(rows, None)
        state = None
        for entry in entries:
            state = _fold(result, state, entry)
        matched = row if row is not None and row[pk_name] == pk else None
        _compare(result, f"{label} {pk}", state, matched)
        if matched is not None:
            row = next(rows, None)
    while row is not None:
        _compare(result, f"{label} {row[pk_name]}", None, row)
        row = next(rows, None)


def _check_rows_full(result: Verification) -> None:
    models = covered_models()
    for model in models:
        _check_table_full(result, model)
    known = [object_type(model) for model in models]
    strays = LedgerEntry.objects.filter(kind__in=ROW_KINDS).exclude(
        object_type__in=known, object_pk__regex=r"^[0-9]{1,18}$"
    )
    for entry in strays.iterator(chunk_size=CHUNK):
        result.problems.append(
            Problem(entry.seq, _where(entry), f"{entry.object_type} {entry.object_pk} is missing")
        )


# --- rows, checkpointed check: only what came after the checkpoint -----------------------------


def _check_rows_since(result: Verification, new_entries: dict, checkpoint) -> None:
    """Rows above the checkpoint's high-water marks, and rows that newer entries name."""
    models = covered_models()
    for model in models:
        type_name = object_type(model)
        pk_name = model._meta.pk.attname
        label = model._meta.verbose_name
        entries = new_entries.pop(type_name, {})
        states = _states_before(result, type_name, entries, checkpoint.seq)
        high = checkpoint.high_water.get(model._meta.label_lower, 0)
        seen = set()
        for row in model._base_manager.filter(pk__gt=high).order_by(pk_name).values().iterator():
            pk = row[pk_name]
            seen.add(pk)
            _compare(result, f"{label} {pk}", states.get(pk), row)
        older = [pk for pk in states if pk not in seen]
        for start in range(0, len(older), CHUNK):
            chunk = older[start : start + CHUNK]
            found = {row[pk_name]: row for row in model._base_manager.filter(pk__in=chunk).values()}
            for pk in chunk:
                _compare(result, f"{label} {pk}", states[pk], found.get(pk))
    for type_name, entries in new_entries.items():
        for pk, group in entries.items():
            first = group[0]
            result.problems.append(
                Problem(first.seq, _where(first), f"{type_name} {pk} is missing")
            )


def _states_before(result: Verification, type_name: str, entries: dict, since: int) -> dict:
    """Expected state per row named by entries after the checkpoint, folding in the row's
    earlier entry where a newer one is its tombstone."""
    states: dict[int, _Expected | None] = {}
    purged = [pk for pk, group in entries.items() if group[0].kind == LedgerEntry.Kind.TOMBSTONE]
    earlier: dict[int, LedgerEntry] = {}
    for start in range(0, len(purged), CHUNK):
        chunk = [str(pk) for pk in purged[start : start + CHUNK]]
        before = LedgerEntry.objects.filter(
            object_type=type_name, object_pk__in=chunk, kind__in=ROW_KINDS, seq__lte=since
        ).order_by("seq")
        earlier.update({int(entry.object_pk): entry for entry in before})
    for pk, group in entries.items():
        state = None
        for entry in ([earlier[pk]] if pk in earlier else []) + group:
            state = _fold(result, state, entry)
        states[pk] = state
    return states


# --- batches ----------------------------------------------------------------------------------


def _check_batches(result: Verification, batches: list, checkpoint=None) -> None:
    """Recompute each batch's digest (over its rows in pk order) against its latest entry, and
    find rows whose batch has no entry. A checkpointed check reads only the batches with a
    newer entry or with rows above the high-water mark."""
    by_type: dict[str, dict[str, LedgerEntry]] = defaultdict(dict)
    for entry in batches:
        by_type[entry.object_type][entry.object_pk] = entry
    for type_name, (row_model, fk) in BATCH_MEMBERS.items():
        entries = by_type.get(type_name, {})
        rows = row_model._base_manager.all()
        records = apps.get_model(type_name)._base_manager.all()
        if checkpoint is not None:
            high = checkpoint.high_water.get(row_model._meta.label_lower, 0)
            records = records.filter(pk__gt=checkpoint.high_water.get(type_name, 0))
            touched = set(rows.filter(pk__gt=high).values_list(fk, flat=True).distinct())
            touched |= set(records.values_list("pk", flat=True))
            touched = {str(pk) for pk in touched} | set(entries)
            _add_latest_entries(entries, type_name, touched - set(entries))
            rows = rows.filter(**{f"{fk}__in": list(touched)})
        _check_batch_records(result, records, entries)
        _compare_batches(result, row_model, fk, rows, entries)


def _check_batch_records(result: Verification, records, entries: dict) -> None:
    """Every batch record (an import) must have its batch entry, even a batch that stored no
    row: else the entry of a batch of duplicates could be removed unnoticed."""
    label = records.model._meta.verbose_name
    for pk in records.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=CHUNK):
        if str(pk) not in entries:
            result.problems.append(Problem(None, f"{label} #{pk}", "has no batch entry"))


def _add_latest_entries(entries: dict, type_name: str, batch_pks: set[str]) -> None:
    found = LedgerEntry.objects.filter(
        object_type=type_name, object_pk__in=list(batch_pks), kind=LedgerEntry.Kind.BATCH
    ).order_by("seq")
    for entry in found:
        entries[entry.object_pk] = entry


def _compare_batches(result: Verification, row_model, fk: str, rows, entries: dict) -> None:
    digests: dict[str, BatchDigest] = defaultdict(BatchDigest)
    fields = row_fields(row_model)
    position = fields.index(fk)
    for row in rows.order_by(fk, "pk").values_list(*fields).iterator(chunk_size=CHUNK):
        digests[str(row[position])].add(row)
    label = row_model._meta.verbose_name
    for batch_pk, digest in digests.items():
        entry = entries.pop(batch_pk, None)
        if entry is None:
            result.problems.append(
                Problem(
                    None,
                    f"{label} batch {batch_pk}",
                    "rows have no ledger entry (written behind the application)",
                )
            )
        elif digest.hexdigest() != entry.digest:
            result.problems.append(
                Problem(entry.seq, entry.record_label, "rows of this batch were changed")
            )
    for entry in entries.values():
        if entry.digest == EMPTY_BATCH_DIGEST:
            continue  # a batch of duplicates only (or purged to nothing): no row owed
        result.problems.append(
            Problem(entry.seq, entry.record_label, "rows of this batch are missing")
        )


# --- the whole check --------------------------------------------------------------------------


@contextmanager
def _snapshot():
    """One consistent view of the database for the whole check, taking no write lock:
    REPEATABLE READ on PostgreSQL, a deferred read transaction on SQLite (WAL)."""
    if connection.in_atomic_block:
        yield  # already inside a transaction (tests, or a caller's): its view is consistent
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")


def high_water_marks() -> dict[str, int]:
    marks = {}
    for model in watched_models():
        top = model._base_manager.aggregate(top=Max("pk"))["top"]
        marks[model._meta.label_lower] = top or 0
    return marks


def verify_audit(
    expect_head: tuple[int, str] | None = None,
    *,
    since_checkpoint: bool = False,
    record_checkpoint: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Recompute the chain and every digest (from the last checkpoint with
    `since_checkpoint`); `expect_head` is a (seq, hash) kept outside the server. With
    `record_checkpoint`, an intact result leaves a signed checkpoint for the next check.
    `progress` is called with the number of entries read, every PROGRESS_EVERY entries."""
    result = Verification()
    with _snapshot():
        checkpoint = _usable_checkpoint(result) if since_checkpoint else None
        marks = high_water_marks() if record_checkpoint else {}
        if checkpoint is None:
            _verify_full(result, progress)
        else:
            _verify_since(result, checkpoint, progress)
        if expect_head is not None:
            _check_expected_head(result, expect_head)
    result.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    if record_checkpoint and result.intact and result.head[0]:
        write_checkpoint(*result.head, marks, full=checkpoint is None)
    return result


def _usable_checkpoint(result: Verification):
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return None
    if not checkpoint_is_genuine(checkpoint):
        result.problems.append(
            Problem(checkpoint.seq, f"checkpoint {checkpoint.pk}", "its signature does not match")
        )
        return None
    kept = LedgerEntry.objects.filter(seq=checkpoint.seq).values_list("hash", flat=True).first()
    if kept != checkpoint.hash:
        result.problems.append(
            Problem(checkpoint.seq, "ledger", "no longer holds the entry the checkpoint signed")
        )
        return None
    result.since = checkpoint.seq
    result.head = (checkpoint.seq, checkpoint.hash)
    return checkpoint


def _report(result: Verification, progress) -> None:
    if progress is not None and result.entries % PROGRESS_EVERY == 0:
        progress(result.entries)


def _verify_full(result: Verification, progress=None) -> None:
    batches: list[LedgerEntry] = []

    def on_entry(entry):
        _report(result, progress)
        if entry.kind == LedgerEntry.Kind.BATCH:
            batches.append(entry)

    _check_chain(result, 0, GENESIS_HASH, on_entry)
    _check_rows_full(result)
    check_live_rows(result)
    _check_batches(result, batches)
    for check in EXTRA_CHECKS:
        result.problems.extend(check(None))


def _verify_since(result: Verification, checkpoint, progress=None) -> None:
    batches: list[LedgerEntry] = []
    new_entries: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))

    def on_entry(entry):
        _report(result, progress)
        if entry.kind == LedgerEntry.Kind.BATCH:
            batches.append(entry)
        elif entry.kind in ROW_KINDS:
            new_entries[entry.object_type][_row_pk(entry)].append(entry)

    _check_chain(result, checkpoint.seq, checkpoint.hash, on_entry)
    _check_rows_since(result, new_entries, checkpoint)
    check_live_rows_since(result, checkpoint.high_water)
    _check_batches(result, batches, checkpoint)
    for check in EXTRA_CHECKS:
        result.problems.extend(check(checkpoint.high_water))


def _row_pk(entry) -> int | str:
    return int(entry.object_pk) if entry.object_pk.isdigit() else entry.object_pk


def _check_expected_head(result: Verification, expect_head: tuple[int, str]) -> None:
    seq, head_hash = expect_head
    kept = LedgerEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if kept != head_hash:
        result.problems.append(
            Problem(seq, "ledger head", "differs from the head kept outside the server")
        )
