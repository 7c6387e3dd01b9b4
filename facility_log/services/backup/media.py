"""The files part of a backup, read and written through Django's storage API, so the same code
keeps working when attachments live on object storage (django-storages) rather than on disk.

Only the files the database snapshot names are copied: a file written after the snapshot
belongs to a row the backup does not hold, and restoring it would leave a file no record owns."""

import hashlib
import time
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage

from facility_log.services.backup import BackupError
from facility_log.services.backup.manifest import CHUNK, safe_relative

PREFIX = "media"
MISSING_GRACE_SECONDS = 3.0


def _copy_one(name: str, folder: Path) -> dict | None:
    """Copy one file out of storage, hashing it on the way; None when storage lacks it."""
    target = folder / PREFIX / safe_relative(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    try:
        with default_storage.open(name, "rb") as source, target.open("wb") as out:
            for block in iter(lambda source=source: source.read(CHUNK), b""):
                digest.update(block)
                size += len(block)
                out.write(block)
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return None
    return {"sha256": digest.hexdigest(), "size": size}


def copy_out(names: list[str], folder: Path) -> tuple[dict[str, dict], list[str]]:
    """Copy each named file from storage into `folder/media/`; returns the manifest entries
    and the names the snapshot holds but storage has not (reported, not invented).

    A file moved into place when its row's transaction commits can appear a moment after the
    snapshot saw the row: such names get a few more looks before they count as missing."""
    entries: dict[str, dict] = {}
    pending = list(names)
    deadline = time.monotonic() + MISSING_GRACE_SECONDS
    while True:
        missing = []
        for name in pending:
            entry = _copy_one(name, folder)
            if entry is None:
                missing.append(name)
            else:
                entries[f"{PREFIX}/{safe_relative(name).as_posix()}"] = entry
        if not missing or time.monotonic() >= deadline:
            return entries, missing
        pending = missing
        time.sleep(0.2)


def copy_in(folder: Path, files: dict[str, dict]) -> int:
    """Put every file of the backup back into storage under its own name; a file already
    there with the same bytes is left alone. Returns the number of files written."""
    written = 0
    for part, entry in sorted(files.items()):
        if not part.startswith(f"{PREFIX}/"):
            continue
        name = part[len(PREFIX) + 1 :]
        safe_relative(name)
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as current:
                same = hashlib.file_digest(current, "sha256").hexdigest() == entry["sha256"]
            if same:
                continue
            default_storage.delete(name)
        with (folder / part).open("rb") as handle:
            saved = default_storage.save(name, File(handle))
        if saved != name:
            raise BackupError(f"restore: storage saved {name} as {saved}; nothing else written")
        written += 1
    return written
