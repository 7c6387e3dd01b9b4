"""Incident lists: the filtered list in keyset pages, its CSV export, and the review queue."""

from datetime import UTC, datetime

from django.contrib import messages
from django.db import router
from django.shortcuts import render

from facility_log import paging
from facility_log.forms import incidents as forms
from facility_log.models import Category, Incident
from facility_log.scoping import (
    REVIEW_ROLES,
    VIEW_ROLES,
    memberships_known,
    scoped_to_ids,
    site_id_list,
    sites_for,
)
from facility_log.services import incidents as svc
from facility_log.services import read_together, view_log
from facility_log.services.csv_export import TIME, Column, csv_lines, csv_response
from facility_log.services.incidents.search import filter_values, filtered_incidents
from facility_log.services.keyset_rows import KeysetStatements, text_slot
from facility_log.services.list_sites import sites_in_order, sites_statement
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery
from facility_log.templatetags.facility_log_tags import INCIDENT_ROW_FIELDS, QUEUE_ROW_FIELDS
from facility_log.views.incident_filters import filter_fields

PAGE_SIZE = 50


# --- pages read by statements compiled once (services/keyset_rows.py) ---------------------
# The site ids are the user's from scoping.site_id_list (services/list_sites.py); the filters
# are services/incidents/search.py's, applied by the same function as on the ORM path, with
# sentinels in their values' places (distinct from keyset_rows' own, within 32 bits).


def _listed(filters: tuple, site_ids: list, **values):
    """The incidents of `site_ids` narrowed by the named `filters` (search_incidents)."""
    incidents = scoped_to_ids(Incident.objects.all(), site_ids)
    return filtered_incidents(incidents, {name: values[name] for name in filters})


def _waiting(filters: tuple, site_ids: list):
    """The review queue of `site_ids` (svc.review_queue with the sites as a literal list)."""
    return svc.review_queue(None, site_ids)


_FIELD = Incident._meta.get_field
_LIST_PAGES = KeysetStatements(
    Incident,
    "occurred_from",
    _listed,
    {
        "status": Slot("\x1fsentinel status\x1f", _FIELD("status")),
        "severity": Slot("\x1fsentinel severity\x1f", _FIELD("severity")),
        "category": Slot(-(2**31) + 8_000, _FIELD("category")),
        "date_from": Slot(
            datetime(1901, 5, 6, 7, 8, 9, 101_112, tzinfo=UTC), _FIELD("occurred_from")
        ),
        "date_to": Slot(
            datetime(1901, 6, 7, 8, 9, 10, 111_213, tzinfo=UTC), _FIELD("occurred_from")
        ),
        **text_slot(),
    },
)
_QUEUE_PAGES = KeysetStatements(Incident, "submitted_at", _waiting, ascending=True)


def _compiled_page(statements, site_ids, columns, cursor, filters) -> paging.KeysetPage | None:
    """The page (rows as dicts of `columns`) by the list's compiled statement, or None where
    it cannot be read so (SQLite, too many sites or shapes): then the ORM's. Raises
    paging.BadCursor."""
    using = router.db_for_read(Incident)
    if not site_ids or not statements.usable(using, site_ids):
        return None
    page = statements.page(
        using, site_ids, list(columns), cursor=cursor, size=PAGE_SIZE, filters=filters
    )
    if page is not None:
        page.rows = [dict(zip(columns, row, strict=True)) for row in page.rows]
    return page


# --- lists --------------------------------------------------------------------------------


def _filtered(request, sites=None):
    """(form, filtered incidents, the user's sites as a list); `sites` when read already."""
    if sites is None:
        sites = list(sites_for(request.user, VIEW_ROLES))
    form = forms.FilterForm(request.GET or None, sites=sites)
    if form.is_bound and not form.is_valid():
        # A filter the user may not use (another site) or cannot parse matches nothing.
        return form, Incident.objects.none(), sites
    return form, svc.search_incidents(request.user, form.filters()), sites


def incident_list(request):
    """Incidents of the user's sites with filters, newest first, 50 a page in keyset pages
    (Newer/Older, `?cursor=`): each page reads its sites' `(site, time, id)` index ranges and
    nothing counts the whole list (facility_log/paging.py). On PostgreSQL the sites, the
    categories and the page are read by statements compiled once per shape
    (services/keyset_rows.py), in one round trip when the user's memberships were read with
    the session and no site is chosen (the page's sites are then known before the sites
    are read); the ORM reads the same rows elsewhere. The filter form is written once per
    everything it shows (views/incident_filters.py)."""
    user, using = request.user, router.db_for_read(Incident)
    reads = {"categories": _CATEGORIES.statement(None, using=using)}
    sites_read = sites_statement(user, VIEW_ROLES, using)
    if sites_read is not None:
        reads["sites"] = sites_read
    form = page = None
    site_ids: list = []
    cursor = request.GET.get("cursor") or None
    if sites_read is not None and memberships_known(user) and not request.GET.get("site"):
        # The page's sites are the memberships' (site_id_list, read already), and no filter
        # depends on the sites (a chosen site is checked against them): the form is checked
        # before they are read, offered them once read, and the page goes with them.
        site_ids = site_id_list(user, VIEW_ROLES)
        form = forms.FilterForm(request.GET or None, sites=())
        read = _page_reader(request, form, site_ids, ())
        try:
            found = read.statement(cursor)
        except paging.BadCursor as error:
            messages.warning(request, str(error))
            cursor = None
            found = read.statement(None)
        if found is not None:
            reads["page"] = found
    fetched, _none = read_together.fetch(reads, using)
    categories = PrecompiledQuery.instances_of(reads["categories"][0], fetched["categories"], using)
    if sites_read is None:
        sites = list(sites_for(user, VIEW_ROLES))
    else:
        sites = PrecompiledQuery.instances_of(sites_read[0], fetched["sites"], using)
    if form is None:
        form = forms.FilterForm(request.GET or None, sites=sites, categories=categories)
        # The sites the form offers are the user's viewing sites: their ids are the keyset's
        # parts (site_id_list's list, without reading the memberships a second time).
        site_ids = sorted(site.pk for site in sites)
        read = _page_reader(request, form, site_ids, sites)
    else:
        # Only sites of the page's (the memberships read with the session and those read
        # now differ only if one changed in between).
        shown = set(site_ids)
        form.offer([site for site in sites if site.pk in shown], categories)
    if "page" in reads:
        page = read.page_of(reads["page"][0], fetched["page"])
    else:
        try:
            page = read(cursor)
        except paging.BadCursor as error:
            messages.warning(request, str(error))
            page = read(None)
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page", None)
    context = {"form": form, "filter_fields": filter_fields(form), "page": page}
    return render(
        request, "facility_log/incidents/list.html", {**context, "query": query.urlencode()}
    )


# The categories the filter form lists (as its field's queryset lists them), compiled once.
_CATEGORIES = PreparedQuery(lambda key: Category.objects.all(), {})


class _page_reader:  # noqa: N801 - called as the function it replaces
    """The incident list's page of the sites `site_ids` as the valid `form`'s filters narrow
    it (nothing when it is bound and invalid): `statement(cursor)` for the compiled read sent
    with others and `page_of` its rows, or called with a cursor to read it alone."""

    def __init__(self, request, form, site_ids, sites):
        self.request, self.form = request, form
        self.valid = not form.is_bound or form.is_valid()
        chosen = form.cleaned_data.get("site") if form.is_bound and self.valid else None
        if chosen:
            site_ids = [site.pk for site in sites if site.code == chosen]
        self.site_ids = site_ids
        self.filters = filter_values(form.filters()) if form.is_bound and self.valid else {}
        self.cursor = None

    def statement(self, cursor):
        """The compiled read's statement, or None where the ORM reads the page."""
        self.cursor = cursor
        using = router.db_for_read(Incident)
        if not self.valid or not self.site_ids or not _LIST_PAGES.usable(using, self.site_ids):
            return None
        return _LIST_PAGES.page_statement(
            using, self.site_ids, INCIDENT_ROW_FIELDS, cursor=cursor, size=PAGE_SIZE,
            filters=self.filters,
        )  # fmt: skip

    def page_of(self, compiler, rows):
        """The page of `rows`, read by `statement`'s SQL."""
        page = _LIST_PAGES.page_of(
            router.db_for_read(Incident), self.site_ids, INCIDENT_ROW_FIELDS, compiler,
            list(compiler.results_iter([rows])), cursor=self.cursor, size=PAGE_SIZE,
            filters=self.filters,
        )  # fmt: skip
        page.rows = [dict(zip(INCIDENT_ROW_FIELDS, row, strict=True)) for row in page.rows]
        return page

    def __call__(self, cursor):
        page = None
        if self.valid:
            page = _compiled_page(
                _LIST_PAGES, self.site_ids, INCIDENT_ROW_FIELDS, cursor, self.filters
            )
        if page is None:  # the ORM's read, its queryset built only when it is the one used
            # A filter the user may not use (another site) or cannot parse matches nothing.
            found = (
                svc.search_incidents(self.request.user, self.form.filters()) if self.valid else None
            )
            incidents = Incident.objects.none() if found is None else found
            # Only the columns a row shows, read as dicts (templatetags `incident_rows`).
            rows = incidents.values(*INCIDENT_ROW_FIELDS)
            keyset = {"size": PAGE_SIZE, "split_field": "site_id", "split_values": self.site_ids}
            page = paging.keyset_page(rows, "occurred_from", cursor=cursor, **keyset)
        return page


CSV_COLUMNS = [
    Column("number", lambda i: i.number or ""),
    Column("site", lambda i: i.site.code),
    Column("status", lambda i: i.status),
    Column("severity", lambda i: i.severity),
    Column("category", lambda i: i.category.name if i.category else ""),
    Column("occurred_from", lambda i: i.occurred_from, TIME),
    Column("occurred_to", lambda i: i.occurred_to, TIME),
    Column("zone", lambda i: i.zone.name if i.zone else ""),
    Column("location", lambda i: i.location_text),
    Column("title", lambda i: i.title),
    Column("narrative", lambda i: i.narrative),
    Column("author", lambda i: i.author.get_username()),
    Column("police_case_number", lambda i: i.police_case_number),
]


def incident_export(request):
    """The filtered list as CSV (same scoping and filters as the list page, spreadsheet-ready:
    services/csv_export.py), logged in the view log per site with its number of rows and the
    filters used before the first row is sent."""
    _form, incidents, _sites = _filtered(request)
    view_log.record_list_view(
        request.user,
        Incident,
        view_log.counts_by_site(incidents),
        what="CSV export",
        via=view_log.Via.CSV,
        query=view_log.filters_text(request.GET),
    )
    lines = csv_lines(CSV_COLUMNS, incidents.iterator(chunk_size=500), lambda i: i.site.tzinfo)
    return csv_response(lines, "incidents.csv")


def review_queue(request):
    """Submitted incidents waiting for review at the sites where the user reviews, oldest
    submission first, 50 a page in keyset pages (Earlier/Later, `?cursor=`): a large site has
    thousands waiting, and each page reads only its sites' `(site, submitted_at, id)` ranges.
    On PostgreSQL the sites and the page are read by statements compiled once per shape."""
    # The reviewing sites once (ordered by code), their ids the keyset's parts.
    sites = sites_in_order(request.user, REVIEW_ROLES)
    if sites is None:
        sites = list(sites_for(request.user, REVIEW_ROLES).order_by("code"))
    site_ids = sorted(site.pk for site in sites)
    incidents = svc.review_queue(request.user, site_ids).values(*QUEUE_ROW_FIELDS)
    keyset = {
        "size": PAGE_SIZE,
        "split_field": "site_id",
        "split_values": site_ids,
        "ascending": True,
    }

    def read(cursor):
        page = _compiled_page(_QUEUE_PAGES, site_ids, QUEUE_ROW_FIELDS, cursor, {})
        if page is None:
            page = paging.keyset_page(incidents, "submitted_at", cursor=cursor, **keyset)
        return page

    try:
        page = read(request.GET.get("cursor") or None)
    except paging.BadCursor as error:
        messages.warning(request, str(error))
        page = read(None)
    return render(
        request,
        "facility_log/incidents/review_queue.html",
        {"page": page, "sites": sites},
    )
