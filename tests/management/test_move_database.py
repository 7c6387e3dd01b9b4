"""`move_database`: the demo on SQLite moved into an empty PostgreSQL database shows the same
records, ledger and history, and passes verify_audit there; a used target is refused."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from facility_log.models import Incident, LedgerEntry
from tests.management.backup_helpers import (
    drop_postgres_database,
    environment,
    fresh_postgres_database,
    manage,
    postgres_available,
)

MOVE_DB = "fl_backup_move"
NEW_INCIDENT = """
import uuid
from django.contrib.auth import get_user_model
from facility_log.models import Category, Site
from facility_log.services import incidents as svc
incident, _ = svc.create_incident(
    get_user_model().objects.get(username="guard"), site=Site.objects.get(code="HQ"),
    client_uuid=uuid.uuid4(), category=Category.objects.get(name="Trespass"),
    narrative="first report after the move",
)
print(incident.pk)
"""


def _rows(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return [tuple(row) for row in cursor.fetchall()]


# Read from both databases with the same plain SQL, so neither side is read through the code
# under test.
SAME_RECORDS = {
    "incidents": "SELECT number, title, status, narrative FROM facility_log_incident ORDER BY id",
    "ledger": "SELECT seq, hash, prev_hash, object_type FROM facility_log_ledgerentry ORDER BY seq",
    "incident history": (
        "SELECT history_id, number, status, history_change_reason "
        "FROM facility_log_historicalincident ORDER BY history_id"
    ),
    "users": "SELECT username, is_active FROM auth_user ORDER BY id",
}


@pytest.mark.django_db(transaction=True)
def test_the_sqlite_demo_moved_to_postgresql_shows_the_same_records_and_verifies(
    transactional_db, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("moves from SQLite: run with the default (SQLite) database")
    if not postgres_available():
        pytest.skip("needs the PostgreSQL server at 127.0.0.1:5432 as the target")
    settings.DEBUG = True  # seed_demo refuses to run in production
    try:
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    finally:
        settings.DEBUG = False
    assert Incident.objects.exists()
    url = fresh_postgres_database(MOVE_DB)
    try:
        with open(tmp_path / "out.txt", "w") as out:
            call_command("move_database", "--to", url, stdout=out)
        report = (tmp_path / "out.txt").read_text()
        assert "row counts match; ledger intact" in report
        assert f"{LedgerEntry.objects.count()} entries checked" in report

        import psycopg

        with psycopg.connect(url) as target, connection.cursor() as source:
            for what, sql in SAME_RECORDS.items():
                moved = _rows(target.cursor(), sql)
                assert moved, what
                assert moved == _rows(source, sql), what

        # The moved site goes on working (its sequences continue after the copied ids), and
        # the operator's check passes on the new database, in processes of their own.
        target_env = environment(url, settings.MEDIA_ROOT)
        made = manage(target_env, "shell", "--verbosity", "0", "-c", NEW_INCIDENT)
        assert made.returncode == 0, made.stderr
        assert int(made.stdout.split()[-1]) > max(Incident.objects.values_list("pk", flat=True))
        verified = manage(target_env, "verify_audit")
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.startswith("ledger intact")

        with pytest.raises(CommandError, match="is not empty .* move into a new database"):
            call_command("move_database", "--to", url)
    finally:
        drop_postgres_database(MOVE_DB)


@pytest.mark.django_db
def test_a_move_onto_its_own_database_or_to_not_postgresql_is_refused():
    own = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{own['USER']}@{own['HOST']}:{own['PORT']}/{own['NAME']}"
        with pytest.raises(CommandError, match="the target is this installation's own database"):
            call_command("move_database", "--to", url)
    with pytest.raises(CommandError, match="--to must be a postgres:// URL"):
        call_command("move_database", "--to", "sqlite:////tmp/elsewhere.sqlite3")
    if postgres_available():
        missing = "postgres://postgres:secret@127.0.0.1:5432/fl_backup_never_created"
        with pytest.raises(CommandError) as refused:
            call_command("move_database", "--to", missing)
        message = str(refused.value)
        assert message.startswith("cannot connect to postgres@127.0.0.1:5432/fl_backup_never")
        assert "\n" not in message and "secret" not in message


@pytest.mark.django_db(transaction=True)
def test_a_copy_that_does_not_verify_is_not_kept_and_the_move_can_be_retried(transactional_db):
    if connection.vendor != "sqlite":
        pytest.skip("moves from SQLite: run with the default (SQLite) database")
    if not postgres_available():
        pytest.skip("needs the PostgreSQL server at 127.0.0.1:5432 as the target")
    from tests.incident_factories import seed_site_a_incident
    from tests.personas import build_personas

    incident = seed_site_a_incident(build_personas())
    photo = incident.attachments.get()
    path = photo.file.path
    original = open(path, "rb").read()  # noqa: SIM115
    url = fresh_postgres_database(MOVE_DB)
    import psycopg

    def rows_on_target(table: str) -> int:
        with psycopg.connect(url) as target:
            return target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608

    try:
        with open(path, "wb") as handle:
            handle.write(original[:-1] + bytes([original[-1] ^ 0xFF]))
        with pytest.raises(CommandError) as refused:
            call_command("move_database", "--to", url)
        assert "verify_audit on the target finds" in str(refused.value)
        assert "no longer match the recorded SHA-256" in str(refused.value)
        assert "nothing was kept" in str(refused.value)
        assert rows_on_target("facility_log_ledgerentry") == 0
        assert rows_on_target("auth_user") == 0

        with open(path, "wb") as handle:
            handle.write(original)
        call_command("move_database", "--to", url, stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert rows_on_target("facility_log_ledgerentry") == LedgerEntry.objects.count()
    finally:
        with open(path, "wb") as handle:
            handle.write(original)
        drop_postgres_database(MOVE_DB)
