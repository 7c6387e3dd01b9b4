"""Database triggers that refuse UPDATE and DELETE on the ledger and on every history table.

Installed after every `migrate` (post_migrate), so a history table added later is guarded
too. The application never updates or deletes these rows; someone with database access who
drops a trigger to do so is caught by `verify_audit`. The retention purge (a later issue) is
the one documented path that removes rows, leaving a tombstone entry.
"""

from django.db import connection as default_connection
from simple_history.models import registered_models

from facility_log.models import LedgerEntry

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION facility_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'facility_log: % is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql
"""


def guarded_tables() -> list[str]:
    history = [model.history.model._meta.db_table for model in registered_models.values()]
    return sorted({LedgerEntry._meta.db_table, *history})


def _statements_sqlite(table: str) -> list[str]:
    return [
        f'CREATE TRIGGER IF NOT EXISTS "fl_guard_{table}_{op.lower()}" BEFORE {op} ON "{table}" '
        f"BEGIN SELECT RAISE(ABORT, 'facility_log: {table} is append-only ({op} refused)'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _statements_postgresql(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS fl_guard ON "{table}"',
        f'CREATE TRIGGER fl_guard BEFORE UPDATE OR DELETE ON "{table}" '
        "FOR EACH ROW EXECUTE FUNCTION facility_log_append_only()",
    ]


def install_guards(connection=default_connection) -> int:
    """Create the triggers (idempotent). Returns the number of tables guarded."""
    tables = [t for t in guarded_tables() if t in connection.introspection.table_names()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_FUNCTION)
        for table in tables:
            statements = (
                _statements_postgresql(table)
                if connection.vendor == "postgresql"
                else _statements_sqlite(table)
            )
            for statement in statements:
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


def install_guards_after_migrate(sender, using, **kwargs) -> None:
    from django.db import connections

    install_guards(connections[using])
