"""Readers for the access-event formats: each turns its input into `Incoming` rows with the
line (or item) number and the names of its own columns, so an error can name both.

Readers do not validate; `services.access` does, for every format alike. Times are parsed
here (`parse_time`), strictly: RFC 3339 where a format says so, epoch seconds or milliseconds
where it allows them, and always inside a plausible window.

Vendor formats follow the vendors' published documents (cited in docs/integrations.md):
Gallagher Command Centre `GET /api/events` pages, Kisi event webhooks, UniFi Access webhooks
and Verkada access-event webhooks.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from django.utils import timezone

from facility_log.models import SourceFormat
from facility_log.services.times import PLAUSIBLE_FUTURE, PLAUSIBLE_PAST

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
    "vendor_type_id": "type.id",
    "vendor_group": "group.name",
    "vendor_group_id": "group.id",
    "source_name": "source.name",
    "credential": "card.number",
    "cardholder": "cardholder.name",
}
UNIFI_COLUMNS = {
    "external_id": "event_object_id",
    "occurred_at": "Signature t",
    "door": "data.location.id",
    "vendor_type": "event",
    "reason": "data.object.result",
    "cardholder": "data.actor.name",
    "credential": "data.object.authentication_value",
    "source_name": "data.location.name",
}
VERKADA_COLUMNS = {
    "external_id": "data.event_id",
    "occurred_at": "data.created",
    "door": "data.door_id",
    "vendor_type": "data.notification_type",
    "cardholder": "data.user_info.name",
    "credential": "data.input_value",
    "direction": "data.direction",
}

# --- times ---------------------------------------------------------------------------------------

# RFC 3339 section 5.6 (`date-time`), with the space its note allows instead of `T`; a missing
# offset is recognised here and refused (or read in the site's zone) by `parse_time`.
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})?$",
    re.ASCII,  # `\d` would otherwise take any script's digits
)
EPOCH = re.compile(r"^\d{1,13}(\.\d{1,6})?$", re.ASCII)
# Epoch values at or above this are milliseconds (1e11 seconds is the year 5138).
EPOCH_MS_FROM = 100_000_000_000
# The plausible window: at most ten years back and one day ahead of this server's clock
# (services/times.py says why).
# The largest offset any clock uses (-12:00 to +14:00); RFC 3339 allows up to 23:59.
MAX_OFFSET_MINUTES = 14 * 60


class TimeRefused(ValueError):
    """A time value that is not accepted; the message says why (the caller names the line)."""


def parse_time(
    text, *, epoch: bool = False, zone: tzinfo | None = None, now: datetime | None = None
) -> datetime:
    """An aware UTC datetime from an RFC 3339 date-time (or, when `epoch`, Unix seconds or
    milliseconds), inside the plausible window.

    A date-time without an offset is refused unless `zone` is given (the manager said the file's
    times are the site's local times). Python's `fromisoformat` alone is not enough: it accepts
    any separator (`2026-03-30X21:25:39Z`), week dates and other forms no format here allows, so
    the shape is vetted by `RFC3339` first and the C parser only does the arithmetic (this runs
    once per imported row).
    """
    value = text.strip() if isinstance(text, str) else ("" if text is None else str(text).strip())
    match = RFC3339.match(value)
    if match is not None:
        parsed = _rfc3339(value, match.group("offset"), zone)
    elif epoch and EPOCH.match(value):
        parsed = _epoch(value)
    else:
        allowed = "an RFC 3339 date-time" + (" or epoch seconds/milliseconds" if epoch else "")
        raise TimeRefused(f"{value!r} is not {allowed} (e.g. 2026-03-28T22:00:00Z)")
    low, high = _window(now or timezone.now())
    if parsed > high:
        raise TimeRefused(f"{value!r} is more than a day in the future")
    if parsed < low:
        raise TimeRefused(f"{value!r} is more than ten years ago (a reset clock or a typo?)")
    return parsed


@lru_cache(maxsize=8)
def _window(now: datetime) -> tuple[datetime, datetime]:
    return now - PLAUSIBLE_PAST, now + PLAUSIBLE_FUTURE


def _epoch(value: str) -> datetime:
    number = float(value)
    seconds = number / 1000 if number >= EPOCH_MS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise TimeRefused(f"{value!r} is not a plausible epoch time") from None


def _rfc3339(value: str, offset: str | None, zone: tzinfo | None) -> datetime:
    if (
        offset is not None
        and len(offset) == 6
        and (int(offset[1:3]) * 60 + int(offset[4:6]) > MAX_OFFSET_MINUTES or int(offset[4:6]) > 59)
    ):
        raise TimeRefused(
            f"{value!r} has an impossible offset {offset} (clocks use -12:00 to +14:00)"
        )
    try:
        # Lower-case `t`/`z` are RFC 3339 but not Python's.
        parsed = datetime.fromisoformat(
            value.upper() if value[10] == "t" or offset == "z" else value
        )
    except ValueError as error:
        raise TimeRefused(f"{value!r} is not a valid date and time ({error})") from None
    if offset is None:
        if zone is None:
            raise TimeRefused(
                f"{value!r} has no offset or Z (to read such times in the site's time zone, "
                "say so when importing: --site-time, or the upload page's checkbox)"
            )
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed if offset in ("Z", "z") else parsed.astimezone(UTC)
    except OverflowError:
        # Year 1 east of UTC, or 9999 west of it: before or after any calendar date.
        raise TimeRefused(f"{value!r} is outside the plausible window (a typo?)") from None


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
    # Gallagher names its types and groups by id; the mapping prefers those ids to the names.
    vendor_type_id: str = ""
    vendor_group: str = ""
    vendor_group_id: str = ""
    # What the source calls itself (a workstation, a controller), for the skipped summary.
    source_name: str = ""
    # Epoch seconds/milliseconds are allowed (generic CSV, API batch, Verkada).
    epoch: bool = False
    columns: dict = field(default_factory=dict)

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def read_generic_csv(stream: Iterable[str]) -> Iterator[Incoming]:
    """The facility_log generic CSV (header required, columns in any order, BOM tolerated).

    Read as `csv.DictReader` reads it (blank lines skipped, missing cells empty, extra cells
    and unknown columns ignored, of a repeated column the last), but by position: a dict per
    row and a conversion per cell cost more than the rest of checking a row."""
    reader = csv.reader(stream)
    first = next(reader, None)
    header = [(name or "").lstrip("\ufeff").strip() for name in (first or [])]
    if not header:
        raise FormatError("The file is empty: a header row is required.")
    missing = [name for name in GENERIC_REQUIRED if name not in header]
    if missing:
        raise FormatError(f"Missing required column(s): {', '.join(missing)}.", 1, missing[0])
    at = {name: index for index, name in enumerate(header)}
    positions = [at.get(name) for name in GENERIC_COLUMNS]
    for cells in reader:
        if not cells:
            continue
        width = len(cells)
        (source, external_id, occurred_at, door, event_type, reason, credential, cardholder,
         direction) = (
            cells[i].strip() if i is not None and i < width else "" for i in positions
        )  # fmt: skip
        yield Incoming(
            line=reader.line_num,
            source=source,
            external_id=external_id,
            occurred_at=occurred_at,
            door=door,
            event_type=event_type,
            reason=reason,
            credential=credential,
            cardholder=cardholder,
            direction=direction,
            epoch=True,
        )


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


def unifi_incoming(body, number: int, signed_at: str) -> Incoming:
    """One UniFi Access webhook body (`access.door.unlock` and the others). The body carries no
    time of its own: the signed `t` of its `Signature` header is when UniFi sent it."""
    if not isinstance(body, dict):
        raise FormatError(f"Item {number} is not a JSON object.", number)
    result = _nested(body, "data.object.result")
    return Incoming(
        line=number,
        source="unifi",
        external_id=_text(body.get("event_object_id")),
        occurred_at=signed_at,
        door=_nested(body, "data.location.id"),
        vendor=SourceFormat.UNIFI,
        vendor_type=_text(body.get("event")),
        # UniFi reports the outcome as text: "Access Granted" / "Access Denied".
        failed="denied" in result.lower(),
        cardholder=_nested(body, "data.actor.name"),
        credential=_nested(body, "data.object.authentication_value"),
        source_name=_nested(body, "data.location.name"),
        epoch=True,
        columns=UNIFI_COLUMNS,
    )


VERKADA_DIRECTIONS = {"inbound": "in", "outbound": "out"}


def verkada_incoming(body, number: int) -> Incoming:
    """One Verkada access-control notification (`webhook_type` "notification", the event in
    `data`, its time in epoch seconds `data.created`)."""
    if not isinstance(body, dict):
        raise FormatError(f"Item {number} is not a JSON object.", number)
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    created = data.get("created", data.get("created_at"))
    return Incoming(
        line=number,
        source="verkada",
        external_id=_text(data.get("event_id")),
        occurred_at=_text(created),
        door=_text(data.get("door_id")),
        vendor=SourceFormat.VERKADA,
        vendor_type=_text(data.get("notification_type")),
        cardholder=_nested(data, "user_info.name"),
        credential=_text(data.get("input_value")),
        direction=VERKADA_DIRECTIONS.get(_text(data.get("direction")).lower(), ""),
        source_name=_nested(data, "door_info.name") or _text(data.get("device_type")),
        epoch=True,
        columns=VERKADA_COLUMNS,
    )


READERS = {
    "generic-csv": read_generic_csv,
    "kisi-json": read_kisi_json,
    "gallagher-json": read_gallagher_json,
}
# How much of a file `guess_file_format` reads: enough to pass a byte-order mark and blank lines.
GUESS_BYTES = 4096


def guess_file_format(head: bytes, file_name: str = "") -> str:
    """The READERS format a file most likely is, from its first bytes (and its name when the
    bytes say nothing): a JSON array is Kisi's webhook bodies, a JSON object Gallagher's events
    page, anything else the generic CSV. The reader still checks the whole file."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "kisi-json"
    if text.startswith("{"):
        return "gallagher-json"
    if not text and file_name.lower().endswith(".json"):
        return "kisi-json"
    return "generic-csv"


FORMAT_SOURCE = {
    "generic-csv": SourceFormat.GENERIC,
    "kisi-json": SourceFormat.KISI,
    "gallagher-json": SourceFormat.GALLAGHER,
}
