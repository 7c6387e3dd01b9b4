"""Precompiled queries that PostgreSQL also plans only once per connection.

A `PrecompiledQuery` spares the Python time of building a fixed-shape statement; PostgreSQL
still parses and plans the SQL it is sent every time. For the statement a checkpoint scan
locks its run with (its site, route and schedule joined, the caller's role and the
client_uuid looked up), planning took four times as long as running it (about 0.45 ms of
the database's CPU against 0.1 ms, on every scan). A `PreparedQuery` is prepared once per
connection (`PREPARE name AS ...`, the slots' values as parameters `$1`, `$2`..., every other
value written in as the ORM would have sent it) and then sent as `EXECUTE name(values)`:
after a few executions PostgreSQL keeps a generic plan, and the statement costs what running
it costs. The rows are the same rows (the same SQL, the same values); they are read into
model instances by the same code.

Where it applies: PostgreSQL with Django's default client-side binding (the connection's
statements are sent as text, so `EXECUTE` can go in one request with other statements, as
the scan sends it). Elsewhere, or if PostgreSQL refuses to prepare the statement (a
parameter whose type it cannot infer), the query runs as a `PrecompiledQuery` does.

`PreparedSQL` does the same for a statement written as SQL (the ledger's entry of a scan,
`ledger_statements.chain_one`: prepared, PostgreSQL only runs it while the ledger's lock is
held).

A prepared statement belongs to the database session: connections are kept between requests
(CONN_MAX_AGE), so it is prepared once per worker and connection. A connection pooler must
therefore keep sessions (PgBouncer in session mode, as docs/deploy.md says), not hand a
session's statements to another. It outlives a rolled-back
transaction (PREPARE is not transactional), so what is prepared is remembered per
connection object, and forgotten with it (a new connection prepares again). After a
migration (which may change a table's columns under a prepared plan) each statement is
prepared again under a new name. The PREPARE itself is session set-up, like the
connection's init commands: sent on the driver's cursor, it is not one of the request's
queries (query-count tests count the same queries on every run).
"""

import functools
import itertools
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import OperationalError, connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate

from facility_log.services.precompiled import PrecompiledQuery

# A new generation after every migration: names of another generation are not used again.
_generation = 0
_names = itertools.count(1)
_PLACEHOLDER = re.compile(r"(%%|%s)")


def _new_generation(**_kwargs) -> None:
    global _generation
    _generation += 1


pre_migrate.connect(_new_generation, dispatch_uid="facility_log_prepared_pre_migrate")
post_migrate.connect(_new_generation, dispatch_uid="facility_log_prepared_post_migrate")


class PreparedQuery(PrecompiledQuery):
    """A `PrecompiledQuery` sent as `EXECUTE` of a statement prepared once per connection
    (module docstring). Used as a `PrecompiledQuery` is (`first`, `all`, `statement`...)."""

    def __init__(self, build, slots, *, strict: bool = False):
        super().__init__(build, slots, strict=strict)
        # Per (database alias, key, generation): the statement to prepare, or None where
        # PostgreSQL refused it (then the SQL is sent as it is).
        self._statements: dict[tuple, _Statement | None] = {}

    def forget(self, key) -> None:
        # The connections keep what they prepared until they close (CONN_MAX_AGE); the key
        # is prepared under a new name if it comes back.
        super().forget(key)
        for cached in [cached for cached in self._statements if cached[1] == key]:
            self._statements.pop(cached, None)

    def _compiler(self, key, using: str, values: dict):
        compiler = super()._compiler(key, using, values)
        connection = connections[using]
        if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get(
            "server_side_binding"
        ):
            return compiler
        cache_key = (using, key, _generation)
        if cache_key not in self._statements:
            self._statements[cache_key] = _Statement.of(self._compiled[(using, key)])
        statement = self._statements[cache_key]
        if statement is None:
            return compiler
        if not statement.prepare(connection):
            self._statements[cache_key] = None
            return compiler
        arguments = tuple(
            self._slots[slot].prepared(values[slot], connection) for slot in statement.slots
        )
        sql = f"EXECUTE {statement.name}({', '.join(['%s'] * len(arguments))})"
        compiler.as_sql = lambda *args, **kwargs: (sql, arguments)
        return compiler


@dataclass(frozen=True)
class _Statement:
    """A statement to prepare: its name, its SQL with `$n` in the slots' places and the
    other values still `%s`, those other values, and the slots in the order of their `$n`."""

    name: str
    body: str
    constants: tuple
    slots: tuple[str, ...]

    @classmethod
    def of(cls, compiled) -> "_Statement | None":
        positions = dict(compiled.positions)
        slots: list[str] = []
        constants, parts, index = [], [], 0
        for part in _PLACEHOLDER.split(compiled.sql):
            if part != "%s":
                parts.append(part)
                continue
            slot = positions.get(index)
            if slot is None:
                parts.append("%s")
                constants.append(compiled.params[index])
            else:
                if slot not in slots:
                    slots.append(slot)
                parts.append(f"${slots.index(slot) + 1}")
            index += 1
        if not slots:
            return None  # nothing varies: nothing to gain over the SQL itself
        return cls(f"fl_prepared_{next(_names)}", "".join(parts), tuple(constants), tuple(slots))

    def prepare(self, connection) -> bool:
        """Whether this statement is prepared on the connection: prepared now if it was not
        (False if PostgreSQL refuses it: the caller then sends the SQL itself)."""
        return _prepare(
            connection, self.name, lambda cursor: cursor.mogrify(self.body, self.constants)
        )


class PreparedSQL:
    """A statement of fixed SQL (its values as `%s`, in order) prepared once per connection
    on PostgreSQL with the parameters' types given: `sql(connection)` is what to send with
    the values, `EXECUTE name(%s, ...)` or, where it cannot be prepared, the SQL itself.
    For a statement whose values' types PostgreSQL cannot infer from where they stand (the
    select list of an INSERT ... SELECT), or that is sent with other statements."""

    def __init__(self, sql: str, types: list[str]):
        parts = _PLACEHOLDER.split(sql)
        count = parts.count("%s")
        if count != len(types):
            raise ValueError(f"{count} values in the SQL, {len(types)} types given")
        numbers = iter(range(1, count + 1))
        self._plain = sql
        self._body = "".join(f"${next(numbers)}" if p == "%s" else p for p in parts)
        self._body = self._body.replace("%%", "%")
        self._types = ", ".join(types)
        self._execute = f"({', '.join(['%s'] * count)})"
        self._names: dict[int, str | None] = {}  # by generation; None: refused

    def sql(self, connection) -> str:
        if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get(
            "server_side_binding"
        ):
            return self._plain
        if _generation not in self._names:
            self._names[_generation] = f"fl_prepared_{next(_names)}"
        name = self._names[_generation]
        if name is None:
            return self._plain
        if not _prepare(connection, name, lambda _cursor: self._body, f"({self._types})"):
            self._names[_generation] = None
            return self._plain
        return f"EXECUTE {name}{self._execute}"


# The parameter types of `sql_prepared_by_text`, by the Python type of each value (bool
# before int: a bool is an int).
_PARAMETER_TYPES = ((bool, "boolean"), (int, "bigint"), (str, "text"), (datetime, "timestamptz"))


def sql_prepared_by_text(connection, sql: str, params) -> str:
    """What to send with `params` for `sql`, a statement put together per request from a few
    shapes (the alarm console's union of one part per site and type): `EXECUTE` of it
    prepared once per connection, named by its text (the 64 most recent texts are kept), or
    `sql` itself where a value's type is not one of _PARAMETER_TYPES or it cannot be
    prepared."""
    types = []
    for value in params:
        name = next((name for kind, name in _PARAMETER_TYPES if isinstance(value, kind)), None)
        if name is None:
            return sql
        types.append(name)
    return _prepared_text(sql, tuple(types)).sql(connection)


@functools.lru_cache(maxsize=64)
def _prepared_text(sql: str, types: tuple[str, ...]) -> PreparedSQL:
    return PreparedSQL(sql, list(types))


def _prepare(connection, name: str, body, types: str = "") -> bool:
    """Whether the statement `name` is prepared on this connection: prepared now if it was
    not, from `body(cursor)` (False if PostgreSQL refuses it)."""
    # As Django's own cursor() does: a kept connection that went away while idle (the
    # database restarted) is replaced before its first use in a request.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    state = getattr(connection, "_facility_log_prepared", None)
    if state is None or state[0] is not raw:  # a new connection: nothing prepared on it
        state = connection._facility_log_prepared = (raw, set())
    if name in state[1]:
        return True
    # On the driver's cursor: session set-up, not one of the request's queries. In an open
    # transaction a refusal would abort it: the PREPARE has a savepoint of its own.
    in_transaction = not raw.autocommit
    # Django's error wrapper: a connection that failed here is marked as failed (and closed
    # at the request's end, then opened anew) and its error is Django's, which the outage
    # middleware answers with a 503; a driver's error would leave the broken connection in
    # use, every later request a 500.
    with connection.wrap_database_errors, raw.cursor() as cursor:
        sql = f"PREPARE {name}{types} AS {body(cursor)}"
        if in_transaction:
            cursor.execute("SAVEPOINT facility_log_prepare")
        try:
            cursor.execute(sql)
        except connection.Database.Error as error:
            if in_transaction:
                cursor.execute("ROLLBACK TO SAVEPOINT facility_log_prepare")
                cursor.execute("RELEASE SAVEPOINT facility_log_prepare")
            if _refused(error):
                return False
            raise  # the connection failing, say: not a reason never to prepare it again
        if in_transaction:
            cursor.execute("RELEASE SAVEPOINT facility_log_prepare")
    state[1].add(name)
    _prepares[name] = sql
    _bodies[name] = sql.split(" AS ", 1)[1]
    return True


def _refused(error) -> bool:
    """Whether PostgreSQL refused the statement itself (SQLSTATE class 42: syntax, a type it
    cannot infer): then it is sent as SQL from now on."""
    return str(getattr(error, "sqlstate", "") or "").startswith("42")


# SQLSTATE invalid_sql_statement_name: an EXECUTE of a statement the session no longer has.
_LOST = "26000"


def _forget_lost_statements(execute, sql, params, many, context):
    """Django execute wrapper: if the database session lost its prepared statements (a
    reset of the session by a pooler or proxy, `DEALLOCATE ALL`), the connection forgets
    what it prepared, so the next statement prepares again. The statement that found out
    fails with its transaction (a request answered 500 or 503, a tablet sending again),
    instead of every later one failing until the worker restarts."""
    try:
        return execute(sql, params, many, context)
    except Exception as error:
        if getattr(error.__cause__, "sqlstate", None) != _LOST:
            raise
        connection = context["connection"]
        connection._facility_log_prepared = None
        if connection.in_atomic_block:
            # The transaction is aborted: the request ends as in an outage (503, "try
            # again"), and the next one prepares again.
            raise OperationalError(str(error)) from error
    # Outside a transaction nothing was done: prepare what the statement executes once
    # more (a TCP proxy that reconnected to the server, say) and send it again.
    for name in _EXECUTE.findall(sql):
        _prepare_again(connection, name)
    return execute(sql, params, many, context)


def _prepare_again(connection, name: str) -> None:
    raw = connection.connection
    state = getattr(connection, "_facility_log_prepared", None)
    if state is None or state[0] is not raw:
        state = connection._facility_log_prepared = (raw, set())
    if name not in state[1]:
        with raw.cursor() as cursor:
            cursor.execute(_prepares[name])
        state[1].add(name)


def _watch_connection(sender, connection, **_kwargs) -> None:
    if connection.vendor == "postgresql" and (
        _forget_lost_statements not in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(_forget_lost_statements)


connection_created.connect(_watch_connection, dispatch_uid="facility_log_prepared_watch")


# What each statement prepared in this process runs (for `with_statements`), and the PREPARE
# that made it (to make it again on a session that lost it).
_bodies: dict[str, str] = {}
_prepares: dict[str, str] = {}
_EXECUTE = re.compile(r"EXECUTE (fl_prepared_\d+)")


def with_statements(sql: str) -> str:
    """`sql` with each `EXECUTE name` of a statement prepared in this process replaced by
    the SQL it runs (its values, as `$n`, followed by the arguments as sent): for tests and
    debugging that read which tables a request's statements touch."""
    return _EXECUTE.sub(lambda match: _bodies.get(match[1], match[0]), sql)
