"""The view log's pages read by statements compiled once per shape.

`view_log.search_view_log` builds and compiles its page's query on every request: the
auditor's sites, up to four filters, the keyset's bound, the order and the columns shown.
Here the same query is compiled once per shape (how many sites, which of the filters site,
user, record and route, which direction, the page's size and columns; services/precompiled
.py) with sentinels in the places of the values, and run with the request's: the same
statement the ORM writes, so the same rows in the same order. A day range (one condition per
time zone) and more than MAX_SITES sites or MAX_SHAPES shapes go the ORM's way.

The site ids are the auditor's sites as scoping gave them (scoping.sites_for, or
services/list_sites.py's statement over scoping.member_site_ids), put in the statement
through `scoping.scoped_to_ids`; nothing here knows the user.
"""

from django.db import router
from django.db.models import CharField

from facility_log.models import RecordView
from facility_log.scoping import scoped_to_ids
from facility_log.services.keyset_rows import ContainsSlot
from facility_log.services.precompiled import CompiledShapes, Slot
from facility_log.services.prepared import PreparedQuery

MAX_SITES = 16
MAX_SHAPES = 64
FILTERS = ("site", "user", "record", "via")

_FIELD = RecordView._meta.get_field
# Within 32 bits and negative where an id goes (Django compiles an out-of-range integer to no
# query); text no real value equals; distinct from every other precompiled statement's.
_SLOTS = {f"site{n}": Slot(-(2**31) + 13_000 + n, _FIELD("site")) for n in range(MAX_SITES)}
_SLOTS.update(
    site=Slot(-(2**31) + 13_500, _FIELD("site")),
    pk=Slot(-(2**31) + 13_600, RecordView._meta.pk),
    user=ContainsSlot("\x1fsentinel view log user\x1f", CharField()),
    record=ContainsSlot("\x1fsentinel view log record\x1f", CharField()),
    via=Slot("\x1fsentinel view log via\x1f", _FIELD("via")),
)


def _build(key, **sentinels):
    """The page's query as search_view_log builds it, for a shape `key`."""
    sites, filters, direction, size, columns = key
    rows = scoped_to_ids(RecordView.objects.all(), [sentinels[f"site{n}"] for n in range(sites)])
    if "site" in filters:
        rows = rows.filter(site=sentinels["site"])
    if "user" in filters:
        rows = rows.filter(viewer_name__icontains=sentinels["user"])
    if "record" in filters:
        rows = rows.filter(object_label__icontains=sentinels["record"])
    if "via" in filters:
        rows = rows.filter(via=sentinels["via"])
    rows = rows.values_list(*columns)
    if direction == "after":
        return rows.filter(pk__gt=sentinels["pk"]).order_by("pk")[:size]
    if direction == "before":
        rows = rows.filter(pk__lt=sentinels["pk"])
    return rows.order_by("-pk")[:size]


_PAGES = PreparedQuery(_build, _SLOTS, strict=True)
_shapes = CompiledShapes()


def page_rows(site_ids: list, values: dict, direction, bound, size: int, columns: tuple):
    """The rows (tuples of `columns`) of one read of search_view_log: the `size` newest rows
    of `site_ids` matching `values` (filter name to value, of FILTERS), below `bound` when
    `direction` is "before", the `size` oldest above it when "after" (oldest first). None
    where this read does not apply: the caller reads through the ORM."""
    key = (len(site_ids), tuple(sorted(values)), direction, size, columns)
    if not 1 <= len(site_ids) <= MAX_SITES or not set(values) <= set(FILTERS):
        return None
    if not _shapes.admit(key, MAX_SHAPES, _PAGES):
        return None
    slots = {f"site{n}": site_id for n, site_id in enumerate(site_ids)}
    slots.update(values)
    if direction is not None:
        slots["pk"] = bound
    compiler, _sql, _params = _PAGES.statement(key, using=router.db_for_read(RecordView), **slots)
    return list(compiler.results_iter(tuple_expected=True))
