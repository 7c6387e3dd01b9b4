"""The ledger's chaining statements on PostgreSQL (services/ledger.py `chain_entries` chooses):
one entry, several, and many at once (COPY). Each takes the ledger's lock in its own first
statement, so that the head is read after the lock is granted (`ledger._locked_head`)."""

from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from facility_log.models import LedgerEntry
from facility_log.services.ledger_hashing import (
    ENTRY_FIELDS,
    GENESIS_HASH,
    LEDGER_LOCK_KEY,
    canonical_json,
    object_type,
    sha256_hex,
)
from facility_log.services.ledger_held import StoredRowDiffers
from facility_log.services.prepared import PreparedSQL

if TYPE_CHECKING:
    from facility_log.services.ledger import PendingEntry

# The entry's canonical content ends with its `seq` (keys are sorted, and "seq" sorts last):
# what comes before it is known before the head is, so PostgreSQL can finish the hash itself.
assert sorted(ENTRY_FIELDS)[-1] == "seq"  # noqa: S101 - a fact chain_one relies on

CHAIN_ONE_COLUMNS = (
    "seq, created_at, kind, object_type, object_pk, record_label, actor_id, actor_name, digest,"
    " prev_hash, hash"
)


def entry_content(item: "PendingEntry", digest: str, created_at) -> dict:
    """What an entry hashes besides its place in the chain (`seq`, `prev_hash`): one builder
    for every way of chaining (`ledger.chain_entries`, `chain_one`, `chain_many`), so that
    their hashes cannot drift apart."""
    return {
        "created_at": created_at,
        "kind": str(item.kind),
        "object_type": object_type(item.model),
        "object_pk": str(item.pk),
        "record_label": item.label[:200],
        "actor_name": item.actor.get_username() if item.actor is not None else "",
        "digest": digest,
    }


def entry_actor_id(item: "PendingEntry"):
    """The entry's actor's id, None for no actor or one not saved."""
    return item.actor.pk if item.actor is not None and item.actor.pk else None


_TABLE = '"facility_log_ledgerentry"'
assert LedgerEntry._meta.db_table == _TABLE.strip('"')  # noqa: S101 - the table named below
# The entry's INSERT in `chain_one`, after the lock's statement: the entry's values, then the
# genesis hash for an empty ledger.
_CHAIN_ONE = PreparedSQL(
    f"INSERT INTO {_TABLE} ({CHAIN_ONE_COLUMNS}) "  # noqa: S608 - our own table name
    "SELECT head.seq + 1, %s, %s, %s, %s, %s, %s, %s, %s, head.hash, "
    "encode(sha256(convert_to(head.hash || %s || (head.seq + 1)::text || '}', 'UTF8')),"
    " 'hex') "
    f"FROM (SELECT COALESCE(last.seq, 0) AS seq, COALESCE(last.hash, '{GENESIS_HASH}')::text"
    " AS hash FROM (SELECT 1) AS one LEFT JOIN "
    f"(SELECT seq, hash FROM {_TABLE} ORDER BY seq DESC LIMIT 1) AS last ON true) AS head",
    ["timestamptz", "text", "text", "text", "text", "integer", "text", "text", "text"],
)
# The genesis hash is written into the statement above (hex digits: nothing to quote).
assert set(GENESIS_HASH) <= set("0123456789abcdef")  # noqa: S101 - a fact the SQL relies on


def chain_one(item: "PendingEntry", digest: str) -> None:
    """Chain one entry on PostgreSQL in a single round trip, the lock's included: the lock,
    the head and the insert are one request, and PostgreSQL computes the entry's hash from
    the head's (SHA-256 over the previous hash and the canonical content, `entry_hash`). The
    lock is then held from the moment it is granted until the commit that follows, with no
    trip back to Python in between: the one lock every writer of the ledger waits for is
    held for the least time (a checkpoint scan writes exactly one entry).

    As in `_locked_head`, the lock is taken by its own statement before the one that reads
    the head, so that the head is read after the lock is granted. A row held back for the
    entry (`hold_insert`) is inserted first in the same request, and the digest of the row
    as stored is checked against the entry's (services/ledger_held.py)."""
    statement, params = chain_one_statement(item, digest)
    held = item.held
    if held is not None:
        statement = f"{held.sql}; {statement}"  # the ORM's INSERT of the row
        params = [*held.params, *params]
    # As chain_entries: in the caller's transaction, or a transaction of its own outside one.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(statement, params)
        # The first result: the held row, as stored.
        stored = held.stored(cursor.fetchone()) if held is not None else None
        if stored is not None and sha256_hex(canonical_json(stored)) != digest:
            raise StoredRowDiffers(f"{object_type(item.model)} #{item.pk}")


def chain_one_statement(item: "PendingEntry", digest: str) -> tuple[str, list]:
    """The SQL and values that chain `item` (its row's `digest`) on PostgreSQL: the ledger's
    lock in a statement of its own, then the entry's prepared INSERT after the head
    (`chain_one`; services/ledger_one_trip.py sends them after other statements). Runs on
    `connection`, the default database's, as every ledger statement does."""
    content = entry_content(item, digest, timezone.now())
    # canonical_json(content with seq) is this, then the seq's digits, then "}".
    before_seq = canonical_json(content)[:-1].decode() + ',"seq":'
    # The entry's INSERT is prepared (parsed and planned once per connection): under the
    # lock PostgreSQL then only runs it.
    # The lock's key written in (our constant integer), as the genesis hash is in the
    # entry's statement: two values fewer to send, which keeps the incident page's request
    # (its reads, then this) within the 50 values whose query psycopg parses only once.
    statement = f"SELECT pg_advisory_xact_lock({LEDGER_LOCK_KEY:d}); " + _CHAIN_ONE.sql(connection)
    return statement, [
        content["created_at"],
        content["kind"],
        content["object_type"],
        content["object_pk"],
        content["record_label"],
        entry_actor_id(item),
        content["actor_name"],
        digest,
        before_seq,
    ]


def chain_many(items: list[tuple["PendingEntry", str]]) -> None:
    """Chain several entries (each with its row's digest) on PostgreSQL in one request after
    the lock's statement, as `chain_one` chains one: PostgreSQL walks the entries in order
    from the head with a recursive query, each hash computed from the one before it
    (`entry_hash`). A scan that raises findings (its exceptions and their history rows) or
    a /sync/ batch then waits for the lock and inserts its entries in one round trip
    instead of two (the head, then the entries), with nothing built in Python under the
    lock."""
    now = timezone.now()
    columns: dict[str, list] = {
        "kind": [],
        "object_type": [],
        "object_pk": [],
        "record_label": [],
        "actor_id": [],
        "actor_name": [],
        "digest": [],
        "before_seq": [],
    }
    for item, digest in items:
        content = entry_content(item, digest, now)
        for name in ("kind", "object_type", "object_pk", "record_label", "actor_name", "digest"):
            columns[name].append(content[name])
        columns["actor_id"].append(entry_actor_id(item))
        columns["before_seq"].append(canonical_json(content)[:-1].decode() + ',"seq":')
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    statement = (
        "SELECT pg_advisory_xact_lock(%s); "  # noqa: S608 - our own table name
        "WITH RECURSIVE items AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], "
        "%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS "
        "t(kind, object_type, object_pk, record_label, actor_id, actor_name, digest, "
        "before_seq, n)), "
        "head AS (SELECT COALESCE(last.seq, 0) AS seq, COALESCE(last.hash, %s)::text AS hash "
        "FROM (SELECT 1) AS one LEFT JOIN "
        f"(SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1) AS last ON true), "
        "chain AS (SELECT 0::bigint AS n, head.seq, head.hash, ''::text AS prev FROM head "
        "UNION ALL SELECT items.n, chain.seq + 1, encode(sha256(convert_to(chain.hash || "
        "items.before_seq || (chain.seq + 1)::text || '}', 'UTF8')), 'hex'), chain.hash "
        "FROM chain JOIN items ON items.n = chain.n + 1) "
        f"INSERT INTO {table} ({CHAIN_ONE_COLUMNS}) "
        "SELECT chain.seq, %s, items.kind, items.object_type, items.object_pk, "
        "items.record_label, items.actor_id, items.actor_name, items.digest, chain.prev, "
        "chain.hash FROM chain JOIN items ON items.n = chain.n ORDER BY chain.n"
    )
    names = (
        "kind",
        "object_type",
        "object_pk",
        "record_label",
        "actor_id",
        "actor_name",
        "digest",
        "before_seq",
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            statement,
            [LEDGER_LOCK_KEY, *(columns[name] for name in names), GENESIS_HASH, now],
        )


def copy_entries(rows: list[dict]) -> None:
    """Insert many entries (each a dict of column values by attribute name) with COPY
    (PostgreSQL). Held under the ledger's lock, this step is what other writers wait for
    during an import: building a 2,000-row INSERT through the ORM costs several times the
    COPY of the same values, which psycopg adapts itself. The
    ledger is append-only and has no history of its own (its triggers refuse UPDATE and
    DELETE, not INSERT); `verify_audit` recomputes every hash from what is stored, however
    it was inserted."""
    fields = [f for f in LedgerEntry._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    names = [f.attname for f in fields]
    table = quote(LedgerEntry._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
