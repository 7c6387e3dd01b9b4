"""The dashboard (per site and across the user's sites) and the monthly site report (PDF,
CSV). Supervisors, managers and auditors of a site see its figures; guards are refused (403)
and anyone without a role at the site is told it does not exist (404)."""

import re
from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from facility_log.forms.dashboard import PeriodForm
from facility_log.models import Site
from facility_log.scoping import AUDIT_ROLES, REVIEW_ROLES, get_scoped_or_404, sites_for
from facility_log.services import dashboard as svc
from facility_log.services.csv_export import csv_response
from facility_log.services.dashboard import report

DASHBOARD_ROLES = REVIEW_ROLES | AUDIT_ROLES  # supervisors, managers, auditors
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _site(request, code: str) -> Site:
    return get_scoped_or_404(
        Site.objects.all(), request.user, DASHBOARD_ROLES, site_field="", code=code
    )


def _page(request, sites: list[Site], site: Site | None):
    today = timezone.now().astimezone((site or sites[0]).tzinfo).date()
    form = PeriodForm(request.GET or None, today=today)
    period = svc.preset_period("30d", today)
    if form.is_bound:
        period = form.cleaned_data.get("period") if form.is_valid() else None
    dash = svc.dashboard_figures(sites, period) if period else None
    if dash:
        _link_open_items(dash, site)
    this_month = f"{today:%Y-%m}"
    last = today.replace(day=1).toordinal() - 1
    context = {
        "site": site,
        "form": form,
        "dash": dash,
        "charts": report.charts_for(dash) if dash else None,
        "months": [this_month, f"{date.fromordinal(last):%Y-%m}"],
    }
    return render(request, "facility_log/dashboard/dashboard.html", context)


def _link_open_items(dash: svc.Dashboard, site: Site | None) -> None:
    """Each open item to the list behind it (the exceptions' list is a site's)."""
    code = site.code if site else ""
    links = {
        "reports": reverse("incident-list")
        + "?"
        + urlencode({"site": code, "status": "submitted"}),
        "alarms": reverse("access-alarm-console"),
        "exceptions": reverse("round-exceptions", args=[code]) if site else None,
    }
    for item in dash.open_items:
        item.link = links[item.kind]


def site_dashboard(request, code: str):
    """One site's figures for the chosen period, in the site's time zone."""
    site = _site(request, code)
    return _page(request, [site], site)


def dashboard(request):
    """The figures of every site where the user supervises, manages or audits, each site's
    records counted in its own time zone; 403 for anyone who does none of these anywhere."""
    sites = list(sites_for(request.user, DASHBOARD_ROLES).order_by("code"))
    if not sites:
        raise PermissionDenied("The dashboard is for supervisors, managers and auditors.")
    return _page(request, sites, None)


def _month(site: Site, month: str) -> tuple[svc.Dashboard, str]:
    match = MONTH.match(month or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise Http404("Not a month (YYYY-MM).")
    period = svc.month_period(int(match[1]), int(match[2]))
    return svc.dashboard_figures([site], period), month


def monthly_report_pdf(request, code: str, month: str):
    """The monthly site report as a PDF, ready to send to the client."""
    site = _site(request, code)
    dash, month = _month(site, month)
    pdf = report.render_monthly_pdf(dash, month, timezone.now())
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = report.monthly_filename(site, month, "pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def monthly_report_csv(request, code: str, month: str):
    """The monthly site report's figures as CSV (one figure a line)."""
    site = _site(request, code)
    dash, month = _month(site, month)
    return csv_response([report.monthly_csv(dash)], report.monthly_filename(site, month, "csv"))
