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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from facility_log.services.ledger import canonical_json, entry_hash_of_document, sha256_hex

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class PackageFile:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def json_file(name: str, document) -> PackageFile:
    """A readable, stable JSON file (sorted keys, UTF-8, trailing newline)."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return PackageFile(name, (text + "\n").encode())


def sha256sums(files: list[PackageFile]) -> bytes:
    """The exact format `sha256sum -c` reads: hash, two spaces, path."""
    return "".join(f"{f.sha256}  {f.name}\n" for f in sorted(files, key=lambda f: f.name)).encode()


def build_zip(files: list[PackageFile], manifest: dict, created: datetime) -> bytes:
    """Pack `files`, then manifest.json (with every file's SHA-256), then SHA256SUMS (covering
    the manifest too). Entries carry `created` as their time so a package is reproducible."""
    manifest = {**manifest, "files": {f.name: f.sha256 for f in files}}
    everything = [*files, json_file(MANIFEST_NAME, manifest)]
    everything.append(PackageFile(SUMS_NAME, sha256sums(everything)))
    buffer = io.BytesIO()
    stamp = created.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in everything:
            info = zipfile.ZipInfo(item.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, item.data)
    return buffer.getvalue()


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
