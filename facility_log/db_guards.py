"""Database triggers that refuse UPDATE and DELETE on the ledger and on every history table.

Installed after every `migrate` (post_migrate), so a history table added later is guarded
too. The application never updates or deletes these rows; someone with database access who
drops a trigger to do so is caught by `verify_audit`.

The one documented exception is the retention purge (services/retention.py), which removes
expired history rows and leaves a tombstone entry in the ledger for each. It opens a
`purge_permit()` inside its own transaction; only then do the history tables' triggers let a
DELETE through. UPDATE is refused always, and the ledger refuses DELETE even under a permit.

* PostgreSQL: the trigger function lets a DELETE on a history table pass when the
  transaction-local setting `facility_log.purge` is 'on' (`SET LOCAL`, gone at commit or
  rollback).
* SQLite: the DELETE trigger of a history table fires only when the one-row table
  `fl_purge_permit` is empty; the purge writes its row and clears it in the same transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection as default_connection
from django.db import transaction
from simple_history.models import registered_models

from facility_log.models import LedgerEntry

PERMIT_SETTING = "facility_log.purge"
PERMIT_TABLE = "fl_purge_permit"
# The trigger argument that marks a table whose rows the purge may delete (history tables).
PURGEABLE = "purgeable"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION facility_log_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_NARGS > 0 AND TG_ARGV[0] = '{PURGEABLE}'
     AND current_setting('{PERMIT_SETTING}', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'facility_log: % is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql
"""


def history_tables() -> list[str]:
    return sorted({model.history.model._meta.db_table for model in registered_models.values()})


def guarded_tables() -> list[str]:
    return sorted({LedgerEntry._meta.db_table, *history_tables()})


def _refuse(table: str, op: str) -> str:
    return f"SELECT RAISE(ABORT, 'facility_log: {table} is append-only ({op} refused)')"


def _statements_sqlite(table: str, purgeable: bool) -> list[str]:
    # Dropped first: a database guarded before the purge permit existed gets the new form.
    permit = f"WHEN NOT EXISTS (SELECT 1 FROM {PERMIT_TABLE}) "  # noqa: S608 - constants only
    unless_permitted = permit if purgeable else ""
    return [
        f'DROP TRIGGER IF EXISTS "fl_guard_{table}_update"',
        f'DROP TRIGGER IF EXISTS "fl_guard_{table}_delete"',
        f'CREATE TRIGGER "fl_guard_{table}_update" BEFORE UPDATE ON "{table}" '
        f"BEGIN {_refuse(table, 'UPDATE')}; END",
        f'CREATE TRIGGER "fl_guard_{table}_delete" BEFORE DELETE ON "{table}" '
        f"{unless_permitted}BEGIN {_refuse(table, 'DELETE')}; END",
    ]


def _statements_postgresql(table: str, purgeable: bool) -> list[str]:
    argument = f"'{PURGEABLE}'" if purgeable else ""
    return [
        f'DROP TRIGGER IF EXISTS fl_guard ON "{table}"',
        f'CREATE TRIGGER fl_guard BEFORE UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION facility_log_append_only({argument})",
    ]


def install_guards(connection=default_connection) -> int:
    """Create the triggers (idempotent). Returns the number of tables guarded."""
    existing = set(connection.introspection.table_names())
    tables = [t for t in guarded_tables() if t in existing]
    purgeable = set(history_tables())
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute(PG_FUNCTION)
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {PERMIT_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1))"
            )
        for table in tables:
            make = _statements_postgresql if postgresql else _statements_sqlite
            for statement in make(table, table in purgeable):
                cursor.execute(statement)
    return len(tables)


def drop_guards(connection=default_connection) -> None:
    """Remove the triggers. For tests that must empty the tables, and for the attacker
    simulation in the verification tests; never called by the application."""
    tables = [t for t in guarded_tables() if t in connection.introspection.table_names()]
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f'DROP TRIGGER IF EXISTS fl_guard ON "{table}"')
            else:
                for op in ("update", "delete"):
                    cursor.execute(f'DROP TRIGGER IF EXISTS "fl_guard_{table}_{op}"')


@contextmanager
def purge_permit(connection=default_connection) -> Iterator[None]:
    """Let the enclosed statements DELETE history rows, for the retention purge only.

    The block is a transaction of its own (a savepoint when nested), which bounds the permit:
    it is withdrawn at the end of the block, and an error inside rolls the block back, which
    undoes the permit too (SET LOCAL and the permit row are both transactional). UPDATE stays
    refused, and the ledger stays untouchable."""
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            if postgresql:
                cursor.execute(f"SET LOCAL {PERMIT_SETTING} = 'on'")
            else:
                cursor.execute(f"INSERT INTO {PERMIT_TABLE} (id) VALUES (1)")  # noqa: S608
        yield
        with connection.cursor() as cursor:
            if postgresql:
                cursor.execute(f"SET LOCAL {PERMIT_SETTING} = 'off'")
            else:
                cursor.execute(f"DELETE FROM {PERMIT_TABLE}")  # noqa: S608


def install_guards_after_migrate(sender, using, **kwargs) -> None:
    from django.db import connections

    install_guards(connections[using])
