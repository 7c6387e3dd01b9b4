"""A `limit`/`offset` page of an API list (runs, shifts) by statements compiled once per
process.

DRF's LimitOffsetPagination counts the list and reads the page's slice: through the ORM both
statements are built and compiled anew on every request, which costs more Python time than
the database takes to answer them. Here the count and the slice are compiled once per shape
(how many sites; the slice's limit and offset, which SQL writes as literals) by
services/precompiled.py, with sentinels in the places of the site ids, and run with the
caller's: the same rows in the same order (the model's own ordering) as the ORM's. The count
and the slice go to the database together, one round trip on PostgreSQL
(services/read_together.py); the slice is then read even when the count says there is
nothing to read (it finds nothing then).

The site ids are the caller's, from scoping.site_id_list, put in the statements through
`scoping.scoped_to_ids` when they are compiled; the statements know no user. Up to
`MAX_SITES` sites (more go the ORM way), and the `MAX_SHAPES` slices per list most recently
used kept compiled; the statements are prepared once per connection (services/prepared.py).
"""

from django.db.models import BigIntegerField, F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from facility_log.api import json_texts
from facility_log.services import read_together
from facility_log.services.precompiled import CompiledShapes, Slot
from facility_log.services.prepared import PreparedQuery

MAX_SITES = 16
# Slices compiled per list at most: a client walking the pages asks for a new offset each
# time; beyond these the pages are read through the ORM rather than growing the cache.
MAX_SHAPES = 64

_SITE_SENTINEL = -(2**31) + 8_000


class OffsetStatements:
    """The precompiled count and slices of one list. `base(site_ids)` returns the list's
    queryset for those sites in its order; it must be scoped with
    `scoping.scoped_to_ids(..., site_ids)` and depend on nothing else. The JSON columns
    named in `raw_json` are read as their text and decoded by `json_texts.decoded` (once
    per distinct text; api/json_texts.py): the same values."""

    def __init__(self, model, base, *, raw_json: tuple[str, ...] = ()):
        self.base = base
        self.raw_json = frozenset(raw_json)
        site = model._meta.get_field("site")
        slots = {f"site{n}": Slot(_SITE_SENTINEL + n, site) for n in range(MAX_SITES)}
        self.count_query = PreparedQuery(self._count, slots, strict=True)
        self.slice_query = PreparedQuery(self._slice, slots, strict=True)
        self.shapes = CompiledShapes()

    def _listed(self, sites: int, sentinels: dict) -> QuerySet:
        return self.base([sentinels[f"site{n}"] for n in range(sites)])

    def _count(self, sites: int, **sentinels) -> QuerySet:
        # COUNT(id) as a plain function, so that the ORM adds no GROUP BY: one row, the
        # number `queryset.count()` gives (the id is never null).
        count = Func(F("pk"), function="COUNT", output_field=BigIntegerField())
        return self._listed(sites, sentinels).order_by().values_list(count)

    def _slice(self, shape: tuple, **sentinels) -> QuerySet:
        sites, offset, limit, columns = shape
        read = [Cast(c, TextField()) if c in self.raw_json else c for c in columns]
        return self._listed(sites, sentinels).values_list(*read)[offset : offset + limit]

    @staticmethod
    def usable(site_ids: list) -> bool:
        return 1 <= len(site_ids) <= MAX_SITES

    def ready(self, site_ids: list, columns, offset: int, limit: int) -> bool:
        """Whether this slice is compiled or may be (then it is counted as one)."""
        shape = (len(site_ids), offset, limit, tuple(columns))
        return self.shapes.admit(shape, MAX_SHAPES, self.slice_query)

    def counted_rows(self, using: str, site_ids: list, columns, offset: int, limit: int):
        """(the count, the slice's rows as tuples in `columns` order) of a shape `ready`
        accepted, both statements sent together."""
        shape = (len(site_ids), offset, limit, tuple(columns))
        values = {f"site{n}": site_id for n, site_id in enumerate(site_ids)}
        statements = {
            "count": self.count_query.statement(len(site_ids), using=using, **values),
            "rows": self.slice_query.statement(shape, using=using, **values),
        }
        fetched, _none = read_together.fetch(statements, using)
        count_compiler, rows_compiler = statements["count"][0], statements["rows"][0]
        count = next(iter(count_compiler.results_iter([fetched["count"]])))[0]
        rows = rows_compiler.results_iter([fetched["rows"]])
        raw = [n for n, column in enumerate(columns) if column in self.raw_json]
        if not raw:
            return count, list(rows)
        decoded = json_texts.decoded
        return count, [
            tuple(decoded(v) if n in raw else v for n, v in enumerate(row)) for row in rows
        ]

    def page(self, paginator, request, using: str, site_ids: list, columns) -> list | None:
        """The page's rows as `paginator` (api/pagination.py's Pagination) gives them, or
        None when this slice may not be compiled (then nothing is read)."""
        return paginator.paginate_counted(
            request,
            lambda offset, limit: self.ready(site_ids, columns, offset, limit),
            lambda offset, limit: self.counted_rows(using, site_ids, columns, offset, limit),
        )
