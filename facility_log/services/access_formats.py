"""Readers for the access-event formats: each turns its input into `Incoming` rows with the
line (or item) number and the names of its own columns, so an error can name both.

Readers do not validate; `services.access` does, for every format alike.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from facility_log.models import SourceFormat

GENERIC_COLUMNS = (
    "source",
    "external_id",
    "occurred_at",
    "door",
    "event_type",
    "reason",
    "credential",
    "cardholder",
    "direction",
)
GENERIC_REQUIRED = ("source", "external_id", "occurred_at", "door", "event_type")

# Our field → the vendor's field, for error messages.
KISI_COLUMNS = {
    "external_id": "uuid",
    "occurred_at": "created_at",
    "door": "object_id",
    "vendor_type": "type",
    "reason": "error_code",
    "cardholder": "actor_name",
}
GALLAGHER_COLUMNS = {
    "external_id": "id",
    "occurred_at": "time",
    "door": "source.id",
    "vendor_type": "type.name",
    "credential": "card.number",
    "cardholder": "cardholder.name",
}


class FormatError(ValueError):
    """The input as a whole cannot be read (not JSON, no header, missing columns)."""

    def __init__(self, message: str, line: int = 1, column: str = ""):
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


@dataclass
class Incoming:
    """One event as a source gave it, not yet checked."""

    line: int
    source: str
    external_id: str
    occurred_at: str
    door: str
    event_type: str = ""
    vendor: str = SourceFormat.GENERIC
    vendor_type: str = ""
    failed: bool = False
    reason: str = ""
    credential: str = ""
    cardholder: str = ""
    direction: str = ""
    columns: dict = field(default_factory=dict)

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def read_generic_csv(stream: Iterable[str]) -> Iterator[Incoming]:
    """The facility_log generic CSV (header required, columns in any order, BOM tolerated)."""
    reader = csv.DictReader(stream)
    header = [(name or "").lstrip("\ufeff").strip() for name in (reader.fieldnames or [])]
    if not header:
        raise FormatError("The file is empty: a header row is required.")
    missing = [name for name in GENERIC_REQUIRED if name not in header]
    if missing:
        raise FormatError(f"Missing required column(s): {', '.join(missing)}.", 1, missing[0])
    reader.fieldnames = header
    for row in reader:
        values = {name: _text(row.get(name)) for name in GENERIC_COLUMNS}
        yield Incoming(line=reader.line_num, **values)


def open_text(binary) -> io.TextIOWrapper:
    """A text stream over an uploaded or opened binary file (UTF-8, BOM tolerated)."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def kisi_incoming(body: dict, number: int) -> Incoming:
    """One Kisi event-webhook body (`success` false means denied)."""
    if not isinstance(body, dict):
        raise FormatError(f"Item {number} is not a JSON object.", number)
    return Incoming(
        line=number,
        source="kisi",
        external_id=_text(body.get("uuid")),
        occurred_at=_text(body.get("created_at")),
        door=_text(body.get("object_id")),
        vendor=SourceFormat.KISI,
        vendor_type=_text(body.get("type")),
        failed=body.get("success") is False,
        reason=_text(body.get("error_code")),
        cardholder=_text(body.get("actor_name")),
        columns=KISI_COLUMNS,
    )


def read_kisi_json(stream) -> Iterator[Incoming]:
    """A JSON array of Kisi webhook bodies."""
    items = _load_json(stream)
    if not isinstance(items, list):
        raise FormatError("Expected a JSON array of Kisi webhook bodies.")
    for number, body in enumerate(items, start=1):
        yield kisi_incoming(body, number)


def _nested(item: dict, dotted: str) -> str:
    value = item
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return _text(value)


def read_gallagher_json(stream) -> Iterator[Incoming]:
    """One page of Gallagher Command Centre `GET /api/events` (`events[]`)."""
    page = _load_json(stream)
    events = page.get("events") if isinstance(page, dict) else None
    if not isinstance(events, list):
        raise FormatError("Expected a Gallagher events page: an object with an `events` list.")
    for number, item in enumerate(events, start=1):
        if not isinstance(item, dict):
            raise FormatError(f"Event {number} is not a JSON object.", number)
        yield Incoming(
            line=number,
            source="gallagher",
            vendor=SourceFormat.GALLAGHER,
            columns=GALLAGHER_COLUMNS,
            **{name: _nested(item, path) for name, path in GALLAGHER_COLUMNS.items()},
        )


def _load_json(stream):
    try:
        return json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FormatError(f"Not valid JSON: {error}.", getattr(error, "lineno", 1)) from error


READERS = {
    "generic-csv": read_generic_csv,
    "kisi-json": read_kisi_json,
    "gallagher-json": read_gallagher_json,
}
FORMAT_SOURCE = {
    "generic-csv": SourceFormat.GENERIC,
    "kisi-json": SourceFormat.KISI,
    "gallagher-json": SourceFormat.GALLAGHER,
}
