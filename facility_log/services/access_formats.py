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
    items = _JsonStream(stream).array("Expected a JSON array of Kisi webhook bodies.")
    for number, body in enumerate(items, start=1):
        yield kisi_incoming(body, number)


def _nested(item: dict, dotted: str) -> str:
    value = item
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return _text(value)


def read_gallagher_json(stream) -> Iterator[Incoming]:
    """One page of Gallagher Command Centre `GET /api/events` (`events[]`)."""
    events = _JsonStream(stream).member_array(
        "events", "Expected a Gallagher events page: an object with an `events` list."
    )
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


class _JsonStream:
    """The items of one JSON array read one at a time from a text stream, so that a file of a
    million events is never held in memory: a block of text and one item at a time.

    Each item is decoded by the standard library's decoder (`raw_decode`); this class only
    walks the brackets, commas and keys around the items."""

    BLOCK = 1 << 16
    # An item larger than this is refused rather than read on into memory.
    MAX_ITEM = 1 << 20

    def __init__(self, stream):
        if isinstance(stream.read(0), bytes):
            stream = open_text(stream)
        self.stream, self.buffer, self.pos = stream, "", 0
        self.line = 1  # the line of buffer[0] in the file
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            block = self.stream.read(self.BLOCK)
        except UnicodeDecodeError as error:
            raise FormatError(f"Not valid JSON: {error}.", self._line_at(self.pos)) from error
        if not block:
            self.eof = True
            return False
        self.line += self.buffer.count("\n", 0, self.pos)
        self.buffer, self.pos = self.buffer[self.pos :] + block, 0
        return True

    def _line_at(self, pos: int) -> int:
        return self.line + self.buffer.count("\n", 0, pos)

    def _bad(self, message: str, pos: int | None = None) -> FormatError:
        line = self._line_at(self.pos if pos is None else pos)
        return FormatError(f"Not valid JSON: {message} (line {line}).", line)

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the input)."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def take(self, expected: str, what: str) -> str:
        char = self.peek()
        if not char or char not in expected:
            raise self._bad(f"expected {what}" + (f", found {char!r}" if char else ""))
        self.pos += 1
        return char

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                # Most often the item goes on in the next block: read on, within reason.
                if len(self.buffer) - self.pos <= self.MAX_ITEM and self._fill():
                    continue
                raise self._bad(error.msg, error.pos) from None
            if end == len(self.buffer) and self._fill():
                continue  # a number cut at the block's end: decode it again whole
            self.pos = end
            return value

    def _items(self):
        self.take("[", "[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.take(",]", "a comma or ] after an item") == "]":
                return

    def _end(self) -> None:
        if self.peek():
            raise self._bad("extra data after the end")

    def _not_a(self, message: str) -> FormatError:
        if not self.peek():
            return self._bad("the input is empty")
        self.value()  # not what was expected: say so, unless it is not JSON at all
        return FormatError(message)

    def array(self, message: str):
        """The items of a top-level array."""
        if self.peek() != "[":
            raise self._not_a(message)
        yield from self._items()
        self._end()

    def member_array(self, name: str, message: str):
        """The items of the array under key `name` of a top-level object (other members are
        decoded and dropped: they are small)."""
        if self.peek() != "{":
            raise self._not_a(message)
        self.pos += 1
        found = False
        if self.peek() == "}":
            self.pos += 1
        else:
            while True:
                key = self.value()
                self.take(":", "a colon after a key")
                if key == name and not found:
                    if self.peek() != "[":
                        raise FormatError(message)
                    found = True
                    yield from self._items()
                else:
                    self.value()
                if self.take(",}", "a comma or } after a member") == "}":
                    break
        self._end()
        if not found:
            raise FormatError(message)


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
