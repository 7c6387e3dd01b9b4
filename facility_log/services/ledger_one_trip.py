"""A row and its ledger entry written in the request of other statements (PostgreSQL).

A page that reads personal data writes one view-log row with its ledger entry
(services/view_log.py). Written the usual way that is three round trips after the page's
reads: BEGIN, the row's INSERT with the ledger's lock and the entry (`ledger_statements
.chain_one`), COMMIT. Here the same statements go at the end of the page's own request of
reads (`read_together.fetch(after=...)`): outside a transaction (Django's autocommit) the
statements of one simple-protocol query run as one implicit transaction, committed when the
last one has run, rolled back whole if any fails. The reads, the row, the lock and the entry
then cost one round trip, and the lock is held from its grant to that commit, with no trip
back to Python in between (as `chain_one` holds it). Inside a transaction of the caller the
statements run within a savepoint of their own and commit with the caller's transaction.

The same rows and hashes as `chain_one` with a held row (services/ledger_held.py): the
row's INSERT as the ORM compiles it, the entry's digest taken from the values sent, the
entry's statement `chain_one_statement`. What changes is where the stored row is compared
with what was sent. `chain_one` compares the digest of the row as the INSERT returned it
with the entry's before it commits, in Python; here the commit follows in the same request,
so PostgreSQL compares: each column of the row as stored must equal the value sent
(`IS NOT DISTINCT FROM`, in the column's type), else the statement fails, and with it the
whole request, before the entry is chained. This is only done for a model whose every column
is of a type where equal in PostgreSQL means read back as the same value (integers, text,
a time with its zone, booleans: `_CHECKABLE`), and only where the values sent are those the
digest was taken from: then a row that passes is the row the digest covers. A row refused
so (`refused`) is never expected; the caller reads again and writes the row the ordinary
way, as for `StoredRowDiffers`.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import Model

from facility_log.models import LedgerEntry
from facility_log.services import ledger, read_together
from facility_log.services.ledger_hashing import canonical_json, sha256_hex
from facility_log.services.ledger_held import held_insert
from facility_log.services.ledger_statements import chain_one_statement

# In the message of the error raised for a row stored otherwise than sent (`refused`).
REFUSAL = "facility_log: row stored otherwise than sent"
# The savepoint the statements run in inside a transaction of the caller.
SAVEPOINT = "facility_log_one_trip"
# Column types (PostgreSQL's names, as `Field.db_type` gives them, up to the first "(")
# whose equality in PostgreSQL means the same value read back: the same integer, the same
# bytes of text (the database's collation is deterministic), the same instant to the
# microsecond, the same boolean.
_CHECKABLE = frozenset(
    {"integer", "bigint", "smallint", "varchar", "text", "timestamp with time zone", "boolean"}
)


@dataclass(frozen=True)
class OneTripInsert:
    """The statements that insert a row with its ledger entry, to send last in a request of
    other statements (`read_together.fetch(after=(sql, params))`); `pk`: the row's id."""

    sql: str
    params: list
    pk: object
    savepoint: bool


def one_trip_insert(instance: Model, actor=None, using: str = "default") -> OneTripInsert | None:
    """The statements of `instance` (an append-only record, its primary key already taken
    from its sequence) and its ledger entry, the entry the `post_save` receiver appends
    (`ledger.record_append_only_row`, with `actor`), as the module docstring says; None
    where they cannot go so: not PostgreSQL with client-side binding, inside a
    `deferred_chaining()` block (its entries are chained together at its end), a model with
    another `post_save` receiver or a column of another type. Then write it as usual."""
    if using != "default" or not read_together.one_trip(using):
        return None  # the ledger's statements run on the default database
    if ledger._pending.get() is not None:
        return None
    model = type(instance)
    connection = connections[using]
    if not ledger._ledger_receiver_alone(model) or not _checkable(model, connection):
        return None
    held = held_insert(instance, using)
    # The check compares the stored row with the values sent: they must be the values the
    # digest is taken from (so they are for the types above).
    sent = canonical_json(held.sent)
    if canonical_json(dict(zip(held.names, held.params, strict=True))) != sent:
        return None
    digest = sha256_hex(sent)
    label = f"{model._meta.verbose_name} #{instance.pk}"
    entry = ledger.PendingEntry(LedgerEntry.Kind.RECORD, model, instance.pk, digest, actor, label)
    chain_sql, chain_params = chain_one_statement(entry, digest)
    check = f"WITH stored AS ({held.sql}) {_check(model, connection)}"
    sql = f"{check}; {chain_sql}"
    params = [*held.params, *held.params, *chain_params]
    savepoint = not connection.get_autocommit()
    if savepoint:
        sql = f"SAVEPOINT {SAVEPOINT}; {sql}; RELEASE SAVEPOINT {SAVEPOINT}"
    return OneTripInsert(sql, params, instance.pk, savepoint)


# Per (model, database alias): the SELECT over the inserted row that fails for a row
# stored otherwise than sent (the values sent as its parameters, in the fields' order).
_CHECKS: dict[tuple, str] = {}


def _check(model: type[Model], connection) -> str:
    key = (model, connection.alias)
    check = _CHECKS.get(key)
    if check is None:
        quote = connection.ops.quote_name
        pk_column = quote(model._meta.pk.column)
        same = " AND ".join(
            f"stored.{quote(field.column)} IS NOT DISTINCT FROM %s"
            for field in model._meta.concrete_fields
        )
        # The ELSE is reached only for a row that differs; it depends on the row, so
        # PostgreSQL cannot evaluate it while planning. Its cast fails, naming the row
        # (`refused`).
        check = _CHECKS[key] = (
            f"SELECT CASE WHEN {same} THEN stored.{pk_column} "  # noqa: S608 - our names
            f"ELSE ('{REFUSAL} ' || stored.{pk_column})::bigint END FROM stored"
        )
    return check


_CHECKED: dict[tuple, bool] = {}


def _checkable(model: type[Model], connection) -> bool:
    key = (model, connection.alias)
    if key not in _CHECKED:
        types = [field.db_type(connection) or "" for field in model._meta.concrete_fields]
        _CHECKED[key] = all(kind.split("(")[0] in _CHECKABLE for kind in types)
    return _CHECKED[key]


def refused(error: BaseException, write: OneTripInsert, using: str = "default") -> bool:
    """Whether `error`, raised by the request that carried `write`, is its row's refusal
    (stored otherwise than sent). Then nothing of the request was kept: outside a
    transaction PostgreSQL rolled the whole request back; inside one, the savepoint is
    rolled back here, and the caller's transaction goes on."""
    cause = getattr(error, "__cause__", None)
    message = getattr(getattr(cause, "diag", None), "message_primary", None) or ""
    if REFUSAL not in message:
        return False
    if write.savepoint:
        with connections[using].cursor() as cursor:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
    return True
