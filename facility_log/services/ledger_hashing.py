"""The ledger's byte forms and hashes: the canonical JSON a digest is computed over, and an
entry's hash over the previous hash and its content (services/ledger.py re-exports them)."""

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db.models import Model

from facility_log.models import LedgerEntry

GENESIS_HASH = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that orders ledger writers.
LEDGER_LOCK_KEY = 0x0FAC1117
# Rows read back and entries inserted per query when entries are chained.
CHAIN_CHUNK = 2000
# From this many entries at once (an import's chunk), PostgreSQL gets them with COPY.
COPY_MIN_ENTRIES = 200


def _canonical_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def canonical_json(data: dict) -> bytes:
    """The one byte form of a record that digests are computed over: sorted keys, no
    whitespace, times in UTC ISO 8601."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), default=_canonical_value, ensure_ascii=False
    ).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_type(model: type[Model]) -> str:
    return model._meta.label_lower


ENTRY_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "object_type",
    "object_pk",
    "record_label",
    "actor_name",
    "digest",
)


def entry_document(entry: LedgerEntry) -> dict:
    """An entry as plain JSON values: what an export carries so that anyone can recompute
    its hash without facility_log (see `entry_hash_of_document`)."""
    document = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    document["created_at"] = _canonical_value(entry.created_at)
    document["prev_hash"] = entry.prev_hash
    document["hash"] = entry.hash
    return document


def entry_hash_of_document(document: dict) -> str:
    content = {name: document[name] for name in ENTRY_FIELDS}
    return sha256_hex(document["prev_hash"].encode() + canonical_json(content))


def entry_hash(entry: LedgerEntry) -> str:
    return entry_hash_of_document(entry_document(entry))
