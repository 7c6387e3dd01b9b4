"""Making and restoring a backup folder, in the order that keeps the copy consistent.

Backup: the database first, then the files it names. The files are append-only (attachments
are never changed in place), so every file a row of the snapshot names is already in storage
when the snapshot is taken; the other order would miss the files of rows committed between
the two steps, and the restored ledger would report them missing.

Restore: check every part against the signed manifest, ask, then the files first and the
database last (the moment the rows are back, every file they name is there), then
`verify_audit` on the result, whose head must be the one the backup recorded."""

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

from facility_log.services.backup import BackupError, database, media
from facility_log.services.backup.manifest import file_sha256, read_manifest, write_manifest


@dataclass
class BackupResult:
    folder: Path
    files: int
    head: tuple[int, str] | None
    missing: list[str]


@dataclass
class RestoreResult:
    files_written: int
    entries: int
    head: tuple[int, str]


def make_backup(out: Path) -> BackupResult:
    """Write a complete backup into `out` (which must not exist or be empty). Built beside it
    and renamed at the end, so `out` is either a whole backup or absent."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"refused: {out} already exists and is not an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        part, snapshot = database.dump(work)
        entries = {part: {"sha256": file_sha256(work / part), "size": (work / part).stat().st_size}}
        files, missing = media.copy_out(snapshot.file_names, work)
        entries.update(files)
        write_manifest(
            work,
            {
                "created_at": timezone.now().isoformat(),
                "database": {"vendor": connection.vendor, "file": part},
                "ledger_head": list(snapshot.head) if snapshot.head else None,
                "files": entries,
                "missing_from_storage": missing,
            },
        )
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(out, len(files), snapshot.head, missing)


def check_backup(folder: Path) -> dict:
    """The manifest of a whole, unchanged backup that fits this installation's database."""
    manifest = read_manifest(folder)
    made_on = manifest["database"].get("vendor")
    if made_on != database.vendor():
        raise BackupError(
            f"refused: {folder} is a {made_on} backup and this installation runs "
            f"{connection.vendor}; restore into the same kind, then use move_database"
        )
    return manifest


def target_is_empty() -> bool:
    """No tables yet: a restore into it overwrites nothing, so nothing needs asking."""
    return not connection.introspection.table_names()


def restore_backup(folder: Path, confirm: Callable[[str], bool]) -> RestoreResult:
    """Restore `folder` over this installation. `confirm(question)` is asked before anything
    is overwritten (not asked when the database has no tables yet)."""
    from facility_log.services.verify import verify_audit

    manifest = check_backup(folder)
    if not target_is_empty():
        tables = len(connection.introspection.table_names())
        question = (
            f"This replaces {database.database_label()} ({tables} tables) with the backup of "
            f"{manifest['created_at']} and writes its files into storage."
        )
        if not confirm(question):
            raise BackupError("restore cancelled: nothing was changed")
    written = media.copy_in(folder, manifest["files"])
    database.restore(folder / manifest["database"]["file"])
    result = verify_audit(record_checkpoint=False)
    if not result.intact:
        raise BackupError(
            f"restored, but verify_audit finds: {result.problems[0]} "
            f"({len(result.problems)} problem(s))"
        )
    expected = manifest.get("ledger_head")
    if expected and list(result.head) != expected:
        raise BackupError(
            f"restored, but the ledger head is {result.head[0]}:{result.head[1]}, not the "
            f"{expected[0]}:{expected[1]} the backup recorded"
        )
    return RestoreResult(written, result.entries, result.head)
