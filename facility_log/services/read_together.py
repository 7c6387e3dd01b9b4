"""Several read statements sent to the database as one request, each read as it would be alone.

A detail page reads a handful of small lists once its record is known; sent one by one each
costs a round trip with psycopg's and the server's per-statement work. On PostgreSQL the
statements go as one simple-protocol query (psycopg's client-side cursor, Django's default),
each its own statement with its own snapshot and result, read with `nextset()` — the way
`precompiled.all_together` sends its reads and `ledger._locked_head` its lock and head (the
API incident detail, the incident page, the runs' and shifts' count and page use this).
Elsewhere (SQLite, or with server-side binding, which allows one statement per request)
each statement is run on its own. Only for reads: a statement that fails fails
the request as it would alone.
"""

from django.db import connections


def one_trip(using: str = "default") -> bool:
    """Whether `fetch` sends its statements in one round trip on `using`."""
    db = connections[using]
    return db.vendor == "postgresql" and not db.settings_dict["OPTIONS"].get("server_side_binding")


def fetch(statements: dict[str, tuple], using: str = "default", tail: tuple | None = None):
    """The rows of each statement, by name: `statements` maps a name to the (compiler, sql,
    params) of `PrecompiledQuery.statement()` (or any compiler's `as_sql()` with its
    compiler). `tail`, (sql, params) of one more statement returning one row, is sent last in
    the same request on PostgreSQL only, and its row returned (None elsewhere)."""
    db = connections[using]
    fetched: dict[str, list] = {}
    if not one_trip(using):
        for name, (_compiler, sql, params) in statements.items():
            with db.cursor() as cursor:
                cursor.execute(sql, params)
                fetched[name] = cursor.fetchall()
        return fetched, None
    sql = [statement for _compiler, statement, _params in statements.values()]
    params = [param for _compiler, _sql, some in statements.values() for param in some]
    if tail is not None:
        sql.append(tail[0])
        params.extend(tail[1])
    last = None
    with db.cursor() as cursor:
        cursor.execute("; ".join(sql), params)
        for n, name in enumerate(statements):
            if n:
                cursor.nextset()
            fetched[name] = cursor.fetchall()
        if tail is not None:
            cursor.nextset()
            last = cursor.fetchone()
    return fetched, last
