"""Access pages: one alarm (the console is views/alarm_console.py), the event browser (with
CSV export), the door list and the file upload. Events are shown, never edited: no page here
changes one."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from facility_log import paging
from facility_log.forms.access import QUICK_NOTES, AlarmNoteForm, EventFilterForm, ImportForm
from facility_log.models import AccessEvent, Alarm, Door, ImportBatch, ImportJob, Site
from facility_log.models.access import AlarmPriority
from facility_log.models.onsite import MissedCheckIn, PanicAlert
from facility_log.scoping import (
    INGEST_ROLES,
    MANAGE_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_scoped_with_roles,
    scoped,
    scoped_to_ids,
    site_id_list,
    sites_for,
)
from facility_log.services import access as access_services
from facility_log.services import access_event_pages as event_pages
from facility_log.services import access_jobs, alarm_page, alarm_priorities, view_log
from facility_log.services.csv_export import TIME, Column, csv_lines, csv_response
from facility_log.services.scoped_get import ScopedGet
from facility_log.tasks import import_access_file

EVENTS_PER_PAGE = 100
CSV_COLUMNS = [
    Column("site", lambda e: e.site.code),
    Column("door", lambda e: e.door.code),
    Column("occurred_at", lambda e: e.occurred_at, TIME),
    Column("event_type", lambda e: e.event_type),
    Column("reason", lambda e: e.reason),
    Column("vendor_type", lambda e: e.vendor_type),
    Column("direction", lambda e: e.direction),
    Column("cardholder", lambda e: e.cardholder),
    Column("credential_hint", lambda e: e.credential_hint),
    Column("source", lambda e: e.source),
    Column("external_id", lambda e: e.external_id),
    Column("received_at", lambda e: e.received_at, TIME),
]

# --- alarms ---------------------------------------------------------------------------------


def _alarm(request, pk: int, roles=VIEW_ROLES) -> Alarm:
    return _alarm_with_roles(request, pk, roles)[0]


def _alarm_with_roles(request, pk: int, roles=VIEW_ROLES) -> tuple[Alarm, set[str]]:
    """The scoped alarm and the roles the user holds at its site (read once)."""
    alarms = Alarm.objects.select_related(
        "site",
        "door",
        "event",
        "acknowledged_by",
        "panic__guard",
        "panic__shift",
        "panic__last_checkpoint__zone",
        "missed_check_in__shift__guard",
    )
    return get_scoped_with_roles(alarms, request.user, roles, pk=pk)


def _alarm_for_page_query():
    own_priority = AlarmPriority.objects.filter(
        site_id=OuterRef("site_id"), event_type=OuterRef("event_type")
    ).order_by("pk")
    return Alarm.objects.select_related(
        "site", "door", "event", "acknowledged_by", "incident_source"
    ).annotate(own_priority=Subquery(own_priority.values("priority")[:1]))


# Read as get_scoped_with_roles reads it, compiled once per process (services/scoped_get.py).
_SCOPED_ALARM = ScopedGet(_alarm_for_page_query)


def _alarm_for_page(request, pk: int) -> tuple[Alarm, set[str]]:
    """The scoped alarm with all its page shows, read for its kind: a door's alarm (most of
    them) with its door, event, site priority and incident link in one query of five tables;
    a panic button's or a missed check-in's records read after it (one query more), not
    joined into every alarm's read (the 13-table join cost more to plan than to run)."""
    alarm, held = _SCOPED_ALARM.get(request.user, pk, VIEW_ROLES)
    if alarm.panic_id:
        alarm.panic = PanicAlert.objects.select_related(
            "guard", "shift", "last_checkpoint__zone"
        ).get(pk=alarm.panic_id)
    if alarm.missed_check_in_id:
        alarm.missed_check_in = MissedCheckIn.objects.select_related("shift__guard").get(
            pk=alarm.missed_check_in_id
        )
    # What `priority_of` reads in its own query: the site's row, else the type's default.
    alarm.priority = alarm.own_priority or alarm_priorities.default_priority(alarm.event_type)
    return alarm, held


def _incident_source(alarm: Alarm):
    """The alarm's link to the incident opened from it, or None (read with the alarm). Asked
    here, not by the template: a missing reverse one-to-one raises there, and the template
    language lists the alarm's every attribute (`dir`) before it gives up silently."""
    try:
        return alarm.incident_source
    except ObjectDoesNotExist:
        return None


def alarm_detail(request, pk: int):
    """One alarm: its event, its state and its history (who acknowledged, with which note)."""
    alarm, held = _alarm_for_page(request, pk)
    priority = alarm_priorities.priority_of(alarm)
    # Its history, ticks and procedure in one round trip (services/alarm_page.py).
    history, checklist = alarm_page.read_alarm(alarm)
    return render(
        request,
        "facility_log/access/alarm.html",
        {
            "alarm": alarm,
            "site": alarm.site,
            "incident_source": _incident_source(alarm),
            "form": AlarmNoteForm(),
            "can_review": bool(held & set(REVIEW_ROLES)),
            # Newest first, with the ticks of its procedure's steps.
            "history": history[::-1],
            "checklist": checklist,
            "quick_notes": QUICK_NOTES,
            "priority_label": alarm_priorities.PRIORITY_NAMES[priority],
            "priority_class": alarm_priorities.PRIORITY_CLASSES[priority],
        },
    )


def _alarm_step(request, pk: int, step) -> object:
    alarm = _alarm(request, pk, REVIEW_ROLES)
    form = AlarmNoteForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        if not form.is_valid():
            raise ValidationError({"note": "A note is required."})
        step(alarm, request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        text = " ".join(error.messages)
        if wants_json:
            return JsonResponse({"error": text}, status=400)
        messages.error(request, text)
        return redirect("access-alarm-page", pk=alarm.pk)
    if wants_json:
        return JsonResponse({"id": alarm.pk, "state": alarm.state})
    messages.success(
        request,
        _("Alarm #%(pk)s %(state)s.")
        % {"pk": alarm.pk, "state": alarm.get_state_display().lower()},
    )
    if request.POST.get("next") == "console":
        return redirect("access-alarm-console")
    return redirect("access-alarm-page", pk=alarm.pk)


@require_POST
def alarm_acknowledge(request, pk: int):
    return _alarm_step(request, pk, access_services.acknowledge_alarm)


@require_POST
def alarm_resolve(request, pk: int):
    return _alarm_step(request, pk, access_services.resolve_alarm)


# --- events ---------------------------------------------------------------------------------


# The row columns (kept here for the callers that read them from the view).
PAGE_COLUMNS = event_pages.PAGE_COLUMNS


def _sites(user) -> list[Site]:
    """The user's viewing sites by code, each `marked` when the user manages it and
    `unmapped` when the notice of vendor types to map may list some of its events (read in
    one statement by services/access_event_pages.py, else through scoping)."""
    sites = event_pages.page_sites(user)
    if sites is None:
        sites = list(sites_for(user, VIEW_ROLES))
        managed_ids = set(site_id_list(user, MANAGE_ROLES))
        for site in sites:
            site.marked = site.unmapped = site.pk in managed_ids
    return sites


def _filtered_events(request):
    """The form, the filtered events (a function giving the queryset: the page's compiled read
    needs none built), the user's sites (by code), the ids of the sites the events come from
    (narrowed to the chosen site) and the filters' values."""
    sites = _sites(request.user)
    site_ids = [site.pk for site in sites]
    form = EventFilterForm(request.GET or None, sites=sites)
    filters = {}
    if form.is_bound and form.is_valid():
        if form.cleaned_data["site"]:
            site_ids = [form.sites[form.cleaned_data["site"]].pk]
        filters = event_pages.event_filters(form)
    elif form.is_bound:
        site_ids = []

    def events() -> QuerySet:
        events = scoped_to_ids(AccessEvent.objects.all(), site_ids)
        return event_pages.filter_events(events, filters) if site_ids else events.none()

    return form, events, sites, site_ids, filters


def _event_page(request, events, site_ids, filters) -> paging.KeysetPage:
    """One keyset page of events (`?cursor=`; a cursor that is not ours gives page one), its
    rows tuples of event_pages.PAGE_COLUMNS: on PostgreSQL by the statement compiled for its
    shape, else the ORM's (named tuples, the same values in the same order)."""
    keyset = {"size": EVENTS_PER_PAGE, "split_field": "site_id", "split_values": site_ids}

    def read(cursor):
        page = event_pages.compiled_page(site_ids, cursor, filters, EVENTS_PER_PAGE)
        if page is None:
            rows = events().values_list(*event_pages.PAGE_COLUMNS, named=True)
            page = paging.keyset_page(rows, "occurred_at", cursor=cursor, **keyset)
        return page

    try:
        return read(request.GET.get("cursor") or None)
    except paging.BadCursor as error:
        messages.warning(request, str(error))
        return read(None)


def event_list(request):
    """Events of the user's sites with filters, newest first, in keyset pages (Newer/Older
    links, no page numbers: nothing counts a million rows); `?format=csv` exports the
    filtered rows."""
    form, events, sites, site_ids, filters = _filtered_events(request)
    as_csv = request.GET.get("format") == "csv"
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if as_csv or data.get("cardholder"):  # what access_events_read records; else nothing
        view_log.access_events_read(
            request.user,
            events(),
            cardholder=data.get("cardholder", ""),
            site=form.sites.get(data.get("site") or ""),
            query=view_log.filters_text(request.GET, skip=("page", "format", "cursor")),
            csv=as_csv,
        )
    if as_csv:
        return _csv_response(events().select_related("site", "door"))
    page = _event_page(request, events, site_ids, filters)
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page", None)
    managed = [site for site in sites if site.marked]
    # Counted only where the sites' read found something to map (nearly never): else no query.
    unmapped = []
    if any(site.unmapped for site in managed):
        unmapped = access_services.unmapped_vendor_types(managed)
    return render(
        request,
        "facility_log/access/events.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "sites": sites,
            "unmapped": unmapped,
        },
    )


def _csv_response(events):
    """Every filtered event, streamed (services/csv_export.py: BOM, site-local times beside
    UTC, text cells safe from formulas and keeping leading zeros)."""
    rows = events.iterator(chunk_size=2000)
    return csv_response(csv_lines(CSV_COLUMNS, rows, lambda e: e.site.tzinfo), "access-events.csv")


# --- doors and import -----------------------------------------------------------------------


def door_list(request):
    """The doors of each of the user's sites, with their zone and external ids."""
    sites = list(sites_for(request.user, VIEW_ROLES))
    doors = scoped(
        Door.objects.select_related("site", "zone").prefetch_related("external_ids"),
        request.user,
        VIEW_ROLES,
    )
    by_site = {site.pk: [] for site in sites}
    for door in doors:
        by_site.setdefault(door.site_id, []).append(door)
    managed = set(site_id_list(request.user, MANAGE_ROLES))
    sections = [
        {"site": site, "doors": by_site[site.pk], "can_manage": site.pk in managed}
        for site in sites
    ]
    return render(request, "facility_log/access/doors.html", {"sections": sections})


def import_page(request):
    """Managers upload a file; it is checked whole, then stored. A small file is imported in
    the request; a large one by the task worker, the job page showing its progress."""
    sites = list(sites_for(request.user, MANAGE_ROLES))
    form = ImportForm(request.POST or None, request.FILES or None, sites=sites)
    errors, error_count = [], 0
    if request.method == "POST" and form.is_valid():
        site = get_scoped_or_404(
            Site.objects.all(), request.user, MANAGE_ROLES, "", code=form.cleaned_data["site"]
        )
        job = access_jobs.start_import_job(
            site,
            request.user,
            upload=form.cleaned_data["file"],
            file_format=form.cleaned_data["file_format"],
            site_time=form.cleaned_data.get("site_time", False),
        )
        if form.cleaned_data["format_guessed"]:
            messages.info(
                request,
                _("Format guessed from the file: %(format)s.") % {"format": job.file_format},
            )
        if access_jobs.runs_in_background(job):
            transaction.on_commit(partial(import_access_file.enqueue, job.pk))
            return redirect("access-import-job", pk=job.pk)
        access_jobs.run_import_job(job)
        if job.status != ImportJob.Status.REFUSED or not job.errors:
            return redirect("access-import-job", pk=job.pk)
        errors, error_count = job.errors, job.error_count
    return render(
        request,
        "facility_log/access/import.html",
        {"form": form, "errors": errors, "error_count": error_count},
    )


def _scoped_job(request, pk: int) -> ImportJob:
    return get_scoped_or_404(
        ImportJob.objects.select_related("site"), request.user, MANAGE_ROLES, pk=pk
    )


def import_job(request, pk: int):
    """One uploaded file's import: its progress while it runs, then what it stored."""
    job = _scoped_job(request, pk)
    skipped = access_services.describe_skipped(job.skipped)
    return render(request, "facility_log/access/import_job.html", {"job": job, "skipped": skipped})


def import_job_progress(request, pk: int):
    """The job's progress as JSON, polled by its page while the import runs."""
    job = _scoped_job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "percent": job.percent,
            "running": job.is_running,
        }
    )


def import_result(request, pk: int):
    """What one accepted import added."""
    batch = get_scoped_or_404(
        ImportBatch.objects.select_related("site"), request.user, INGEST_ROLES, pk=pk
    )
    return render(request, "facility_log/access/import_result.html", {"batch": batch})
