"""Several read statements sent to the database as one request, each read as it would be alone.

A detail page reads a handful of small lists once its record is known; sent one by one each
costs a round trip with psycopg's and the server's per-statement work. On PostgreSQL the
statements go as one simple-protocol query (psycopg's client-side cursor, Django's default),
each its own statement with its own snapshot and result, read with `nextset()` — the way
`precompiled.all_together` sends its reads and `ledger._locked_head` its lock and head (the
API incident detail, the incident page, the runs' and shifts' count and page use this).
Elsewhere (SQLite, or with server-side binding, which allows one statement per request)
each statement is run on its own. Only for reads: a statement that fails fails
the request as it would alone. (The one exception, `after`, is a write that goes last in the
request, committed by it: services/ledger_one_trip.py.)

A statement whose values change its best plan little but whose planning costs more than its
run (the incident page's surroundings: a range of one hour of one site's events, planned
anew on every request at 0.15–0.4 ms, run in 0.1 ms) can be named in `generic`: in one
trip it then runs under `plan_cache_mode = force_generic_plan`, set just before it and reset
just after it in the same request (a failure rolls the setting back with the request's
implicit transaction), so PostgreSQL keeps its prepared plan instead of planning again.
"""

from django.db import connections

_FORCE_GENERIC = "SET plan_cache_mode = force_generic_plan"
_RESET_PLAN_MODE = "RESET plan_cache_mode"


def one_trip(using: str = "default") -> bool:
    """Whether `fetch` sends its statements in one round trip on `using`."""
    db = connections[using]
    return db.vendor == "postgresql" and not db.settings_dict["OPTIONS"].get("server_side_binding")


def fetch(
    statements: dict[str, tuple],
    using: str = "default",
    tail: tuple | None = None,
    generic: frozenset[str] = frozenset(),
    after: tuple[str, list] | None = None,
):
    """The rows of each statement, by name: `statements` maps a name to the (compiler, sql,
    params) of `PrecompiledQuery.statement()` (or any compiler's `as_sql()` with its
    compiler). `tail`, (sql, params) of one more statement returning one row, is sent last in
    the same request on PostgreSQL only, and its row returned (None elsewhere). `generic`:
    the names of statements run with their generic plan in one trip (module docstring).
    `after`, (sql, params) of statements whose results are not read (a write of the caller:
    services/ledger_one_trip.py), goes after them all in the same request; only where the
    statements go in one trip (`one_trip`), else it is refused."""
    db = connections[using]
    fetched: dict[str, list] = {}
    if not one_trip(using):
        if after is not None:
            raise ValueError("statements after the reads are sent in their request only")
        for name, (_compiler, sql, params) in statements.items():
            with db.cursor() as cursor:
                cursor.execute(sql, params)
                fetched[name] = cursor.fetchall()
        return fetched, None
    # Each entry: the name whose rows a statement gives, or None for a setting's.
    sql, params, names = [], [], []
    forced = False
    for name, (_compiler, statement, some) in statements.items():
        if (name in generic) != forced:
            forced = not forced
            sql.append(_FORCE_GENERIC if forced else _RESET_PLAN_MODE)
            names.append(None)
        sql.append(statement)
        params.extend(some)
        names.append(name)
    if forced:
        sql.append(_RESET_PLAN_MODE)
        names.append(None)
    if tail is not None:
        sql.append(tail[0])
        params.extend(tail[1])
    if after is not None:
        sql.append(after[0])
        params.extend(after[1])
    last = None
    with db.cursor() as cursor:
        cursor.execute("; ".join(sql), params)
        for n, name in enumerate(names):
            if n:
                cursor.nextset()
            if name is not None:
                fetched[name] = cursor.fetchall()
        if tail is not None:
            cursor.nextset()
            last = cursor.fetchone()
    return fetched, last
