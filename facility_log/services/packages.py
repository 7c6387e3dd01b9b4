"""Evidence packages: a zip whose every file is listed with its SHA-256, so that
`sha256sum -c SHA256SUMS` proves it unchanged on any machine, and whose manifest carries the
ledger entries of the record, so `verify_package` can prove the history unchanged too.

This module knows nothing about incidents: it packs files and a manifest and checks them. The
incident package (`services/incident_package.py`) decides what goes in.
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from facility_log.services.ledger import canonical_json, entry_hash_of_document, sha256_hex

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"


# Attachments are copied into the zip this many bytes at a time: memory stays flat however
# large the photo or video.
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PackageFile:
    """A small file made in memory (a JSON document, the PDF, the checksum list)."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def json_file(name: str, document) -> PackageFile:
    """A readable, stable JSON file (sorted keys, UTF-8, trailing newline)."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return PackageFile(name, (text + "\n").encode())


def sums_text(digests: dict[str, str]) -> bytes:
    """The exact format `sha256sum -c` reads: hash, two spaces, path; sorted by path."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode()


def sha256sums(files: list[PackageFile]) -> bytes:
    """SHA256SUMS of files held in memory."""
    return sums_text({f.name: f.sha256 for f in files})


class PackageWriter:
    """Writes a package into a binary file as its files come, never holding a large one in
    memory: a file from storage is copied in chunks of CHUNK_BYTES and hashed on the way, so
    its SHA-256 costs no second read. `finish` adds manifest.json (every file's SHA-256) and
    SHA256SUMS (covering the manifest too) and closes the zip.

    Entries carry `created` as their time so a package is reproducible; the bytes are the same
    whether a file was added whole or streamed."""

    def __init__(self, destination: BinaryIO, created: datetime):
        self._archive = zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED)
        self._stamp = created.timetuple()[:6]
        self.digests: dict[str, str] = {}

    def add(self, item: PackageFile) -> None:
        self._write(item.name, [item.data], len(item.data), compress=True)

    def add_stream(self, name: str, source: BinaryIO, size: int, *, compress: bool = True) -> str:
        """Copy `source` (`size` bytes, which decides whether the entry needs ZIP64) in chunks;
        returns its SHA-256. `compress=False` stores it as it is (a photo or a video is
        compressed already)."""
        chunks = iter(lambda: source.read(CHUNK_BYTES), b"")
        return self._write(name, chunks, size, compress=compress)

    def _write(self, name: str, chunks: Iterable[bytes], size: int, *, compress: bool) -> str:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        info.file_size = size
        digest = hashlib.sha256()
        with self._archive.open(info, "w") as member:
            for chunk in chunks:
                digest.update(chunk)
                member.write(chunk)
        self.digests[name] = digest.hexdigest()
        return self.digests[name]

    def finish(self, manifest: dict) -> None:
        self.add(json_file(MANIFEST_NAME, {**manifest, "files": dict(self.digests)}))
        self.add(PackageFile(SUMS_NAME, sums_text(self.digests)))
        self._archive.close()

    def abandon(self) -> None:
        """Close the zip of a package that will not be delivered (its caller discards the
        file): without a manifest, so it can never pass for a complete package."""
        self._archive.close()


def build_zip(files: list[PackageFile], manifest: dict, created: datetime) -> bytes:
    """The whole package in memory, for small packages made of in-memory files."""
    buffer = io.BytesIO()
    writer = PackageWriter(buffer, created)
    for item in files:
        writer.add(item)
    writer.finish(manifest)
    return buffer.getvalue()


def file_sha256(source: BinaryIO) -> str:
    """SHA-256 of a file read from its start in chunks (the zip as handed over)."""
    source.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _check_sums(archive: zipfile.ZipFile, names: set[str]) -> list[str]:
    problems = []
    listed = set()
    for line_no, line in enumerate(archive.read(SUMS_NAME).decode().splitlines(), start=1):
        digest, _, name = line.partition("  ")
        listed.add(name)
        if name not in names:
            problems.append(f"{name}: listed in {SUMS_NAME} (line {line_no}) but missing")
        elif hashlib.sha256(archive.read(name)).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 does not match {SUMS_NAME}")
    for name in sorted(names - listed - {SUMS_NAME}):
        problems.append(f"{name}: in the package but not in {SUMS_NAME}")
    return problems


def _check_manifest(archive: zipfile.ZipFile, manifest: dict) -> list[str]:
    problems = []
    for name, digest in sorted(manifest.get("files", {}).items()):
        try:
            data = archive.read(name)
        except KeyError:
            problems.append(f"{name}: named in {MANIFEST_NAME} but missing")
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 does not match {MANIFEST_NAME}")
    return problems


def _check_ledger(manifest: dict, history: list[dict]) -> list[str]:
    """Each entry's hash recomputes from its content; each history row's digest matches its
    entry: the history in the package is the history the ledger chained."""
    problems = []
    entries = {entry["seq"]: entry for entry in manifest.get("ledger", {}).get("entries", [])}
    for seq, entry in sorted(entries.items()):
        if entry_hash_of_document(entry) != entry["hash"]:
            problems.append(f"ledger entry #{seq}: its hash does not recompute")
    for row in history:
        entry = entries.get(row.get("ledger_seq"))
        if entry is None:
            problems.append(f"{row.get('record')}: history row has no ledger entry in the manifest")
        elif _row_digest(row) != entry["digest"]:
            problems.append(
                f"{row.get('record')}: history row differs from ledger entry #{entry['seq']}"
            )
    return problems


def _row_digest(row: dict) -> str:
    """A redacted row carries only the digest of its stored values; others carry the values."""
    if "stored" in row:
        return sha256_hex(canonical_json(row["stored"]))
    return row.get("stored_sha256", "")


def verify_package(path: Path, schema: dict | None = None, document_name: str = "") -> list[str]:
    """Check a package offline. Returns the problems found, each naming its file; empty when
    the package is intact."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"{path}: not a readable zip ({error})"]
    with archive:
        names = set(archive.namelist())
        if SUMS_NAME not in names or MANIFEST_NAME not in names:
            return [f"{path}: {SUMS_NAME} or {MANIFEST_NAME} is missing"]
        problems = _check_sums(archive, names)
        manifest = _read_json(archive, MANIFEST_NAME, problems) or {}
        problems += _check_manifest(archive, manifest)
        history = _read_json(archive, "history.json", problems) or {}
        problems += _check_ledger(manifest, history.get("rows", []))
        if schema is not None:
            document = _read_json(archive, document_name, problems)
            if document is not None:
                problems += _check_schema(document, schema, document_name)
    return problems


def _read_json(archive: zipfile.ZipFile, name: str, problems: list[str]):
    """A JSON member, or None with the problem noted (missing or unreadable)."""
    try:
        return json.loads(archive.read(name))
    except KeyError:
        problems.append(f"{name}: missing")
    except (ValueError, UnicodeDecodeError) as error:
        problems.append(f"{name}: not valid JSON ({error})")
    return None


def _check_schema(document, schema: dict, name: str) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{name}: {'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
