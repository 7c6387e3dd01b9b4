"""`move_database`: copy the whole database — ledger, history, users, sessions, tasks — from
this installation's database into another, empty one (SQLite to PostgreSQL being the reason it
exists), and prove the copy before keeping it.

`loaddata` cannot do this: it saves through the models, which the append-only triggers refuse
for the ledger and history tables, and saving would write new history rows and fresh
auto-set times. Here every row is copied as it is: read through the ORM (so each value comes
back as Python, whatever the source's storage of it), written with the target's own
preparation of each field and no `save()`, no signals and no `pre_save` (an auto-set time must
keep its recorded value, or the ledger digests would no longer match). The tables are written
in one transaction with the foreign keys checked at its end; the row counts and `verify_audit`
are checked on the target inside that transaction, so a copy that does not verify is rolled
back and the target holds nothing but the empty schema `migrate` made."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dj_database_url
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import Error as DatabaseError
from django.db.utils import load_backend

from facility_log.services.backup import BackupError, first_line

TARGET = "move_target"
BATCH = 2000
# What `migrate` itself writes into a new database; anything else there means it is in use.
MIGRATE_ONLY = {"django_migrations", "django_content_type", "auth_permission"}
# Tables no model describes that a move leaves behind on purpose.
NOT_MOVED = {"django_migrations", "fl_purge_permit", "sqlite_sequence"}


@dataclass
class MoveReport:
    tables: int
    rows: int
    entries: int
    head: tuple[int, str]
    counts: dict[str, int] = field(default_factory=dict)


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    config = dj_database_url.parse(url)
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"{config.get('USER') or ''}@{host}{port}/{config.get('NAME')}"


def moved_models() -> list[type]:
    """Every model with a table of its own, many-to-many tables included, except the figures
    the database derives: the target's triggers count them again from the rows copied."""
    from facility_log.models import DerivedModel

    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not issubclass(model, DerivedModel)
    ]


def derived_tables() -> set[str]:
    """The tables of the derived figures (kept by the target's own triggers)."""
    from facility_log.models import DerivedModel

    return {m._meta.db_table for m in apps.get_models() if issubclass(m, DerivedModel)}


def _open_target(url: str):
    try:
        config = dj_database_url.parse(url)
    except ValueError as error:
        raise BackupError(f"--to {url!r} is not a database URL ({error})") from error
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise BackupError("--to must be a postgres:// URL (moves go to PostgreSQL)")
    source = connections[DEFAULT_DB_ALIAS].settings_dict
    if all(config.get(key) == source.get(key) for key in ("ENGINE", "NAME", "HOST", "PORT")):
        raise BackupError("refused: the target is this installation's own database")
    config = connections.configure_settings({DEFAULT_DB_ALIAS: source, TARGET: config})[TARGET]
    # A connection of this command's own, not added to the project's settings: it exists for
    # the move only and is closed and forgotten at its end.
    target = load_backend(config["ENGINE"]).DatabaseWrapper(config, TARGET)
    connections[TARGET] = target
    try:
        target.ensure_connection()
    except DatabaseError as error:
        raise BackupError(f"cannot connect to {redacted(url)}: {first_line(error)}") from error
    return target


def _close_target() -> None:
    target = getattr(connections._connections, TARGET, None)
    if target is not None:
        target.close()
        del connections[TARGET]


def _refuse_unless_empty(target, url: str) -> None:
    used = []
    with target.cursor() as cursor:
        for table in target.introspection.table_names(cursor):
            if table in MIGRATE_ONLY:
                continue
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')  # noqa: S608
            if cursor.fetchone()[0]:
                used.append(table)
    if used:
        raise BackupError(
            f"refused: {redacted(url)} is not empty ({len(used)} table(s) hold rows, e.g. "
            f"{used[0]}); move into a new database (createdb)"
        )


def _refuse_unknown_source_tables(source) -> None:
    known = {model._meta.db_table for model in moved_models()} | NOT_MOVED | derived_tables()
    unknown = sorted(set(source.introspection.table_names()) - known)
    if unknown:
        raise BackupError(
            f"refused: the source holds {len(unknown)} table(s) no model describes (e.g. "
            f"{unknown[0]}); a move would leave them behind"
        )


def _refuse_unmigrated(source) -> None:
    executor = MigrationExecutor(source)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise BackupError("refused: the source has unapplied migrations; run migrate first")


@contextmanager
def as_default(alias: str) -> Iterator[None]:
    """Run the enclosed code (verify_audit) against `alias` as if it were the default
    database, in this thread only."""
    original = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = connections[alias]
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = original


def _copy_table(model, source, target) -> int:
    fields = model._meta.concrete_fields
    columns = ", ".join(target.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = target.ops.quote_name(model._meta.db_table)
    # Raw INSERT on purpose (module docstring): an exact copy, history rows included.
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    rows = (
        model._base_manager.using(source.alias)
        .order_by("pk")
        .values_list(*[f.attname for f in fields])
    )
    copied = 0
    batch = []
    with target.cursor() as cursor:
        for row in rows.iterator(chunk_size=BATCH):
            batch.append(
                [
                    f.get_db_prep_save(value, connection=target)
                    for f, value in zip(fields, row, strict=True)
                ]
            )
            if len(batch) == BATCH:
                cursor.executemany(insert, batch)
                copied += len(batch)
                batch = []
        if batch:
            cursor.executemany(insert, batch)
            copied += len(batch)
    return copied


def _copy_everything(source, target) -> dict[str, int]:
    models = moved_models()
    tables = [m._meta.db_table for m in models]
    with target.cursor() as cursor:
        # migrate's own rows (content types, permissions) give way to the source's, whose
        # ids the copied rows refer to. TRUNCATE does not fire the append-only row triggers.
        for statement in target.ops.sql_flush(
            no_style(), tables, reset_sequences=False, allow_cascade=True
        ):
            cursor.execute(statement)
    counts = {}
    # One read transaction on the source: every table from the same state.
    with transaction.atomic(using=source.alias):
        for model in models:
            counts[model._meta.db_table] = _copy_table(model, source, target)
    with target.cursor() as cursor:
        for statement in target.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return counts


def _check_counts(target, counts: dict[str, int]) -> None:
    with target.cursor() as cursor:
        for table, expected in counts.items():
            cursor.execute(f"SELECT COUNT(*) FROM {target.ops.quote_name(table)}")  # noqa: S608
            found = cursor.fetchone()[0]
            if found != expected:
                raise BackupError(
                    f"copy check failed: {table} has {found} rows on the target, {expected} "
                    "on the source; nothing was kept"
                )


def move_database(url: str) -> MoveReport:
    """Copy this installation's database into the empty PostgreSQL database at `url`."""
    from facility_log.services.verify import verify_audit

    source = connections[DEFAULT_DB_ALIAS]
    target = _open_target(url)
    try:
        _refuse_unless_empty(target, url)
        _refuse_unmigrated(source)
        _refuse_unknown_source_tables(source)
        call_command("migrate", database=TARGET, interactive=False, verbosity=0)
        try:
            with transaction.atomic(using=TARGET):
                counts = _copy_everything(source, target)
                _check_counts(target, counts)
                with as_default(TARGET):
                    result = verify_audit(record_checkpoint=False)
                if not result.intact:
                    raise BackupError(
                        f"verify_audit on the target finds: {result.problems[0]} "
                        f"({len(result.problems)} problem(s)); nothing was kept (run "
                        "verify_audit on the source: was it there before?)"
                    )
        except DatabaseError as error:
            raise BackupError(f"copy failed, nothing was kept: {first_line(error)}") from error
        return MoveReport(
            tables=len(counts),
            rows=sum(counts.values()),
            entries=result.entries,
            head=result.head,
            counts=counts,
        )
    finally:
        _close_target()
