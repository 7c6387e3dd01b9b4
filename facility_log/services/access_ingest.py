"""Access events: the one ingestion path (file, batch API, webhook) — storing checked rows.

Ingestion runs in two passes so that a bad line leaves no trace and memory stays flat:

1. read and check every row (door known, time with offset, type in the vocabulary, …),
   collecting every error with its line and column, and spooling the good rows to a temporary
   file in chunks. Nothing is kept per row in memory (no set of keys): duplicates are the
   database's business in pass 2.
2. only if no row failed: each chunk is written in its own short transaction. The chunk is
   loaded into a temporary staging table (PostgreSQL: `COPY`; SQLite: one `executemany`) and
   moved into the events table with `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`, so
   the unique key (site, source, external id) finds rows already stored or repeated in the
   input, and the rows returned are exactly the new ones. In the same transaction the chunk
   gets its ImportBatch record (with what it added), its ledger batch entry (the digest of
   exactly the rows it stored) and its alarms, derived by the database from the rows stored,
   with their history (services/access_ingest_alarms.py).

A chunk that commits is complete and verifiable on its own, so a long import never holds the
SQLite write lock or the ledger's lock for longer than one chunk, and an import stopped
half-way is completed by importing the same input again: what was stored is skipped as
duplicates (docs/access.md, "Large imports").

Calls of the batch API and the webhook (bounded in size, answered item by item) run all their
chunks in one transaction: all or nothing even if the database fails half-way.
"""

import csv
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC
from operator import itemgetter

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from facility_log.models import AccessEvent, ImportBatch, Site, SourceFormat
from facility_log.scoping import INGEST_ROLES, require_role
from facility_log.services import ledger, notifications
from facility_log.services.access import (
    AlarmRules,
    IngestRefused,
    RowError,
    Skipped,
    _Checker,
    describe_skipped,
)
from facility_log.services.access_formats import FormatError, Incoming
from facility_log.services.access_ingest_alarms import raise_alarms
from facility_log.services.audit import audited_change, current_request_id

# Rows per chunk, i.e. per transaction. SQLite: short enough that another writer waits well
# under its 20 s timeout (a chunk of 2,000 takes tens of milliseconds); PostgreSQL: larger,
# as each chunk costs a few round trips and a ledger append.
CHUNK_SIZE = {"postgresql": 10000}
DEFAULT_CHUNK_SIZE = 2000
# SQLite has one write lock and no queue: a waiting writer retries on a backoff that reaches
# 100 ms between tries, so an import that starts its next chunk at once wins the lock again
# and again, and a guard's scan waited up to 30 s behind a 200,000-event import
# (bench/import_load.py --backend sqlite). Pausing this long between chunks lets every
# writer that is waiting in (about 10 s over 100 chunks). PostgreSQL queues writers: none.
BETWEEN_CHUNKS_SECONDS = {"sqlite": 0.12}

# The staging table's columns, in the order of a checked row (see _Checker.check), after
# `ordinal` (the row's position in the input).
STAGED = (
    "source",
    "external_id",
    "event_type",
    "reason",
    "vendor_type",
    "occurred_at",
    "door_id",
    "direction",
    "cardholder",
    "credential_hash",
    "credential_hint",
)
STAGING_TABLE = "fl_access_event_staging"

Progress = Callable[[str, int, int | None], None]


@dataclass
class IngestResult:
    """What one accepted ingestion call did (over all its chunks and batches)."""

    batch: ImportBatch | None
    total: int = 0
    created: int = 0
    duplicates: int = 0
    alarms: int = 0
    statuses: list[str] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    # Events skipped because their source is not a door (source name → count).
    skipped: dict[str, int] = field(default_factory=dict)

    def skipped_summary(self) -> str:
        return describe_skipped(self.skipped)


def chunk_size() -> int:
    return CHUNK_SIZE.get(connection.vendor, DEFAULT_CHUNK_SIZE)


# --- pass 1: check and spool -------------------------------------------------------------------


class _Spool:
    """Good rows, pickled to a temporary file chunk by chunk (flat memory)."""

    def __init__(self):
        # Closed by ingest_events once both passes are done.
        self.file = tempfile.TemporaryFile()  # noqa: SIM115
        self.rows = 0

    def add(self, rows: list[tuple]) -> None:
        pickle.dump(rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows += len(rows)

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
    errors: list[RowError] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    # Ordinals of skipped rows, kept only for calls answered item by item (bounded).
    skipped_at: list[int] = field(default_factory=list)


def _first_pass(rows, checker, spool, size, progress, every, per_item=False) -> _Pass1:
    """Check every row; spool (ordinal, checked row) in chunks while no row has failed."""
    result = _Pass1()
    chunk: list[tuple] = []
    try:
        for row in rows:
            index = result.total
            result.total += 1
            checked = checker.check(row)
            if isinstance(checked, Skipped):
                result.skipped[checked.source] = result.skipped.get(checked.source, 0) + 1
                if per_item:
                    result.skipped_at.append(index)
            elif isinstance(checked, list):
                result.errors.extend(checked)
            elif not result.errors:
                chunk.append((index, *checked))
                if len(chunk) >= size:
                    spool.add(chunk)
                    chunk = []
            if progress and result.total % every == 0:
                progress("checked", result.total, None)
    except FormatError as error:
        result.errors.append(RowError(error.line, error.column, error.message))
    except UnicodeDecodeError as error:
        result.errors.append(RowError(result.total + 2, "", f"not UTF-8 text ({error.reason})"))
    except csv.Error as error:
        result.errors.append(RowError(result.total + 2, "", f"not readable as CSV ({error})"))
    if chunk and not result.errors:
        spool.add(chunk)
    if not result.total and not result.errors:
        result.errors.append(RowError(1, "", "no events in the input"))
    return result


# --- pass 2: one chunk, one transaction ------------------------------------------------------


def _reserve_batch_pk() -> int:
    """The primary key the chunk's ImportBatch will have. The batch is written after its
    events (only then are its counts known; it is append-only); the events' foreign key to it
    is checked at commit (Django declares foreign keys DEFERRABLE INITIALLY DEFERRED)."""
    table = ImportBatch._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
        else:
            # Inside the chunk's write transaction (IMMEDIATE): nobody else can take this key.
            cursor.execute(
                f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
                f"coalesce((SELECT max(id) FROM {table}), 0)) + 1",
                [table],
            )
        return cursor.fetchone()[0]


def _stage(cursor, chunk: list[tuple]) -> None:
    """Load the chunk into the (empty) temporary staging table."""
    columns = ", ".join(("ordinal", *STAGED))
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {STAGING_TABLE} ({columns}) FROM STDIN") as copy:
            for row in chunk:
                copy.write_row(row)
        return
    adapt = connection.ops.adapt_datetimefield_value
    at = 1 + STAGED.index("occurred_at")
    cursor.executemany(
        f"INSERT INTO {STAGING_TABLE} ({columns}) VALUES ({', '.join(['%s'] * (1 + len(STAGED)))})",  # noqa: S608
        [(*row[:at], adapt(row[at]), *row[at + 1 :]) for row in chunk],
    )


def _create_staging(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING_TABLE} ("
            "ordinal integer, source varchar(64), external_id varchar(128), "
            "event_type varchar(16), reason varchar(32), vendor_type varchar(128), "
            "occurred_at timestamptz, door_id bigint, direction varchar(3), "
            "cardholder varchar(200), credential_hash varchar(64), credential_hint varchar(2)"
            ") ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGING_TABLE}")
    else:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING_TABLE} (ordinal, {', '.join(STAGED)})"
        )
        cursor.execute(f"DELETE FROM {STAGING_TABLE}")  # noqa: S608


def _insert_new(site: Site, batch_pk: int, received_at, chunk: list[tuple]) -> list[tuple]:
    """Move the chunk into the events table; return (id, source, external_id) of the rows that
    were new, found by the unique key (ON CONFLICT DO NOTHING), not by a set in memory."""
    table = AccessEvent._meta.db_table
    received = received_at
    if connection.vendor != "postgresql":
        received = connection.ops.adapt_datetimefield_value(received_at)
    with connection.cursor() as cursor:
        _create_staging(cursor)
        _stage(cursor, chunk)
        # `WHERE true`: SQLite would read `ON CONFLICT` as a join's ON clause otherwise.
        cursor.execute(
            f"INSERT INTO {table} (site_id, batch_id, received_at, {', '.join(STAGED)}) "  # noqa: S608
            f"SELECT %s, %s, %s, {', '.join(STAGED)} FROM {STAGING_TABLE} WHERE true "
            "ORDER BY ordinal "
            "ON CONFLICT (site_id, source, external_id) DO NOTHING "
            "RETURNING id, source, external_id",
            [site.pk, batch_pk, received],
        )
        return cursor.fetchall()


def _stored_rows(chunk: list[tuple], returned: list[tuple]) -> list[tuple[int, tuple]]:
    """(event id, checked row) of each new row, in primary-key order. Of rows repeated in the
    input the first was inserted (ORDER BY ordinal), so the first row with a key is taken."""
    first: dict[tuple[str, str], tuple] = {}
    for row in chunk:
        first.setdefault((row[1], row[2]), row)
    return sorted((pk, first[(source, external_id)]) for pk, source, external_id in returned)


def _digest(site: Site, batch_pk: int, received_at, stored: list[tuple[int, tuple]]) -> str:
    """The ledger's BatchDigest of the stored rows, computed from the values written (the
    verifier recomputes it from the rows read back). Values are made plain here, once per
    row, as the database gives them back: the time in UTC, the event type a plain str."""
    digest = ledger.BatchDigest()
    positions = {name: 1 + index for index, name in enumerate(STAGED)}
    at_time = positions["occurred_at"]
    # Choices (an event type, a denial reason from a vendor mapping) are str subclasses whose
    # repr differs from the plain value the database gives back.
    choices = [positions["event_type"], positions["reason"]]
    # The digest's columns picked from [*row, site, batch, received] by one itemgetter.
    constant = {"site_id": site.pk, "batch_id": batch_pk, "received_at": received_at}
    width = 1 + len(STAGED)
    extra = {name: width + index for index, name in enumerate(constant)}
    fields = ledger.row_fields(AccessEvent)
    pick = itemgetter(*(extra.get(name) or positions[name] for name in fields))
    tail = tuple(constant.values())
    for _pk, row in stored:
        plain = [*row, *tail]
        plain[at_time] = row[at_time].astimezone(UTC)
        for at in choices:
            if type(row[at]) is not str:
                plain[at] = str.__str__(row[at])
        digest.add_normalised(pick(plain))
    return digest.hexdigest()


def _check_keys_now() -> None:
    """PostgreSQL: check the chunk's foreign keys now instead of at commit.

    Django declares them DEFERRABLE INITIALLY DEFERRED (the events point at their batch
    before it is written), so they are checked when the transaction commits: after the
    ledger entries are chained, under the ledger's lock, which every other writer waits for.
    For a chunk of 10,000 events (site, door, batch) and its alarms that was about a quarter
    of a second each time. Setting them IMMEDIATE checks what is outstanding at once
    (PostgreSQL applies the change retroactively); DEFERRED again restores how every
    deferrable constraint of the schema starts, for the chunks that follow in the same
    transaction (the batch API's)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")


@dataclass
class _Call:
    """What every chunk of one ingestion call shares."""

    site: Site
    actor: AbstractBaseUser
    channel: str
    vendor: str
    file_name: str
    rules: AlarmRules


def _write_chunk(call: _Call, chunk: list[tuple], result: IngestResult) -> None:
    """Store one chunk with its batch record, ledger entry and alarms, in one transaction."""
    with audited_change(call.actor, f"access events received ({call.channel})"):
        received_at = timezone.now().astimezone(UTC)
        batch_pk = _reserve_batch_pk()
        returned = _insert_new(call.site, batch_pk, received_at, chunk)
        stored = _stored_rows(chunk, returned)
        batch = ImportBatch(
            pk=batch_pk,
            site=call.site,
            channel=call.channel,
            source_format=call.vendor,
            file_name=call.file_name[:255],
            actor=call.actor,
            actor_name=call.actor.get_username(),
            request_id=current_request_id(),
            total=len(chunk),
            created=len(stored),
            duplicates=len(chunk) - len(stored),
        )
        batch.save(force_insert=True)
        ledger.record_batch(batch, _digest(call.site, batch_pk, received_at, stored), call.actor)
        # Derived by the database from the rows just stored (none when none was new).
        alarms = raise_alarms(call.rules, batch_pk, received_at) if stored else []
        if alarms:
            notifications.urgent_alarms(call.site, alarms)
        _check_keys_now()
    result.batch = result.batch or batch
    result.batches.append(batch.pk)
    result.created += len(stored)
    result.duplicates += len(chunk) - len(stored)
    result.alarms += len(alarms)
    if result.statuses:
        for _pk, row in stored:
            result.statuses[row[0]] = "created"


def ingest_events(
    site: Site,
    actor: AbstractBaseUser,
    rows: Iterable[Incoming],
    *,
    channel: str,
    vendor: str = SourceFormat.GENERIC,
    file_name: str = "",
    per_item: bool = False,
    progress: Progress | None = None,
    progress_every: int = DEFAULT_CHUNK_SIZE,
    site_time: bool = False,
) -> IngestResult:
    """Check every row, then store the new ones and raise their alarms, chunk by chunk.

    Refuses with `IngestRefused` naming every bad row (line, column, reason) and stores
    nothing when any row is bad. The actor needs the integration or manager role at the site.
    `per_item` (batch API, webhook): all chunks in one transaction, and a status per item.
    `progress(phase, done, of)` is called every `progress_every` rows checked ("checked",
    `of` None) and after each chunk stored ("stored", `of` the rows to store).
    Vendor events from sources that are not doors are skipped and counted (`skipped`); times
    without an offset are read in the site's zone only with `site_time=True`.
    """
    require_role(actor, site, INGEST_ROLES)
    checker = _Checker(site, vendor, site_time)
    spool = _Spool()
    try:
        first = _first_pass(rows, checker, spool, chunk_size(), progress, progress_every, per_item)
        if first.errors:
            raise IngestRefused(first.errors)
        if progress and first.total % progress_every:
            progress("checked", first.total, None)
        result = IngestResult(None, first.total, skipped=first.skipped)
        if per_item:
            result.statuses = ["duplicate"] * first.total
            for index in first.skipped_at:
                result.statuses[index] = "skipped"
        call = _Call(site, actor, channel, vendor, file_name, AlarmRules(site))
        # Bounded calls answered item by item: one transaction (its ledger entries chained
        # once, at its end). Files: a transaction per chunk.
        with ledger.deferred_chaining() if per_item else nullcontext():
            # Only when each chunk commits on its own (not inside a caller's transaction).
            own = not per_item and not connection.in_atomic_block
            pause = BETWEEN_CHUNKS_SECONDS.get(connection.vendor, 0.0) if own else 0.0
            for number, chunk in enumerate(spool.chunks()):
                if number and pause:
                    time.sleep(pause)  # after a chunk's commit: waiting writers go first
                _write_chunk(call, chunk, result)
                if progress:
                    progress("stored", result.created + result.duplicates, spool.rows)
    finally:
        spool.file.close()
    return result
