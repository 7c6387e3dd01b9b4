"""Keyset (cursor) paging for the long lists: access events, scans, the view log.

A page is "the `size` rows after this position" in the order `(time DESC, id DESC)`, where a
position is one row's `(time, id)`; the id breaks ties between rows of the same time. Every
page costs the same however deep it is and however many rows the list holds (no OFFSET, no
COUNT), and a page does not shift when rows are inserted while someone reads: new rows land
before page one, never between two pages.

A cursor is opaque to clients: `older` pages go down from a position, `newer` pages go up to
it (read in ascending order, shown newest first). A queue read oldest first (`ascending`) is
paged the same way with the directions swapped.

Lists over several sites are read as one `UNION ALL` of one ordered, limited read per site
(`split`), so each part walks its own `(site, time, id)` index range and the database merges
at most `size + 1` rows from each; a plain `site_id IN (...) ORDER BY time` would sort every
row of those sites. Where the database cannot order and limit inside a union (SQLite), the
plain query is used: SQLite installations are the small ones.

Used by the pages (views/) and by the API's pagination class (api/pagination.py); knows no
model, no scoping and no HTTP.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.db import connections
from django.db.models import Q, QuerySet

OLDER, NEWER = "o", "n"


class BadCursor(ValueError):
    """The cursor was not made by this module (edited, truncated, from another list)."""


@dataclass(frozen=True)
class Position:
    direction: str  # OLDER: rows after this one, going back in time; NEWER: before it
    time: datetime
    pk: int


@dataclass
class KeysetPage:
    """The rows of one page, newest first, and the cursors of its neighbours (None when
    there is nothing that way). `is_first` is true on the newest page."""

    rows: list
    older: str | None
    newer: str | None
    is_first: bool


def encode(direction: str, time: datetime, pk: int) -> str:
    raw = f"{direction}|{time.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, time, pk = base64.urlsafe_b64decode(padded).decode().split("|")
        position = Position(direction, datetime.fromisoformat(time), int(pk))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("This cursor is not valid; start again from the first page.") from None
    if (
        direction not in (OLDER, NEWER)
        or position.time.tzinfo is None
        or not 0 <= position.pk < 2**63
    ):
        raise BadCursor("This cursor is not valid; start again from the first page.")
    return position


def _after(queryset: QuerySet, time_field: str, position: Position, downwards: bool) -> QuerySet:
    """Rows strictly beyond `position`, below it (`downwards`) or above it. The `<=`/`>=` on
    time alone is what the index range is found by; the OR only sorts out the rows of exactly
    that time."""
    t, pk = position.time, position.pk
    if downwards:
        return queryset.filter(
            Q(**{f"{time_field}__lte": t}), Q(**{f"{time_field}__lt": t}) | Q(pk__lt=pk)
        )
    return queryset.filter(
        Q(**{f"{time_field}__gte": t}), Q(**{f"{time_field}__gt": t}) | Q(pk__gt=pk)
    )


def keyset_page(
    queryset: QuerySet,
    time_field: str,
    *,
    cursor: str | None = None,
    size: int = 50,
    split_field: str | None = None,
    split_values: list | None = None,
    ascending: bool = False,
) -> KeysetPage:
    """One page of `queryset` (already scoped and filtered) in `(time_field DESC, id DESC)`,
    or `(time_field, id)` with `ascending` (a queue, oldest first: there `older` is the cursor
    of the page that follows, `newer` of the one before, as in the descending lists).

    `split_field`/`split_values` (e.g. "site_id" and the user's site ids): read each value's
    rows apart and merge them (see the module's docstring). The values must cover every row
    of `queryset`, i.e. be the same list the queryset is scoped to. A queryset read with
    `values(...)` (the time field and "id" among them) gives its rows as dicts, without
    building a model instance per row. Raises BadCursor."""
    position = decode(cursor) if cursor else None
    back = position is not None and position.direction == NEWER  # towards the first page
    downwards = back == ascending  # descending lists go down in time to their next page
    order = (f"-{time_field}", "-id") if downwards else (time_field, "id")
    narrowed = _after(queryset, time_field, position, downwards) if position else queryset
    rows = _read(narrowed, order, size + 1, time_field, split_field, split_values)
    more = len(rows) > size
    rows = rows[:size]
    if back and not more:
        # Nothing beyond these towards the start: this is the first page, read as such so
        # that it is full.
        return keyset_page(
            queryset,
            time_field,
            size=size,
            split_field=split_field,
            split_values=split_values,
            ascending=ascending,
        )
    if back:
        rows.reverse()
    following = preceding = None
    if rows:
        first, last = rows[0], rows[-1]
        if more or back:
            following = encode(OLDER, *_key(last, time_field))
        if position is not None and (more or not back):
            preceding = encode(NEWER, *_key(first, time_field))
    return KeysetPage(rows, following, preceding, is_first=preceding is None)


def _key(row, time_field: str) -> tuple:
    """A row's `(time, id)`: rows are model instances, dicts when the queryset was read with
    `values(...)` (which must then name the time field and "id"), or named rows of
    `values_list(..., named=True)` (the API's lists read rows so, api/rows.py)."""
    if isinstance(row, dict):
        return row[time_field], row["id"]
    if isinstance(row, tuple):
        return getattr(row, time_field), row.id
    return getattr(row, time_field), row.pk


def _read(queryset, order, limit, time_field, split_field, split_values) -> list:
    if queryset.query.is_empty():
        # `none()` (a filter that cannot match): a union of empty parts cannot be ordered.
        return []
    features = connections[queryset.db].features
    if (
        split_field is None
        or not split_values
        or len(split_values) == 1
        or not features.supports_slicing_ordering_in_compound
    ):
        return list(queryset.order_by(*order)[:limit])
    keys = queryset.order_by(*order).values_list(time_field, "id")
    parts = [keys.filter(**{split_field: value})[:limit] for value in split_values]
    merged = parts[0].union(*parts[1:], all=True).order_by(*order)[:limit]
    ids = [pk for _time, pk in merged]
    by_id = {_key(row, time_field)[1]: row for row in queryset.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]
