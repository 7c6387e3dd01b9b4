"""The manifest of a backup folder: what each part is and its SHA-256, signed with the ledger
key so that a changed manifest is caught along with a changed part.

A backup is complete only when its manifest exists: `make_backup` writes it last, so a backup
interrupted half-way has none and `restore` refuses it."""

import hashlib
import json
from pathlib import Path, PurePosixPath

from facility_log.services.backup import BackupError
from facility_log.services.ledger_seal import sign

FORMAT = "facility_log.backup/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHUNK = 1024 * 1024


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_relative(name: str) -> PurePosixPath:
    """A part's path inside the folder; never absolute, never climbing out of it."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise BackupError(f"refused: {name!r} is not a plain relative path")
    return path


def write_manifest(folder: Path, document: dict) -> None:
    """`document` holds everything but the signature; `files` maps each part to its digest."""
    signed = {**document, "format": FORMAT}
    signed["signature"] = sign(signed)
    (folder / MANIFEST).write_text(json.dumps(signed, indent=2, sort_keys=True), encoding="utf-8")
    # For `sha256sum -c SHA256SUMS` on a machine without facility_log.
    lines = [f"{entry['sha256']}  {name}\n" for name, entry in sorted(document["files"].items())]
    (folder / SUMS).write_text("".join(lines), encoding="utf-8")


def read_manifest(folder: Path) -> dict:
    """The manifest after checking every part against it; raises BackupError (one line) for a
    missing folder, a missing or changed manifest, a missing, changed or unlisted part."""
    if not folder.is_dir():
        raise BackupError(f"refused: {folder} is not a folder")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"refused: {folder} has no {MANIFEST}: an incomplete backup (interrupted before "
            "its end) or not a backup at all"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        claimed = document.pop("signature")
        files = document["files"]
        document["database"]["file"]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupError(f"refused: {path} is not a readable manifest ({error})") from error
    if document.get("format") != FORMAT:
        raise BackupError(f"refused: {path} is format {document.get('format')!r}, not {FORMAT}")
    if sign(document) != claimed:
        raise BackupError(
            f"refused: the signature of {path} does not match: the manifest was changed, or "
            "this installation has another SECRET_KEY / FACILITY_LOG_LEDGER_KEY than the one "
            "that made the backup"
        )
    _check_parts(folder, files)
    return document


def _check_parts(folder: Path, files: dict) -> None:
    for name, entry in sorted(files.items()):
        part = folder / safe_relative(name)
        if not part.is_file():
            raise BackupError(f"refused: incomplete backup: {name} (in the manifest) is missing")
        if part.stat().st_size != entry["size"] or file_sha256(part) != entry["sha256"]:
            raise BackupError(
                f"refused: tampered or damaged backup: {name} does not match its SHA-256 in "
                "the manifest"
            )
    listed = set(files) | {MANIFEST, SUMS}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name not in listed:
            raise BackupError(f"refused: {name} is in the backup folder but not in its manifest")
