"""A cursor page of a list (the API's, the pages') in one statement compiled once per process.

The long lists (incidents, access events) page by cursor over several sites
(facility_log/paging.py): one ordered, limited read per site merged by `UNION ALL`, then the
page's rows by id. Through the ORM that is two statements built and compiled anew on every
request, and compiling a union of one part per site costs more Python time than the
database takes to answer it. Here the page is read by one statement: each site's part reads
the columns the serializer sends (api/rows.py), at most `size + 1` rows, and the union is
ordered and cut as paging.py cuts it; so the same rows come back, in the same order, as
`paging.keyset_page` gives. That statement is compiled once per shape (how many sites, page
size, direction, which filters) by services/precompiled.py, with sentinels in the places of
the site ids, the cursor's position and the filter values, and then run with the request's.

The site ids are the caller's, from scoping.site_id_list, put in the statement through
`scoping.scoped_to_ids` when it is compiled; the statement knows no user. Only PostgreSQL
(SQLite cannot order and limit inside a union: paging.py reads it the plain way there), up
to `MAX_SITES` sites (more go the ORM way), and the `MAX_SHAPES` shapes per list most recently
used kept compiled.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connections
from django.db.models import CharField, QuerySet

from facility_log import paging
from facility_log.services.precompiled import CompiledShapes, Slot
from facility_log.services.prepared import PreparedQuery

MAX_SITES = 16
# Shapes kept compiled per list (sizes 1–500, three directions, filters): beyond that the
# least recently used is forgotten rather than growing the cache without bound.
MAX_SHAPES = 64

# Values no real one equals, where the compiled SQL takes the real ones (within 32 bits:
# Django compiles an out-of-range integer to no query).
_SITE_SENTINEL = -(2**31) + 7_000
_PK_SENTINEL = -(2**31) + 6_000
_TIME_SENTINEL = datetime(1901, 3, 4, 5, 6, 7, 891_011, tzinfo=UTC)
_TEXT_SENTINEL = "\x1fsentinel search text\x1f"


class ContainsSlot(Slot):
    """A slot for the value of an `icontains` lookup: the parameter is the value with the
    LIKE wildcards escaped, between `%`s, as the lookup prepares it."""

    def prepared(self, value, connection):
        if value is None:
            raise ValueError("a precompiled query's slot cannot take None")
        return f"%{connection.ops.prep_for_like_query(value)}%"


@dataclass(frozen=True)
class Shape:
    """What a page's statement depends on besides the values in its slots."""

    filters: tuple  # the names of the filters the base applies (values go in slots)
    sites: int
    size: int  # rows read: the page's size + 1
    direction: str | None  # None: the first page; else paging.OLDER or paging.NEWER
    columns: tuple


class KeysetStatements:
    """The precompiled page reads of one list. `base(filters, site_ids, **values)` returns
    the list's queryset for those sites, filtered by the named `filters` with `values`
    (sentinels when compiling); it must be scoped with `scoping.scoped_to_ids(..., site_ids)`
    and depend on nothing else."""

    def __init__(
        self,
        model,
        time_field: str,
        base,
        filter_slots: dict[str, Slot] | None = None,
        *,
        ascending: bool = False,
    ):
        # `ascending`: a queue read oldest first, paged as paging.keyset_page(ascending=True).
        self.time_field, self.base, self.ascending = time_field, base, ascending
        site = model._meta.get_field("site")
        slots = {f"site{n}": Slot(_SITE_SENTINEL + n, site) for n in range(MAX_SITES)}
        slots["time"] = Slot(_TIME_SENTINEL, model._meta.get_field(time_field))
        slots["pk"] = Slot(_PK_SENTINEL, model._meta.pk)
        slots.update(filter_slots or {})
        self.query = PreparedQuery(self._build, slots, strict=True)
        self.shapes = CompiledShapes()

    def _build(self, shape: Shape, **sentinels) -> QuerySet:
        ids = [sentinels[f"site{n}"] for n in range(shape.sites)]
        queryset = self.base(
            shape.filters, ids, **{name: sentinels[name] for name in shape.filters}
        )
        # As paging.keyset_page: a descending list goes down in time to its next page.
        downwards = (shape.direction == paging.NEWER) == self.ascending
        if shape.direction is not None:
            position = paging.Position(shape.direction, sentinels["time"], sentinels["pk"])
            # paging.py's own narrowing, so that a page starts where the ORM's would.
            queryset = paging._after(queryset, self.time_field, position, downwards)
        t = self.time_field
        order = (f"-{t}", "-id") if downwards else (t, "id")
        rows = queryset.order_by(*order).values_list(*shape.columns)
        if shape.sites == 1:
            return rows[: shape.size]
        parts = [rows.filter(site_id=site_id)[: shape.size] for site_id in ids]
        return parts[0].union(*parts[1:], all=True).order_by(*order)[: shape.size]

    def usable(self, using: str, site_ids: list) -> bool:
        connection = connections[using]
        return (
            connection.vendor == "postgresql"
            and connection.features.supports_slicing_ordering_in_compound
            and 1 <= len(site_ids) <= MAX_SITES
        )

    def page(self, using, site_ids, columns, *, cursor, size, filters: dict):
        """The page as paging.keyset_page gives it (rows: tuples in `columns` order), or None
        when this shape is not compiled and no more may be. Raises paging.BadCursor."""
        found = self.page_statement(
            using, site_ids, columns, cursor=cursor, size=size, filters=filters
        )
        if found is None:
            return None
        compiler = found[0]
        return self.page_of(
            using, site_ids, columns, compiler, list(compiler.results_iter()),
            cursor=cursor, size=size, filters=filters,
        )  # fmt: skip

    def page_statement(self, using, site_ids, columns, *, cursor, size, filters: dict):
        """(compiler, SQL, parameters) of the page's read, for a caller that sends it with
        other reads in one round trip (services/read_together.py) and makes the page of its
        rows with `page_of`; None when this shape is not compiled and no more may be. Raises
        paging.BadCursor."""
        position = paging.decode(cursor) if cursor else None
        return self._statement(using, site_ids, tuple(columns), position, size + 1, filters)

    def page_of(self, using, site_ids, columns, compiler, rows, *, cursor, size, filters):
        """The page `page` gives, of `rows` read by `page_statement`'s compiler (as its
        `results_iter` gives them, converted). Going back to the first page reads it."""
        position = paging.decode(cursor) if cursor else None
        back = position is not None and position.direction == paging.NEWER
        more = len(rows) > size
        rows = rows[:size]
        if back and not more:
            # As paging.py: nothing beyond these towards the start, so the first page.
            return self.page(using, site_ids, columns, cursor=None, size=size, filters=filters)
        if back:
            rows.reverse()
        t, i = columns.index(self.time_field), columns.index("id")
        following = preceding = None
        if rows:
            first, last = rows[0], rows[-1]
            if more or back:
                following = paging.encode(paging.OLDER, last[t], last[i])
            if position is not None and (more or not back):
                preceding = paging.encode(paging.NEWER, first[t], first[i])
        return paging.KeysetPage(rows, following, preceding, is_first=preceding is None)

    def _statement(self, using, site_ids, columns, position, size, filters):
        shape = Shape(
            tuple(sorted(filters)),
            len(site_ids),
            size,
            None if position is None else position.direction,
            columns,
        )
        if not self.shapes.admit(shape, MAX_SHAPES, self.query):
            return None
        values = {f"site{n}": site_id for n, site_id in enumerate(site_ids)}
        values.update(filters)
        if position is not None:
            values.update(time=position.time, pk=position.pk)
        return self.query.statement(shape, using=using, **values)


def text_slot(name: str = "text") -> dict[str, Slot]:
    """The slot of an `icontains` text filter."""
    return {name: ContainsSlot(_TEXT_SENTINEL, CharField())}
