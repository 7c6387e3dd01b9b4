"""Site pages: the site with its zones, editing it, adding zones, and its history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from facility_log.forms.sites import SiteForm, ZoneForm
from facility_log.models import Membership, Site, Zone
from facility_log.scoping import (
    AUDIT_ROLES,
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_site_or_404,
    roles_at,
)
from facility_log.services import sites as site_services
from facility_log.services.history import merged_history


def _site(request, code: str, roles=VIEW_ROLES) -> Site:
    return get_site_or_404(request.user, code, roles)


def site_detail(request, code: str):
    site = _site(request, code)
    roles = roles_at(request.user, site)
    can_manage = bool(roles & MANAGE_ROLES)
    memberships = Membership.objects.filter(site=site).select_related("user") if can_manage else []
    return render(
        request,
        "facility_log/sites/detail.html",
        {
            "site": site,
            "zones": Zone.objects.filter(site=site),
            "memberships": memberships,
            "can_manage": can_manage,
            "can_audit": bool(roles & AUDIT_ROLES),
            "can_dashboard": bool(roles & (REVIEW_ROLES | AUDIT_ROLES)),
            "can_report": bool(roles & REPORT_ROLES),
            "can_keys": bool(roles & REVIEW_ROLES),
            "now": timezone.now(),
        },
    )


def _save_or_show_errors(form, save) -> bool:
    """Run the service; a rule it enforces lands on the form as a field error."""
    try:
        save()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error.messages)
        return False
    return True


def site_edit(request, code: str):
    site = _site(request, code, MANAGE_ROLES)
    form = SiteForm(request.POST or None, instance=Site.objects.get(pk=site.pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in SiteForm.Meta.fields}
        reason = form.cleaned_data["reason"]
        if _save_or_show_errors(
            form, lambda: site_services.update_site(site, request.user, reason=reason, **changes)
        ):
            messages.success(request, f"Site {site.code} saved.")
            return redirect("site-page", code=site.code)
    return render(
        request,
        "facility_log/sites/form.html",
        {"form": form, "site": site, "heading": f"Edit {site.code}"},
    )


def zone_add(request, code: str):
    site = _site(request, code, MANAGE_ROLES)
    form = ZoneForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _save_or_show_errors(
            form,
            lambda: site_services.create_zone(
                site,
                request.user,
                name=data["name"],
                description=data["description"],
                reason=data["reason"],
            ),
        ):
            messages.success(request, f"Zone {data['name']} added to {site.code}.")
            return redirect("site-page", code=site.code)
    return render(
        request,
        "facility_log/sites/form.html",
        {"form": form, "site": site, "heading": f"Add a zone to {site.code}"},
    )


def site_history(request, code: str):
    """Every change to the site, its zones and memberships (auditors and managers)."""
    site = _site(request, code, AUDIT_ROLES)
    rows = merged_history(
        Site.history.filter(id=site.pk),
        Zone.history.filter(site_id=site.pk),
        Membership.history.filter(site_id=site.pk),
    )
    return render(request, "facility_log/sites/history.html", {"site": site, "rows": rows})
