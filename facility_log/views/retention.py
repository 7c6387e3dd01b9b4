"""Retention pages: a site's periods (managers change them, auditors read them with their
history), the purge runs at a site (auditors and managers), and legal holds on an incident."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from facility_log.forms.base import add_service_errors
from facility_log.forms.retention import LegalHoldForm, RetentionPeriodForm
from facility_log.models import Incident, LegalHold, PurgeCount, PurgeRun, RetentionPolicy, Site
from facility_log.scoping import (
    AUDIT_ROLES,
    MANAGE_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_site_or_404,
    has_role,
)
from facility_log.services import retention
from facility_log.services.history import merged_history

RUNS_PER_PAGE = 50


def _site(request, code: str, roles) -> Site:
    return get_site_or_404(request.user, code, roles)


def site_retention(request, code: str):
    """The periods that apply at the site, who changed them and why, and the incidents on
    legal hold. Managers set a period here (POST)."""
    site = _site(request, code, AUDIT_ROLES)
    can_manage = has_role(request.user, site, MANAGE_ROLES)
    form = RetentionPeriodForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        _site(request, code, MANAGE_ROLES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                retention.set_retention_period(
                    site, request.user, kind=data["kind"], days=data["days"], reason=data["reason"]
                )
                messages.success(
                    request, _("Retention period set: %(days)s days.") % {"days": data["days"]}
                )
                return redirect("site-retention", code=site.code)
            except ValidationError as error:
                add_service_errors(form, error)
    holds = LegalHold.objects.filter(incident__site=site, released_at__isnull=True)
    return render(
        request,
        "facility_log/retention/site.html",
        {
            "site": site,
            "periods": retention.periods_for(site),
            "form": form if can_manage else None,
            "history": merged_history(RetentionPolicy.history.filter(site_id=site.pk)),
            "holds": holds.select_related("incident", "placed_by"),
        },
    )


def site_purges(request, code: str):
    """Every purge run with what it removed (or, dry, would have) at this site, newest first."""
    site = _site(request, code, AUDIT_ROLES)
    counts = PurgeCount.objects.filter(site=site).order_by("kind")
    runs = (
        PurgeRun.objects.filter(counts__site=site)
        .distinct()
        .order_by("-started_at", "-pk")
        .prefetch_related(Prefetch("counts", queryset=counts, to_attr="here"))
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "facility_log/retention/purges.html", {"site": site, "page": page})


HOLD_ACTIONS = {
    "place": (retention.place_legal_hold, "Place a legal hold"),
    "release": (retention.release_legal_hold, "Release the legal hold"),
}


def incident_legal_hold(request, pk: int, action: str):
    """Place or release a legal hold (managers). GET asks for the reason; POST does it."""
    if action not in HOLD_ACTIONS:
        raise Http404("No such action.")
    incident = get_scoped_or_404(
        Incident.objects.select_related("site"), request.user, VIEW_ROLES, pk=pk
    )
    _site(request, incident.site.code, MANAGE_ROLES)
    run, label = HOLD_ACTIONS[action]
    form = LegalHoldForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            run(incident, request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("%(action)s: done.") % {"action": label})
            return redirect("incident-page", pk=incident.pk)
        except ValidationError as error:
            add_service_errors(form, error)
    return render(
        request,
        "facility_log/retention/hold.html",
        {
            "incident": incident,
            "form": form,
            "label": label,
            "action": action,
            "hold": retention.active_hold(incident),
        },
    )
