"""Incident lists: the filtered list in keyset pages, its CSV export, and the review queue."""

from django.contrib import messages
from django.shortcuts import render

from facility_log import paging
from facility_log.forms import incidents as forms
from facility_log.models import Incident
from facility_log.scoping import REVIEW_ROLES, VIEW_ROLES, sites_for
from facility_log.services import incidents as svc
from facility_log.services import view_log
from facility_log.services.csv_export import TIME, Column, csv_lines, csv_response
from facility_log.templatetags.facility_log_tags import INCIDENT_ROW_FIELDS, QUEUE_ROW_FIELDS

PAGE_SIZE = 50


# --- lists --------------------------------------------------------------------------------


def _filtered(request):
    """(form, filtered incidents, the user's sites as a list)."""
    sites = list(sites_for(request.user, VIEW_ROLES))
    form = forms.FilterForm(request.GET or None, sites=sites)
    if form.is_bound and not form.is_valid():
        # A filter the user may not use (another site) or cannot parse matches nothing.
        return form, Incident.objects.none(), sites
    return form, svc.search_incidents(request.user, form.filters()), sites


def incident_list(request):
    """Incidents of the user's sites with filters, newest first, 50 a page in keyset pages
    (Newer/Older, `?cursor=`): each page reads its sites' `(site, time, id)` index ranges and
    nothing counts the whole list (facility_log/paging.py)."""
    form, incidents, sites = _filtered(request)
    # The sites the form offers are the user's viewing sites: their ids are the keyset's
    # parts (site_id_list's list, without reading the memberships a second time).
    site_ids = sorted(site.pk for site in sites)
    chosen = form.cleaned_data.get("site") if form.is_bound and form.is_valid() else None
    if chosen:
        site_ids = [site.pk for site in sites if site.code == chosen]
    keyset = {"size": PAGE_SIZE, "split_field": "site_id", "split_values": site_ids}
    # Only the columns a row shows, read as dicts (templatetags `incident_rows`): building
    # an incident with its site, zone and category per row was most of the rows' reading.
    incidents = incidents.values(*INCIDENT_ROW_FIELDS)
    try:
        page = paging.keyset_page(
            incidents, "occurred_from", cursor=request.GET.get("cursor") or None, **keyset
        )
    except paging.BadCursor as error:
        messages.warning(request, str(error))
        page = paging.keyset_page(incidents, "occurred_from", **keyset)
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page", None)
    return render(
        request,
        "facility_log/incidents/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


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
    thousands waiting, and each page reads only its sites' `(site, submitted_at, id)` ranges."""
    # The reviewing sites once (ordered by code), their ids the keyset's parts.
    sites = list(sites_for(request.user, REVIEW_ROLES).order_by("code"))
    site_ids = sorted(site.pk for site in sites)
    incidents = svc.review_queue(request.user, site_ids).values(*QUEUE_ROW_FIELDS)
    keyset = {
        "size": PAGE_SIZE,
        "split_field": "site_id",
        "split_values": site_ids,
        "ascending": True,
    }
    try:
        page = paging.keyset_page(
            incidents, "submitted_at", cursor=request.GET.get("cursor") or None, **keyset
        )
    except paging.BadCursor as error:
        messages.warning(request, str(error))
        page = paging.keyset_page(incidents, "submitted_at", **keyset)
    return render(
        request,
        "facility_log/incidents/review_queue.html",
        {"page": page, "sites": sites},
    )
