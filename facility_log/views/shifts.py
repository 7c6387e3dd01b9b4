"""Shift pages: a site's recent shifts, and the daily activity report (DAR) of one shift or
one site-day, as a page and as a PDF. Reading needs a role at the site (VIEW_ROLES); the
shifts are started and ended on the tablet (API, services/shifts.py), and can be started at
the desk, where the post orders that changed are shown and acknowledged first."""

import uuid
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from facility_log.forms.base import add_service_errors
from facility_log.forms.post_orders import StartShiftForm
from facility_log.models import Shift, Site
from facility_log.scoping import REPORT_ROLES, VIEW_ROLES, get_scoped_or_404, get_site_or_404
from facility_log.services import activity_report as dar
from facility_log.services import post_orders, shift_report_reads, view_log
from facility_log.services import shifts as shift_services
from facility_log.services.precompiled import CompiledShapes, Slot
from facility_log.services.prepared import PreparedQuery
from facility_log.services.scoped_get import ScopedGet
from facility_log.services.times import path_day
from facility_log.templatetags.facility_log_tags import SHIFT_ROW_FIELDS

PAGE_SIZE = 50


def _site(request, code: str) -> Site:
    return get_site_or_404(request.user, code, VIEW_ROLES)


# The shift with its site and guard, read as get_scoped_or_404 reads it, compiled once.
_SCOPED_SHIFT = ScopedGet(lambda: Shift.objects.select_related("site", "guard"))


def _shift(request, pk: int) -> Shift:
    return _SCOPED_SHIFT.get(request.user, pk, VIEW_ROLES)[0]


def _day(value: str) -> date:
    """A yyyy-mm-dd from the path; anything else is a page that does not exist."""
    day = path_day(value or "")
    if day is None:
        raise Http404("Not a date (yyyy-mm-dd).")
    return day


def _pdf(report) -> HttpResponse:
    response = HttpResponse(dar.render_report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response


def _shift_rows(site_id):
    """Dicts of the shown columns (templatetags `shift_rows`), not shifts with their guards."""
    return (
        Shift.objects.filter(site_id=site_id)
        .order_by("-started_at", "-pk")
        .values(*SHIFT_ROW_FIELDS)
        .annotate(entry_count=Count("entries"))
    )


_SITE_SLOT = {"site_id": Slot(-(2**31) + 81, Shift._meta.get_field("site"))}
# The site's shifts counted, and a page of them (by offset and size, which SQL writes as
# literals), compiled and prepared once (services/prepared.py); the 16 most recent pages.
_SHIFT_COUNT = PreparedQuery(
    lambda key, site_id: (
        Shift.objects.filter(site_id=site_id).order_by().values("site_id").annotate(n=Count("id"))
    ),
    _SITE_SLOT,
    strict=True,
)
_SHIFT_PAGES = PreparedQuery(
    lambda key, site_id: _shift_rows(site_id)[key[0] : key[0] + key[1]], _SITE_SLOT, strict=True
)
_SHIFT_PAGE_SHAPES = CompiledShapes()


class _SiteShifts:
    """A site's shift rows as Django's Paginator reads them (`count()`, then a slice)."""

    def __init__(self, site_id: int):
        self.site_id = site_id

    def count(self) -> int:
        counted = _SHIFT_COUNT.rows(None, site_id=self.site_id)
        return counted[0]["n"] if counted else 0

    def __getitem__(self, part: slice) -> list[dict]:
        if part.stop <= part.start:  # the empty first page of a site with no shifts
            return []
        shape = (part.start, part.stop - part.start)
        if _SHIFT_PAGE_SHAPES.admit(shape, 16, _SHIFT_PAGES):
            return _SHIFT_PAGES.rows(shape, site_id=self.site_id)
        return list(_shift_rows(self.site_id)[part])


def site_shifts(request, code: str):
    """The site's shifts, newest first (50 a page), and the way to a day's report. A `day`
    parameter (from the date picker) goes to that day's report."""
    site = _site(request, code)
    if "day" in request.GET:
        return redirect("site-activity", code=site.code, day=_day(request.GET["day"]).isoformat())
    page = Paginator(_SiteShifts(site.pk), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.now().astimezone(site.tzinfo).date()
    context = {"site": site, "page": page, "today": today}
    return render(request, "facility_log/shifts/list.html", context)


def shift_report(request, pk: int):
    """One shift's daily activity report (logged in the view log, as the PDF is)."""
    shift = _shift(request, pk)
    # Its reads in one round trip on PostgreSQL, with the id of the view-log row, written
    # with its ledger entry in one more (services/shift_report_reads.py).
    report, view_pk = shift_report_reads.shift_report(shift)
    view_log.shift_report_read(request.user, shift, pk=view_pk)
    context = {"report": report, "site": report.site}
    return render(request, "facility_log/shifts/report.html", context)


def shift_report_pdf(request, pk: int):
    shift = _shift(request, pk)
    view_log.shift_report_read(request.user, shift, pdf=True)
    return _pdf(dar.shift_report(shift))


def site_activity(request, code: str, day: str):
    """The site's daily activity report for one local day (logged in the view log)."""
    site = _site(request, code)
    local_day = _day(day)
    view_log.site_day_report_read(request.user, site, local_day)
    report = dar.site_day_report(site, local_day)
    context = {"report": report, "site": site}
    return render(request, "facility_log/shifts/day.html", context)


def site_activity_pdf(request, code: str, day: str):
    site = _site(request, code)
    local_day = _day(day)
    view_log.site_day_report_read(request.user, site, local_day, pdf=True)
    return _pdf(dar.site_day_report(site, local_day))


def shift_start(request, code: str):
    """Start the signed-in person's shift at the site from a desk. The post orders that
    changed since they last acknowledged them are shown with an "I have read these" box; the
    service refuses the start, naming them, until it is ticked."""
    site = get_scoped_or_404(
        Site.objects.all(), request.user, REPORT_ROLES, site_field="", code=code
    )
    if (open_shift := shift_services.open_shift_for(request.user, site)) is not None:
        messages.info(request, _("Your shift here is open already."))
        return redirect("shift-report", pk=open_shift.pk)
    pending = post_orders.unacknowledged(site, request.user)
    initial = {"client_uuid": uuid.uuid4(), "versions": ",".join(str(v.pk) for v in pending)}
    form = StartShiftForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            shift, _created = shift_services.start_shift(
                site,
                request.user,
                client_uuid=form.cleaned_data["client_uuid"],
                acknowledged_post_orders=form.acknowledged(),
            )
        except (ValidationError, shift_services.ShiftConflict) as error:
            add_service_errors(
                form,
                error
                if isinstance(error, ValidationError)
                else ValidationError(error.message_dict),
            )
        else:
            messages.success(request, _("Shift started."))
            return redirect("shift-report", pk=shift.pk)
    context = {"site": site, "form": form, "pending": pending}
    return render(request, "facility_log/shifts/start.html", context)
