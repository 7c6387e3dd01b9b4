"""`backup` and `restore`: a live instance, written to during the backup, restores into a
database of its own and verifies; a tampered, incomplete or mismatched backup is refused with
one line before anything is overwritten; a SQLite copy keeps what is still in the WAL."""

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from facility_log.models import Incident, LedgerEntry
from facility_log.services.backup.database import backup_sqlite
from tests.incident_factories import png_bytes, seed_site_a_incident
from tests.management.backup_helpers import (
    database_url,
    drop_postgres_database,
    environment,
    fresh_postgres_database,
    manage,
    start_writer,
)
from tests.personas import build_personas

RESTORE_DB = "fl_backup_restore"


def _live_database(tmp_path: Path) -> str:
    """The URL of a database another process can write to while we back it up. PostgreSQL:
    the test database itself; SQLite: the in-memory test database copied into a file."""
    if connection.vendor == "postgresql":
        return database_url()
    path = tmp_path / "live.sqlite3"
    connection.ensure_connection()
    backup_sqlite(connection.connection, path)
    return f"sqlite:///{path}"


def _restore_target(tmp_path: Path) -> str:
    if connection.vendor == "postgresql":
        return fresh_postgres_database(RESTORE_DB)
    return f"sqlite:///{tmp_path / 'restored.sqlite3'}"


@pytest.mark.django_db(transaction=True)
def test_a_live_instance_written_to_during_the_backup_restores_and_verifies(
    transactional_db, tmp_path
):
    seed_site_a_incident(build_personas())
    live = environment(_live_database(tmp_path))
    (tmp_path / "photo.png").write_bytes(png_bytes(colour=(10, 120, 40)))

    writer = start_writer(live, tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists():
            assert writer.poll() is None, writer.stderr.read()
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.1)
        backup = manage(live, "backup", "--out", str(tmp_path / "backup"))
    finally:
        (tmp_path / "stop").touch()
        out, err = writer.communicate(timeout=120)
    assert backup.returncode == 0, backup.stderr
    assert writer.returncode == 0, err
    written_in_all = int(out.strip().splitlines()[-1])

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    seq_in_backup = manifest["ledger_head"][0]
    final = manage(live, "verify_audit", "--no-checkpoint")
    assert final.returncode == 0, final.stderr
    final_seq = int(final.stdout.split("head ")[1].split(":")[0])
    # Writes went on after the backup had started and finished: the copy is of a moving target.
    assert seq_in_backup < final_seq
    photos = [name for name in manifest["files"] if name.startswith("media/")]
    assert 4 <= len(photos) <= written_in_all + 1

    target = environment(_restore_target(tmp_path), media=tmp_path / "restored-media")
    try:
        restored = manage(target, "restore", str(tmp_path / "backup"), "--yes")
        assert restored.returncode == 0, restored.stderr
        assert f"head {manifest['ledger_head'][0]}:{manifest['ledger_head'][1]}" in (
            restored.stdout
        )
        # The operator's own check of the copy, files included (every photo read back).
        verified = manage(target, "verify_audit", "--no-checkpoint")
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.startswith("ledger intact")
        assert f"head {seq_in_backup}:" in verified.stdout
        restored_files = sorted(
            p.relative_to(tmp_path / "restored-media").as_posix()
            for p in (tmp_path / "restored-media").rglob("*")
            if p.is_file()
        )
        assert restored_files == sorted(name.removeprefix("media/") for name in photos)
    finally:
        if connection.vendor == "postgresql":
            drop_postgres_database(RESTORE_DB)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_tampered_incomplete_or_foreign_backup_with_one_line(
    transactional_db, tmp_path
):
    seed_site_a_incident(build_personas())
    good = tmp_path / "good"
    call_command("backup", "--out", str(good), stdout=open("/dev/null", "w"))  # noqa: SIM115
    photo = next(p for p in (good / "media").rglob("*") if p.is_file())
    database_part = next(good.glob("database.*"))

    def damaged(name, change) -> Path:
        copy = tmp_path / name
        shutil.copytree(good, copy)
        change(copy)
        return copy

    def flip_last_byte(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))

    def with_manifest(copy: Path, edit) -> None:
        document = json.loads((copy / "manifest.json").read_text())
        edit(document)
        (copy / "manifest.json").write_text(json.dumps(document))

    cases = {
        "photo changed": (
            lambda c: flip_last_byte(c / photo.relative_to(good)),
            "tampered or damaged backup: media/",
        ),
        "database changed": (
            lambda c: flip_last_byte(c / database_part.name),
            f"tampered or damaged backup: {database_part.name}",
        ),
        "photo missing": (
            lambda c: (c / photo.relative_to(good)).unlink(),
            "incomplete backup: media/",
        ),
        "no manifest (interrupted)": (
            lambda c: (c / "manifest.json").unlink(),
            "has no manifest.json",
        ),
        "file slipped in": (
            lambda c: (c / "media" / "extra.html").write_text("<script>"),
            "media/extra.html is in the backup folder but not in its manifest",
        ),
        "manifest rewritten to match a changed photo": (
            lambda c: with_manifest(c, lambda d: d["files"].popitem()),
            "signature of",
        ),
        "manifest edited to claim another database kind": (
            lambda c: with_manifest(c, lambda d: d["database"].update(vendor="oracle")),
            "signature of",
        ),
    }
    incidents_before = Incident.objects.count()
    entries_before = LedgerEntry.objects.count()
    for name, (change, expected) in cases.items():
        with pytest.raises(CommandError) as refused:
            call_command("restore", str(damaged(name.replace(" ", "-"), change)), "--yes")
        message = str(refused.value)
        assert expected in message, (name, message)
        assert "\n" not in message, name
    # Not even a confirmed restore of a whole backup happens without asking first.
    with pytest.raises(CommandError, match="not empty; run in a terminal to confirm, or pass"):
        call_command("restore", str(good))
    assert Incident.objects.count() == incidents_before
    assert LedgerEntry.objects.count() == entries_before


@pytest.mark.django_db
def test_backup_refuses_a_folder_that_already_holds_something(tmp_path):
    (tmp_path / "old.txt").write_text("earlier backup")
    with pytest.raises(CommandError, match="already exists and is not an empty folder"):
        call_command("backup", "--out", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["old.txt"]


def test_the_sqlite_copy_keeps_what_is_still_in_the_write_ahead_log(tmp_path):
    live = tmp_path / "live.sqlite3"
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # as between two checkpoints of a busy site
    writer.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, text TEXT)")
    writer.executemany("INSERT INTO entry (text) VALUES (?)", [(f"row {i}",) for i in range(50)])

    plain = tmp_path / "plain.sqlite3"
    shutil.copyfile(live, plain)
    backup_sqlite(sqlite3.connect(live), tmp_path / "online.sqlite3")
    writer.close()

    def rows(path: Path) -> int:
        with sqlite3.connect(path) as copy:
            try:
                return copy.execute("SELECT COUNT(*) FROM entry").fetchone()[0]
            except sqlite3.OperationalError:
                return 0

    assert rows(tmp_path / "online.sqlite3") == 50
    assert rows(plain) == 0  # the reason for the backup API: the committed rows were in the WAL
