"""The hash-chained ledger: appending entries and checking the chain.

Every history row (and every append-only record saved on its own) gets an entry in the same
transaction as the change. Entries are chained: each one's hash covers the previous hash, so
an entry cannot be changed, inserted or removed without breaking every hash after it. Each
entry's digest covers the row as the database stored it, so a row changed behind the
application's back no longer matches its entry.

Writers are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
IMMEDIATE transactions configured in settings (one writer at a time). Inside a service's
transaction the entries are collected and chained together at its end (`deferred_chaining`),
so the lock is held for the chaining, never for the length of a job (docs/ledger.md).
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from facility_log.models import LedgerEntry
from facility_log.services.ledger_hashing import (  # noqa: F401 - the ledger's interface
    CHAIN_CHUNK,
    COPY_MIN_ENTRIES,
    ENTRY_FIELDS,
    GENESIS_HASH,
    LEDGER_LOCK_KEY,
    _canonical_value,
    canonical_json,
    entry_document,
    entry_hash,
    entry_hash_of_document,
    object_type,
    sha256_hex,
)
from facility_log.services.ledger_held import HeldInsert, held_insert
from facility_log.services.ledger_statements import (
    chain_many,
    chain_one,
    copy_entries,
    entry_actor_id,
    entry_content,
)


def stored_row_digest(model: type[Model], pk) -> str:
    """Digest of the row exactly as the database holds it (read back, so the check later
    reads the same values)."""
    return sha256_hex(canonical_json(model._base_manager.filter(pk=pk).values().get()))


def _locked_head() -> tuple[int, str]:
    """Take the ledger's lock and read the head under it, in one round trip on PostgreSQL.

    The head must be read after the lock is granted: one statement reads the snapshot taken
    when it started, so `SELECT lock, head` could read a head another writer has moved on
    from meanwhile. Two statements sent as one simple-protocol query (psycopg's client-side
    cursor, Django's default) each take their own snapshot, in order: the second starts once
    the first holds the lock, and it costs one round trip instead of two on every write."""
    if connection.vendor != "postgresql":
        return ledger_head()  # SQLite: the IMMEDIATE transaction already excludes writers
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_advisory_xact_lock(%s); "  # noqa: S608 - our own table name
            f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1",
            [LEDGER_LOCK_KEY],
        )
        cursor.nextset()
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


@dataclass
class PendingEntry:
    """An entry waiting to be chained: everything but its place in the chain. `digest` is
    None for a row whose digest is read back from the database when the entry is chained."""

    kind: str
    model: type[Model]
    pk: object
    digest: str | None
    actor: object
    label: str
    # The row's INSERT, held back to go with the entry (services/ledger_held.py).
    held: HeldInsert | None = None


# The entries written inside the current `deferred_chaining()` block, in the order of the
# writes; None outside one (entries are then chained at once).
_pending: ContextVar[list[PendingEntry] | None] = ContextVar("facility_log_ledger", default=None)
# True inside a nested `deferred_chaining()` block (the enclosing one chains, later).
_nested: ContextVar[bool] = ContextVar("facility_log_ledger_nested", default=False)
# The savepoints open when the outermost block began: a row is held back only at that depth,
# so that no savepoint its writer might roll back lies between it and the block's end.
_depth: ContextVar[int | None] = ContextVar("facility_log_ledger_depth", default=None)


@contextmanager
def deferred_chaining() -> Iterator[None]:
    """Chain the entries of the enclosed writes in one short step at the end of the block.

    The chain is one sequence, so whoever appends holds the ledger's lock until their
    transaction commits. Appending as each row is written would hold it for the whole of a
    long job (an import raising thousands of alarms) and stop every other writer; collecting
    the entries and chaining them together just before the block ends holds it for the
    chaining alone. `audited_change` opens one around every service's transaction.
    Entries of rows rolled back inside the block (a savepoint that failed) are dropped: the
    rows are read back when the entries are chained, and a row that is gone owes no entry.
    """
    outer = _pending.get()
    if outer is not None:
        mark = len(outer)
        nested = _nested.set(True)
        try:
            with transaction.atomic():
                yield  # the outermost block chains
        except BaseException:
            # This block's savepoint was rolled back with its rows: their entries go too
            # (an entry given its digest up front would otherwise outlive its row).
            del outer[mark:]
            raise
        finally:
            _nested.reset(nested)
        return
    pending: list[PendingEntry] = []
    token = _pending.set(pending)
    depth = None
    try:
        with transaction.atomic():
            depth = _depth.set(len(connection.savepoint_ids))
            yield
            _pending.set(None)
            chain_entries(pending)
    finally:
        if depth is not None:
            _depth.reset(depth)
        _pending.reset(token)


def append_entry(
    *, kind: str, model: type[Model], pk, digest: str | None, actor=None, label: str = ""
) -> None:
    """Add an entry at the head of the chain: at the end of the enclosing
    `deferred_chaining()` block, or at once (inside the caller's transaction) outside one."""
    entry = PendingEntry(kind, model, pk, digest, actor, label)
    pending = _pending.get()
    if pending is None:
        chain_entries([entry])
    else:
        pending.append(entry)


def hold_insert(instance: Model, actor=None) -> bool:
    """Hold back the INSERT of `instance` (an append-only record, its primary key already
    taken from its sequence) to send it with its ledger entry in one round trip at the end
    of the block (services/ledger_held.py). Only in the outermost `deferred_chaining()`
    block on PostgreSQL, and only for a row nothing reads or refers to before the block
    ends; returns False otherwise (then the caller saves it as usual). The entry is the one
    the `post_save` receiver appends for such a record (`record_append_only_row`)."""
    pending = _pending.get()
    if pending is None or _nested.get() or connection.vendor != "postgresql":
        return False
    if len(connection.savepoint_ids) != _depth.get():  # a savepoint in between
        return False
    model = type(instance)
    if not _ledger_receiver_alone(model):
        return False
    held = held_insert(instance)
    label = f"{model._meta.verbose_name} #{instance.pk}"
    digest = sha256_hex(canonical_json(held.sent))
    pending.append(
        PendingEntry(LedgerEntry.Kind.RECORD, model, instance.pk, digest, actor, label, held)
    )
    return True


def _ledger_receiver_alone(model: type[Model]) -> bool:
    """True for an append-only model chained row by row whose only `post_save` receiver is
    the ledger's (signals.chain_append_only_row): holding its INSERT back skips `save()` and
    its signals, so any other receiver (or a model chained per batch) must take the usual
    path."""
    from django.db.models.signals import post_save

    from facility_log.models.base import AppendOnlyModel

    if not issubclass(model, AppendOnlyModel) or model is LedgerEntry:
        return False
    if not getattr(model, "ledger_per_row", True):
        return False
    sync_receivers, async_receivers = post_save._live_receivers(model)
    return not async_receivers and [(r.__module__, r.__qualname__) for r in sync_receivers] == [
        ("facility_log.signals", "chain_append_only_row")
    ]


def insert_held() -> None:
    """Insert the rows held back in this block now (something is about to refer to them or
    read them), each entry's digest taken from the row as the INSERT returned it."""
    _insert_held(_pending.get() or [])


def _insert_held(pending: list[PendingEntry]) -> None:
    """Insert the held rows on their own (when their entries are not chained one by one in
    `ledger_statements.chain_one`), each entry's digest taken from the row as stored."""
    for entry in pending:
        if entry.held is not None:
            with connection.cursor() as cursor:
                cursor.execute(entry.held.sql, entry.held.params)
                entry.digest = sha256_hex(canonical_json(entry.held.stored(cursor.fetchone())))
            entry.held = None


def provide_digest(model: type[Model], pk, row: dict) -> None:
    """Give a pending entry the digest of its row as `row` (its `values()`, read back in this
    transaction after its last write) holds it, sparing `_read_digests` a query. Only for a
    row not written again before the block ends (an append-only record)."""
    pending = _pending.get()
    if pending is None:
        return
    for entry in reversed(pending):
        if entry.model is model and entry.pk == pk and entry.digest is None:
            entry.digest = sha256_hex(canonical_json(row))
            return


def _read_digests(pending: list[PendingEntry]) -> dict[tuple, str]:
    """Digests of the rows the entries cover, read back in one query per table and chunk."""
    wanted: dict[type[Model], list] = {}
    for entry in pending:
        if entry.digest is None:
            wanted.setdefault(entry.model, []).append(entry.pk)
    digests = {}
    for model, pks in wanted.items():
        pk_name = model._meta.pk.attname
        for start in range(0, len(pks), CHAIN_CHUNK):
            rows = model._base_manager.filter(pk__in=pks[start : start + CHAIN_CHUNK]).values()
            for row in rows:
                digests[(model, row[pk_name])] = sha256_hex(canonical_json(row))
    return digests


def chain_entries(pending: list[PendingEntry]) -> None:
    """Give the entries their places after the head, under the ledger's lock (held from
    here until the transaction commits: only as long as this takes, not the whole job)."""
    single = connection.vendor == "postgresql" and len(pending) == 1
    if not single:
        _insert_held(pending)
    digests = _read_digests(pending)
    if single:
        entry = pending[0]
        digest = entry.digest if entry.digest is not None else digests.get((entry.model, entry.pk))
        if digest is not None:  # else the row was rolled back with its savepoint
            chain_one(entry, digest)
        return
    if connection.vendor == "postgresql" and len(pending) < COPY_MIN_ENTRIES:
        items = [(item, item.digest or digests.get((item.model, item.pk))) for item in pending]
        if items := [(item, digest) for item, digest in items if digest is not None]:
            chain_many(items)  # the others' rows were rolled back with their savepoints
        return
    # No savepoint of its own: inside a service's transaction a failure here fails the whole
    # transaction anyway, and a savepoint would cost two more queries on every write.
    with transaction.atomic(savepoint=False):
        seq, prev_hash = _locked_head()
        now = timezone.now()
        # Built as plain values, not LedgerEntry objects: this runs under the lock, for
        # thousands of entries at once in an import (a model object per entry cost as much
        # as hashing it). The hash is `entry_hash` of the same values.
        created_at = _canonical_value(now)
        rows = []
        for item in pending:
            digest = item.digest if item.digest is not None else digests.get((item.model, item.pk))
            if digest is None:
                continue  # the row was rolled back with its savepoint
            seq += 1
            document = {
                "seq": seq,
                **entry_content(item, digest, created_at),
                "prev_hash": prev_hash,
            }
            document["hash"] = prev_hash = entry_hash_of_document(document)
            document["created_at"] = now
            document["actor_id"] = entry_actor_id(item)
            rows.append(document)
        if connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ENTRIES:
            copy_entries(rows)
        else:
            LedgerEntry.objects.bulk_create(
                [LedgerEntry(**row) for row in rows], batch_size=CHAIN_CHUNK
            )


def record_history_row(history_row) -> None:
    """Ledger entry for a history row just written by simple-history."""
    model = type(history_row)
    instance_model = model.instance_type
    append_entry(
        kind=LedgerEntry.Kind.HISTORY,
        model=model,
        pk=history_row.pk,
        digest=None,
        actor=history_row.history_user,
        label=f"{instance_model._meta.verbose_name} #{history_row.id}",
    )


def record_append_only_row(instance: Model, actor=None) -> None:
    """Ledger entry for an append-only record saved on its own (a scan, a supplement)."""
    model = type(instance)
    append_entry(
        kind=LedgerEntry.Kind.RECORD,
        model=model,
        pk=instance.pk,
        digest=None,
        actor=actor,
        label=f"{model._meta.verbose_name} #{instance.pk}",
    )


def _batch_value(value):
    """A value as the database gives it back: times in UTC, and choices (str or int enums,
    whose `repr` names the enum class) as their plain value, so the writer's digest of the
    objects it inserts equals the verifier's digest of the rows it reads."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str) and type(value) is not str:
        return str.__str__(value)
    if isinstance(value, int) and type(value) not in (int, bool):
        return int(value)
    return value


class BatchDigest:
    """Digest over a batch's rows in insertion (primary-key) order, each row as the tuple of
    its values without the primary key, times in UTC.

    Batches are large (an import of 100,000 door events): the writer digests the rows as it
    inserts them, and only `verify_audit` reads them back, from the same database, so a row's
    `repr` serves as well as canonical JSON at a fraction of the cost. (Rows that leave the
    system, in exports, use canonical JSON.)"""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, values: tuple) -> None:
        self._hash.update(repr(tuple(_batch_value(v) for v in values)).encode())
        self._hash.update(b"\n")

    def add_normalised(self, values: tuple) -> None:
        """`add` for a writer whose values are already as the database gives them back
        (plain str and int, times in UTC): the same digest without the per-value checks."""
        self._hash.update(repr(values).encode())
        self._hash.update(b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# The digest of a batch that stored no row (every event of it was already stored).
EMPTY_BATCH_DIGEST = BatchDigest().hexdigest()


def row_fields(model: type[Model]) -> list[str]:
    """The columns a batch digest covers: every concrete field but the primary key."""
    return [field.attname for field in model._meta.concrete_fields if not field.primary_key]


def instance_values(instance: Model, fields: list[str]) -> tuple:
    return tuple(getattr(instance, name) for name in fields)


def batch_digest(rows) -> str:
    """Digest of a queryset of rows read back from the database."""
    digest = BatchDigest()
    values = rows.order_by("pk").values_list(*row_fields(rows.model))
    for row in values.iterator(chunk_size=5000):
        digest.add(row)
    return digest.hexdigest()


def record_batch(batch_record: Model, digest: str, actor=None, label: str = "") -> None:
    """One entry for a whole batch of append-only rows written with bulk_create; it points at
    the record describing the batch (e.g. an ImportBatch) and carries the rows' BatchDigest."""
    append_entry(
        kind=LedgerEntry.Kind.BATCH,
        model=type(batch_record),
        pk=batch_record.pk,
        digest=digest,
        actor=actor,
        label=label or f"{type(batch_record)._meta.verbose_name} #{batch_record.pk}",
    )


def record_tombstone(*, model: type[Model], pk, digest: str, rule: str, actor=None) -> None:
    """The entry that stands for a row removed by the retention purge (the one path that
    deletes audited rows): which row, the digest it had when it was purged, and under which
    rule. `verify_audit` then expects the row to be gone, and a row that was altered before
    its purge still shows (its digest differs from the one recorded when it was written)."""
    append_entry(
        kind=LedgerEntry.Kind.TOMBSTONE,
        model=model,
        pk=pk,
        digest=digest,
        actor=actor,
        label=f"purged {model._meta.verbose_name} #{pk} ({rule})",
    )


def ledger_head() -> tuple[int, str]:
    last = LedgerEntry.objects.order_by("-seq").only("seq", "hash").first()
    return (last.seq, last.hash) if last else (0, GENESIS_HASH)


@dataclass
class Problem:
    seq: int | None
    object: str
    message: str

    def __str__(self) -> str:
        where = f"entry #{self.seq}" if self.seq is not None else "no entry"
        return f"{where} ({self.object}): {self.message}"


@dataclass
class Verification:
    entries: int = 0
    head: tuple[int, str] = (0, GENESIS_HASH)
    # The checkpoint the check started from (None: a full check from the first entry).
    since: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems
