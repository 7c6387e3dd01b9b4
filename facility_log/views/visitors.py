"""The visitor day sheet pages: one site's sheet of one local day (guards, supervisors and
managers sign visitors in and out there, on a tablet or a desk), and the evacuation list of
the site (everyone signed in and not out) as a page and a PDF.

One site and one day at a time (PRIVACY.md): no page takes a name to search for, and any
query parameter is ignored — the sheet's day is in the path, not a filter."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from facility_log.forms.base import add_service_errors
from facility_log.forms.visitors import VisitorSignInForm
from facility_log.models import Site, Visitor
from facility_log.scoping import REPORT_ROLES, get_scoped_or_404
from facility_log.services import visitors
from facility_log.services.times import path_day


def _site(request, code: str) -> Site:
    return get_scoped_or_404(
        Site.objects.all(), request.user, REPORT_ROLES, site_field="", code=code
    )


def _day(value: str) -> date:
    day = path_day(value)
    if day is None:
        raise Http404("No such day.")
    return day


def today_sheet(request, code: str):
    """Today's sheet (the site's local day)."""
    site = _site(request, code)
    return redirect("visitor-sheet", code=site.code, day=visitors.local_today(site).isoformat())


def day_sheet(request, code: str, day: str):
    """One day's sheet; on today's, the sign-in form (POST signs in, then back here)."""
    site = _site(request, code)
    sheet_day = _day(day)
    today = visitors.local_today(site)
    form = VisitorSignInForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        if sheet_day != today:
            raise Http404("Visitors are signed in on today's sheet only.")
        if form.is_valid():
            try:
                visitors.sign_in_visitor(site, request.user, **form.cleaned_data)
                messages.success(request, _("Visitor signed in."))
                return redirect("visitor-sheet", code=site.code, day=today.isoformat())
            except ValidationError as error:
                add_service_errors(form, error)
    context = {
        "site": site,
        "day": sheet_day,
        "today": today,
        "is_today": sheet_day == today,
        "rows": visitors.day_sheet(site, sheet_day),
        "form": form if sheet_day == today else None,
        "previous_day": date.fromordinal(sheet_day.toordinal() - 1),
        "next_day": date.fromordinal(sheet_day.toordinal() + 1) if sheet_day < today else None,
    }
    return render(request, "facility_log/visitors/sheet.html", context)


@require_POST
def sign_out(request, code: str, pk: int):
    """Sign one visitor out (the button asks first), then back to the visitor's sheet."""
    site = _site(request, code)
    visitor = get_object_or_404(Visitor, site=site, pk=pk)
    try:
        visitors.sign_out_visitor(visitor, request.user)
        messages.success(request, _("Visitor signed out."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if request.POST.get("next") == "evacuation":
        return redirect("visitor-evacuation", code=site.code)
    return redirect("visitor-sheet", code=site.code, day=visitor.day.isoformat())


def evacuation(request, code: str):
    """Everyone signed in at the site and not out: the list to check at the assembly point."""
    site = _site(request, code)
    context = {
        "site": site,
        "rows": visitors.on_site_now(site),
        "today": visitors.local_today(site),
    }
    return render(request, "facility_log/visitors/evacuation.html", context)


def evacuation_pdf(request, code: str):
    """The evacuation list as a PDF."""
    site = _site(request, code)
    response = HttpResponse(visitors.evacuation_pdf(site), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="evacuation-{site.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
