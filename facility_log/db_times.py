"""Times read with psycopg's compiled loader, for reads whose times are only shown.

Django reads every PostgreSQL `timestamptz` through psycopg's loader written in Python and then
sets the tzinfo it wants (django/db/backends/postgresql/psycopg_any.py, `BaseTzLoader`).
Because Django subclasses that loader, psycopg never uses its compiled one. A page of 100 rows
with two times each spent about a twentieth of its CPU there.

Within `times_read_natively`, the statements' cursors read times with psycopg's compiled
loader: the same instants, only the tzinfo object differs (the connection's UTC as a
`ZoneInfo`, not `datetime.timezone.utc`). So it is for reads whose times are only converted
to a zone to be shown, compared or sorted: the API's lists (api/rows.py) and the alarm
console's items (services/alarm_console_reads.py). Never for rows that are saved or hashed.
"""

from contextlib import nullcontext

from django.conf import settings
from django.db import connections

try:
    from psycopg.types.datetime import TimestamptzLoader
except ImportError:  # no psycopg 3 (an installation on SQLite only)
    TimestamptzLoader = None


def _native_times(execute, sql, params, many, context):
    # Registered on this statement's cursor only (a psycopg2 cursor has no `adapters`: left
    # as it is).
    adapters = getattr(context["cursor"].cursor, "adapters", None)
    if adapters is not None:
        adapters.register_loader("timestamptz", TimestamptzLoader)
    return execute(sql, params, many, context)


def times_read_natively(using: str):
    """Within the block, the statements on `using` read times with psycopg's own loader
    (PostgreSQL through psycopg 3, times aware: USE_TZ); elsewhere it does nothing."""
    connection = connections[using]
    if connection.vendor != "postgresql" or TimestamptzLoader is None or not settings.USE_TZ:
        return nullcontext()
    return connection.execute_wrapper(_native_times)
