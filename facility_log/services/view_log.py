"""The view log: who read which personal data, when, and by which route.

Every route that returns a person, a statement or an attachment calls one of the functions
below — the pages, the API and the commands alike — after the reader has been found to hold
a role at the record's site (a refused read writes nothing). Each call writes one
`RecordView` per site (append-only, chained into the ledger like every other append-only
record): one insert and its ledger entry, nothing more, so reading stays cheap.

A read of one record names it (`object_type`, `object_pk`, label); a read of a list (a CSV
export, a cardholder search) names the kind of record, how many of the site's records it
returned (`row_count`) and the filters or query in its label.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from operator import attrgetter, itemgetter

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models
from django.db.models import Count, Q, QuerySet

from facility_log.models import Attachment, Incident, RecordView, Shift, Site
from facility_log.scoping import AUDIT_ROLES, scoped, sites_for
from facility_log.services import ledger, read_together, view_log_pages
from facility_log.services.audit import audited_change
from facility_log.services.ledger import object_type, provide_digest
from facility_log.services.ledger_held import StoredRowDiffers
from facility_log.services.ledger_one_trip import OneTripInsert, one_trip_insert
from facility_log.services.rounds_report import day_bounds

Via = RecordView.Via
LABEL_MAX = RecordView._meta.get_field("object_label").max_length
PAGE_SIZE = 50


def _clip(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def record_view(
    viewer: AbstractBaseUser,
    obj: models.Model,
    *,
    site: Site,
    label: str,
    via: str = Via.PAGE,
    pk: int | None = None,
) -> RecordView:
    """Note that `viewer` read `obj` (of `site`) through `via`.

    `pk`: an id the caller took from the view log's sequence (PostgreSQL), sent with another
    read: the row's INSERT then goes with its ledger entry in one round trip, in the same
    transaction, its stored values checked against the entry's digest before the commit
    (`ledger.hold_insert`, services/ledger_held.py)."""
    if pk is not None:
        try:
            return _record(viewer, obj, site, label, via, pk)
        except StoredRowDiffers:
            pass  # never expected: rolled back whole, then written the ordinary way
    return _record(viewer, obj, site, label, via, None)


def _record(viewer, obj, site: Site, label: str, via: str, pk: int | None) -> RecordView:
    with audited_change(viewer, f"read {_clip(label)} ({via})"):
        view = _row(viewer, obj, site, label, via, pk)
        if pk is not None and ledger.hold_insert(view, viewer):
            # Inserted with its entry when the block ends; nothing reads it before.
            view._state.adding, view._state.db = False, connection.alias
            return view
        view.save(force_insert=True)  # as RecordView.objects.create does
        return _digested(view)


def _row(viewer, obj, site: Site, label: str, via: str, pk: int | None) -> RecordView:
    """The view-log row of `viewer` reading `obj`, not saved."""
    return RecordView(
        pk=pk,
        site=site,
        object_type=object_type(type(obj)),
        object_pk=str(obj.pk),
        object_label=_clip(label),
        viewer=viewer,
        viewer_name=viewer.get_username(),
        via=via,
    )


def record_view_statements(
    viewer: AbstractBaseUser, obj: models.Model, *, site: Site, label: str, via: str, pk: int
) -> OneTripInsert | None:
    """The statements that write `record_view`'s row (id `pk`, taken from the view log's
    sequence) with its ledger entry at the end of the caller's request of reads, committed
    by it (services/ledger_one_trip.py); None where they cannot go so (then call
    `record_view`). If that request fails with `ledger_one_trip.refused`, nothing of it was
    kept: read again, and call `record_view` without `pk`."""
    return one_trip_insert(_row(viewer, obj, site, label, via, pk), viewer)


def next_id_statement() -> tuple[str, list]:
    """(sql, params) of a statement taking the next id of the view log's sequence
    (PostgreSQL), for the `pk` of `record_view` or `record_view_statements`."""
    table, column = RecordView._meta.db_table, RecordView._meta.pk.column
    return "SELECT nextval(pg_get_serial_sequence(%s, %s))", [table, column]


def read_with_next_id(
    statements: dict[str, tuple], using: str = "default", generic: frozenset[str] = frozenset()
):
    """The rows of read statements (`PrecompiledQuery.statement()`'s (compiler, sql, params),
    by name) and, on PostgreSQL, an id taken from the view log's sequence for the `pk` of
    `record_view`, all in one round trip there (services/read_together.py); elsewhere each
    statement is run on its own and the id is None. `generic`: as `read_together.fetch`."""
    fetched, row = read_together.fetch(statements, using, tail=next_id_statement(), generic=generic)
    return fetched, row[0] if row is not None else None


def _digested(view: RecordView) -> RecordView:
    """Give the ledger the new row's digest from the values just written, sparing the read
    back: strings, ids, a count and a UTC time, which the database stores as given (the
    tests compare this digest with the stored row's)."""
    row = {f.attname: getattr(view, f.attname) for f in RecordView._meta.concrete_fields}
    provide_digest(RecordView, view.pk, row)
    return view


def record_list_view(
    viewer: AbstractBaseUser,
    model: type[models.Model],
    counts: Mapping[Site, int],
    *,
    what: str,
    via: str,
    query: str = "",
) -> list[RecordView]:
    """Note that `viewer` read a list of `model` records: one row per site in `counts`, with
    that site's number of records. `what` names the read ("CSV export"), `query` the filters
    or search that chose the records (so an auditor can see who searched for whom)."""
    if not counts:
        return []
    noun = model._meta.verbose_name_plural
    suffix = f": {query}" if query else ""
    rows = []
    with audited_change(viewer, f"read {what} of {noun} ({via})"):
        for site, count in sorted(counts.items(), key=lambda item: item[0].pk):
            rows.append(
                _digested(
                    RecordView.objects.create(
                        site=site,
                        object_type=object_type(model),
                        object_pk="",
                        object_label=_clip(f"{what} of {count} {noun}{suffix}"),
                        viewer=viewer,
                        viewer_name=viewer.get_username(),
                        via=via,
                        row_count=count,
                    )
                )
            )
    return rows


def counts_by_site(queryset: QuerySet) -> dict[Site, int]:
    """How many rows of `queryset` belong to each site (one query)."""
    grouped = queryset.order_by().values("site").annotate(n=Count("pk")).values_list("site", "n")
    numbers = dict(grouped)
    return {site: numbers[site.pk] for site in Site.objects.filter(pk__in=numbers)}


# --- what the routes call ------------------------------------------------------------------


def incident_read(
    viewer, incident: Incident, via: str = Via.PAGE, part: str = "", pk: int | None = None
) -> RecordView:
    """The incident page, its history, its API detail or one of its nested API lists
    (`part`: "supplements", "attachments"). `pk`: see `record_view`."""
    label = f"{incident.record_label} {part}".strip()
    return record_view(viewer, incident, site=incident.site, label=label, via=via, pk=pk)


def incident_read_statements(viewer, incident: Incident, via: str, pk: int) -> OneTripInsert | None:
    """`incident_read`'s row as `record_view_statements` (the incident page: its row goes
    with the page's reads)."""
    return record_view_statements(
        viewer,
        incident,
        site=incident.site,
        label=f"{incident.record_label}".strip(),
        via=via,
        pk=pk,
    )


def attachment_read(viewer, attachment: Attachment) -> RecordView:
    """An attachment's bytes downloaded (page or API). Pass one fetched with
    `select_related("incident__site")`."""
    incident = attachment.incident
    return record_view(
        viewer,
        attachment,
        site=incident.site,
        label=f"{incident.record_label} attachment #{attachment.pk}",
        via=Via.ATTACHMENT,
    )


def shift_report_read(
    viewer, shift: Shift, *, pdf: bool = False, pk: int | None = None
) -> RecordView:
    """The daily activity report of one shift (page or PDF). `pk`: see `record_view`."""
    local = shift.started_at.astimezone(shift.site.tzinfo)
    label = f"DAR {shift.site.code} {local:%Y-%m-%d} shift #{shift.pk}{' PDF' if pdf else ''}"
    return record_view(viewer, shift, site=shift.site, label=label, via=Via.ACTIVITY_REPORT, pk=pk)


def site_day_report_read(viewer, site: Site, day: date, *, pdf: bool = False) -> RecordView:
    """The daily activity report of one site-day (page or PDF)."""
    label = f"DAR {site.code} {day:%Y-%m-%d}{' PDF' if pdf else ''}"
    return record_view(viewer, site, site=site, label=label, via=Via.ACTIVITY_REPORT)


def access_events_read(
    viewer, events: QuerySet, *, cardholder: str, site: Site | None, query: str, csv: bool
) -> list[RecordView]:
    """Access events read by cardholder name (page or API) or exported as CSV (which carries
    every cardholder name): one row per site with matches, and one for the chosen `site`
    of a cardholder search even when nothing matched — the search itself says whom someone
    looked for. Browsing events without a cardholder is not a read of one person's data and
    writes nothing. `query` is the filters used (see `filters_text`)."""
    if not (csv or cardholder):
        return []
    counts = counts_by_site(events)
    if site is not None and cardholder:
        counts.setdefault(site, 0)
    return record_list_view(
        viewer,
        events.model,
        counts,
        what="CSV export" if csv else "cardholder search",
        via=Via.CSV if csv else Via.CARDHOLDER_SEARCH,
        query=query,
    )


def filters_text(params: Mapping[str, str], skip: Iterable[str] = ("page", "format")) -> str:
    """The filters of a list request as `name=value` pairs, for the view log's label."""
    return ", ".join(f"{k}={v}" for k, v in params.items() if v and k not in skip)


# --- the auditors' search ------------------------------------------------------------------


@dataclass(frozen=True)
class ViewLogFilters:
    """What an auditor searches the view log by. Days are local days of each row's site."""

    site: Site | None = None
    user: str = ""
    record: str = ""
    via: str = ""
    day_from: date | None = None
    day_to: date | None = None


def _in_days(rows: QuerySet, zones: Iterable[str], first: date | None, last: date | None):
    """Rows viewed between local midnight before `first` and after `last`, each in its own
    site's zone: one condition per distinct zone, not per site."""
    condition = Q()
    for zone in zones:
        start, end = day_bounds(Site(time_zone=zone), first or last, last or first)
        part = Q(site__time_zone=zone)
        if first:
            part &= Q(viewed_at__gte=start)
        if last:
            part &= Q(viewed_at__lt=end)
        condition |= part
    return rows.filter(condition)


@dataclass(frozen=True)
class ViewLogPage:
    """A page of the view log, newest first, and the ids to pass as `before` (older page) and
    `after` (newer page), None where there is nothing that way."""

    rows: list
    older: int | None
    newer: int | None


def search_view_log(
    auditor,
    filters: ViewLogFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
    audited: Iterable[Site] | None = None,
    columns: tuple[str, ...] | None = None,
) -> ViewLogPage:
    """A page of the view log of the sites `auditor` audits (AUDIT_ROLES), newest first:
    the newest, or the rows older than `before`, or those newer than `after`.

    Keyset paging on the id: every page costs the same however long the log grows, and a page
    does not shift when reads are logged meanwhile. Pass the auditor's sites as `audited` when
    already loaded (their time zones are needed for a date range over all of them). With
    `columns` (which name "id") the rows are tuples of those columns, not instances: the
    page shows a few columns, and building a RecordView and its Site per row cost more than
    reading them."""
    read = _reader(auditor, filters, audited, limit + 1, columns)
    key = attrgetter("pk") if columns is None else itemgetter(columns.index("id"))
    if after is not None and before is None:
        page = read("after", after)
        if len(page) <= limit:  # nothing newer beyond these: the first page, full
            return search_view_log(auditor, filters, limit=limit, audited=audited, columns=columns)
        page = page[:limit][::-1]
        return ViewLogPage(page, key(page[-1]), key(page[0]))
    page = read(None if before is None else "before", before)
    more = len(page) > limit
    page = page[:limit]
    newer = key(page[0]) if page and before is not None else None
    return ViewLogPage(page, key(page[-1]) if more else None, newer)


def _reader(auditor, filters: ViewLogFilters, audited, size: int, columns):
    """`read(direction, bound)`: the `size` rows of a page's read (None: the newest; "before":
    older than `bound`, newest first; "after": newer than `bound`, oldest first), by the
    statement compiled for its shape where one applies (services/view_log_pages.py), else
    through the ORM; the same rows either way."""

    def read(direction: str | None, bound: int | None) -> list:
        if columns is not None and audited is not None:
            compiled = view_log_pages.page_rows(
                sorted(site.pk for site in audited),
                _filter_values(filters),
                direction,
                bound,
                size,
                columns,
            )
            if compiled is not None:
                return compiled
        rows = _searched(auditor, filters, audited)
        rows = rows.select_related("site") if columns is None else rows.values_list(*columns)
        if direction == "after":
            return list(rows.filter(pk__gt=bound).order_by("pk")[:size])
        if direction == "before":
            rows = rows.filter(pk__lt=bound)
        return list(rows.order_by("-pk")[:size])

    return read


def _filter_values(filters: ViewLogFilters) -> dict:
    """The filters as view_log_pages takes them (a day range is not among them: "days")."""
    values = {
        "site": None if filters.site is None else filters.site.pk,
        "user": filters.user,
        "record": filters.record,
        "via": filters.via,
        "days": filters.day_from or filters.day_to,
    }
    return {name: value for name, value in values.items() if value}


def _searched(auditor, filters: ViewLogFilters, audited: Iterable[Site] | None) -> QuerySet:
    """The view log of the sites `auditor` audits, narrowed by `filters`, unordered."""
    rows = scoped(RecordView.objects.all(), auditor, AUDIT_ROLES)
    if filters.site is not None:
        rows = rows.filter(site=filters.site)
    if filters.user:
        rows = rows.filter(viewer_name__icontains=filters.user)
    if filters.record:
        rows = rows.filter(object_label__icontains=filters.record)
    if filters.via:
        rows = rows.filter(via=filters.via)
    if filters.day_from or filters.day_to:
        if filters.site is not None:
            zones = {filters.site.time_zone}
        elif audited is not None:
            zones = {site.time_zone for site in audited}
        else:
            zones = _zones(sites_for(auditor, AUDIT_ROLES))
        rows = _in_days(rows, sorted(zones), filters.day_from, filters.day_to)
    return rows


def _zones(sites: QuerySet) -> set[str]:
    return set(sites.order_by().values_list("time_zone", flat=True).distinct())


def views_of(obj: models.Model) -> QuerySet:
    """Every logged read of `obj` itself (not the lists it appeared in)."""
    return RecordView.objects.filter(object_type=object_type(type(obj)), object_pk=str(obj.pk))
