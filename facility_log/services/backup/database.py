"""The database part of a backup.

* PostgreSQL: `pg_dump --format=custom` reads one snapshot, exported by a transaction of our
  own that reads the facts the backup also needs (the files the rows name, the ledger head)
  from that very snapshot. `pg_restore --single-transaction` puts it back, all or nothing.
* SQLite: the online backup API (`sqlite3.Connection.backup`), which copies a consistent
  snapshot including what is still in the write-ahead log; copying the file would lose the
  transactions not yet checkpointed into it (and could catch a page half-written).

Connection details come from the default connection's settings, never from the command line
of a child process (the password goes through the environment, PGPASSWORD)."""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connection, models

from facility_log.models import LedgerEntry
from facility_log.services.backup import BackupError, first_line

PG_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite3"


@dataclass
class Snapshot:
    """What one consistent read of the database saw besides the dump itself."""

    file_names: list[str]
    head: tuple[int, str] | None


def file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field of the live models: the files a backup keeps."""
    found = set()
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                found.add((model._meta.db_table, field.column))
    return sorted(found)


def _read_snapshot(cursor) -> Snapshot:
    names: set[str] = set()
    for table, column in file_columns():
        # Constant identifiers from the models, quoted; no input reaches this statement.
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\'')  # noqa: S608
        names.update(row[0] for row in cursor.fetchall())
    ledger = LedgerEntry._meta.db_table
    cursor.execute(f'SELECT seq, hash FROM "{ledger}" ORDER BY seq DESC LIMIT 1')  # noqa: S608
    row = cursor.fetchone()
    return Snapshot(sorted(names), (int(row[0]), row[1]) if row else None)


def vendor() -> str:
    """The default database's kind, refusing any other than the two facility_log runs on."""
    if connection.vendor not in {"postgresql", "sqlite"}:
        raise BackupError(
            f"refused: backups support PostgreSQL and SQLite, not {connection.vendor}"
        )
    return connection.vendor


def database_label() -> str:
    """The database named for a person (no password), e.g. for the restore's question."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite {settings['NAME']}"
    return f"PostgreSQL {settings['NAME']} on {settings.get('HOST') or 'localhost'}"


def dump(folder: Path) -> tuple[str, Snapshot]:
    """Write the database into `folder`; returns the part's name and what the snapshot saw."""
    if vendor() == "postgresql":
        return PG_FILE, _dump_postgresql(folder / PG_FILE)
    return SQLITE_FILE, _dump_sqlite(folder / SQLITE_FILE)


def restore(path: Path) -> None:
    """Replace the default database with the dump at `path` (the caller has asked first)."""
    connection.close()
    if vendor() == "postgresql":
        _restore_postgresql(path)
    else:
        _restore_sqlite(path)
    connection.close()


# --- SQLite -------------------------------------------------------------------------------


def backup_sqlite(source: sqlite3.Connection, target_path: Path) -> None:
    """Copy a live SQLite database through the online backup API: one consistent snapshot,
    WAL included, while other connections go on writing."""
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
        # A copy is one self-contained file: no -wal/-shm beside it in the backup folder.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def _dump_sqlite(path: Path) -> Snapshot:
    connection.ensure_connection()
    backup_sqlite(connection.connection, path)
    # The facts come from the copy, so they describe exactly what was copied.
    copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _read_snapshot(copy.cursor())
    finally:
        copy.close()


def _restore_sqlite(path: Path) -> None:
    name = str(connection.settings_dict["NAME"])
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(name, timeout=20)
        try:
            # The backup API writes the target as one transaction: nobody sees half of it.
            source.backup(target)
        finally:
            source.close()
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"restore into {name} failed: {first_line(error)}") from error


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_environment() -> dict[str, str]:
    """libpq's variables for the default database, for pg_dump, pg_restore and psycopg."""
    settings = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if settings.get(key):
            env[variable] = str(settings[key])
    if settings.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = settings["OPTIONS"]["sslmode"]
    return env


def _run(tool: str, arguments: list[str]) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} is not installed (the PostgreSQL client tools are needed)")
    finished = subprocess.run(  # noqa: S603 - fixed program, arguments built here
        [program, *arguments], env=pg_environment(), capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.strip()]
        raise BackupError(f"{tool} failed: {lines[0] if lines else f'exit {finished.returncode}'}")


def _dump_postgresql(path: Path) -> Snapshot:
    import psycopg

    env = pg_environment()
    params = {
        "dbname": env.get("PGDATABASE"),
        "host": env.get("PGHOST"),
        "port": env.get("PGPORT"),
        "user": env.get("PGUSER"),
        "password": env.get("PGPASSWORD"),
    }
    try:
        reader = psycopg.connect(**{k: v for k, v in params.items() if v})
    except psycopg.Error as error:
        raise BackupError(f"cannot connect to {database_label()}: {first_line(error)}") from error
    with reader:
        with reader.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            # pg_dump reads the snapshot this transaction holds open, so the dump and the
            # facts below describe the same instant however busy the database is.
            _run("pg_dump", ["--format=custom", f"--snapshot={snapshot_id}", f"--file={path}"])
            facts = _read_snapshot(cursor)
        reader.rollback()
    return facts


def _restore_postgresql(path: Path) -> None:
    # --clean --if-exists: the dump's own DROPs replace what is there; one transaction, so a
    # failure leaves the database as it was. Owners and grants are the target's own.
    _run(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={connection.settings_dict['NAME']}",
            str(path),
        ],
    )
