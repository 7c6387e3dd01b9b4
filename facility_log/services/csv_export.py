"""Every CSV the application writes goes through here, so each one opens the same way in a
spreadsheet: the incident list, the access-event export, the rounds compliance report.

What a spreadsheet does to a plain CSV, and what this module does about it:

* Without a byte-order mark, Excel reads the file as the machine's ANSI code page and
  "José Müller-Straße" turns to mojibake: every file starts with a UTF-8 BOM.
* A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
  (CSV injection): such a text cell is written with a leading `'`.
* A text cell that looks like a number ("07", a credential hint) loses its leading zeros:
  it gets the same leading `'`, and every text cell is quoted.
* A cell that itself starts with `'` gets one more, so the rule is exact and reversible:
  **a text cell starting with `'` holds the value without that first character.**
* Times are written twice: `<name>_utc` (RFC 3339, `Z`) and `<name>_local` in the site's
  time zone with its offset, since a reader of a site's log thinks in the site's time.

Numbers (counts, percentages) are written unquoted, as numbers.
"""

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse

BOM = "\ufeff"
# OWASP's list of the characters that make a spreadsheet cell a formula or a command.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
# What Excel, LibreOffice and Google Sheets read as a number: "07", "1234567890123456789",
# "3.50", "1,5", "1e5".
LOOKS_NUMERIC = re.compile(r"\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?")
TEXT, NUMBER, TIME = "text", "number", "time"


def text_cell(value) -> str:
    """A text value made safe for a spreadsheet (see the module's docstring)."""
    text = "" if value is None else str(value)
    if text.startswith((*FORMULA_STARTS, ESCAPE)) or LOOKS_NUMERIC.fullmatch(text):
        return ESCAPE + text
    return text


def utc_cell(moment: datetime | None) -> str:
    """RFC 3339 in UTC with `Z` (empty for no time)."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_cell(moment: datetime | None, tz: ZoneInfo) -> str:
    """The site's wall-clock time with its offset, e.g. `2026-03-28 23:00:00 +01:00`."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


@dataclass(frozen=True)
class Column:
    """One column of an export: `get(row)` reads the value; `kind` says how it is written.
    A TIME column becomes two: `<name>_utc` and `<name>_local` (in `zone(row)`'s zone)."""

    name: str
    get: Callable[[object], object]
    kind: str = TEXT

    def header(self) -> list[str]:
        return [f"{self.name}_utc", f"{self.name}_local"] if self.kind == TIME else [self.name]


def _cells(columns: list[Column], row, tz: ZoneInfo) -> list:
    cells: list = []
    for column in columns:
        value = column.get(row)
        if column.kind == TIME:
            cells += [utc_cell(value), local_cell(value, tz)]
        elif column.kind == NUMBER:
            # A float or int stays unquoted; a missing number is an empty (quoted) cell.
            cells.append("" if value is None else value)
        else:
            cells.append(text_cell(value))
    return cells


class _Echo:
    def write(self, value):
        return value


def csv_lines(
    columns: list[Column], rows: Iterable, zone: Callable[[object], ZoneInfo]
) -> Iterator[str]:
    """The export line by line (streamable): the BOM with the header, then one line per row.
    `zone(row)` gives the time zone of the row's site, for the `_local` time columns."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield BOM + writer.writerow([name for column in columns for name in column.header()])
    for row in rows:
        yield writer.writerow(_cells(columns, row, zone(row)))


def csv_text(columns: list[Column], rows: Iterable, zone: Callable[[object], ZoneInfo]) -> str:
    """The whole export as one string (for small reports)."""
    return "".join(csv_lines(columns, rows, zone))


def csv_response(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    """A download of `lines` (from `csv_lines`), sent as it is written: memory stays flat
    however many rows. Not cached: exports carry personal data."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
