"""Reporting an incident and editing it while it is a draft."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from facility_log.forms import incidents as forms
from facility_log.forms.base import add_service_errors
from facility_log.models import Incident, Membership, Scan, Site
from facility_log.scoping import REPORT_ROLES, sites_for
from facility_log.services import incidents as svc
from facility_log.views.incidents.common import (
    _activate_site_time,
    _in_site_time,
    _incident,
    _post_action,
)


def _default_site_and_zone(user, sites):
    """The reporter's site (their first guard membership) and the zone of the checkpoint they
    last scanned on a round still open there. No other zone is preselected: a silent default
    sent a loading-dock report to the police as "Car park"."""
    memberships = Membership.objects.filter(user=user, is_active=True, site__in=sites)
    ranked = sorted(
        memberships.select_related("site"), key=lambda m: (m.role != "guard", m.site.code)
    )
    site = ranked[0].site if ranked else sites.first()
    return site, (_current_round_zone(user, site) if site else None)


def _current_round_zone(user, site):
    """The active zone of the last checkpoint scanned on this user's open round at `site`."""
    scan = (
        Scan.objects.filter(
            run__guard=user,
            run__site=site,
            run__finished_at__isnull=True,
            checkpoint__zone__is_active=True,
        )
        .select_related("checkpoint__zone")
        .order_by("-effective_time", "-pk")
        .first()
    )
    return scan.checkpoint.zone if scan else None


@_in_site_time
def incident_new(request):
    """The tablet report form: incident, one person, one photo; save as draft or submit."""
    sites = sites_for(request.user, REPORT_ROLES)
    if not sites.exists():
        raise PermissionDenied("You do not report incidents at any site.")
    site, zone = _default_site_and_zone(request.user, sites)
    chosen = sites.filter(pk=request.POST.get("site") or 0).first() if request.POST else None
    _activate_site_time(chosen or site)
    form = forms.ReportForm(
        request.POST or None,
        request.FILES or None,
        sites=sites,
        initial={"site": site, "zone": zone, "occurred_from": timezone.localtime()},
    )
    persons = forms.PersonFormSet(request.POST or None, prefix="person")
    if request.method == "POST" and form.is_valid() and persons.is_valid():
        incident = _create_from_form(request, form, persons)
        if incident is not None:
            return redirect("incident-page", pk=incident.pk)
    return render(
        request,
        "facility_log/incidents/form.html",
        {"form": form, "persons": persons, "heading": _("Report an incident"), "multipart": True},
    )


def _create_from_form(request, form, persons) -> Incident | None:
    data = form.cleaned_data
    people = [p.cleaned_data for p in persons if p.has_changed() and p.cleaned_data]
    submit = request.POST.get("action") == "submit"
    try:
        with transaction.atomic():
            incident, created = svc.create_incident(
                request.user,
                site=data["site"],
                client_uuid=data["client_uuid"],
                persons=people,
                **form.incident_fields(),
            )
            if created and data.get("photo"):
                svc.add_attachment(
                    incident, request.user, upload=data["photo"], description="photo"
                )
            if submit and incident.is_draft:
                incident = svc.submit_incident(incident, request.user)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    except svc.IdempotencyConflict as error:
        form.add_error(None, str(error))
        return None
    if submit:
        done = _("Incident submitted as %(number)s.") % {"number": incident.number}
    else:
        done = _("Incident saved as a draft.")
    messages.success(request, done)
    return incident


@_in_site_time
def incident_edit(request, pk: int):
    """Edit a draft. Submitted incidents are never edited in place; a stale edit shows both
    versions instead of overwriting."""
    incident = _incident(request, pk, REPORT_ROLES)
    if not incident.is_draft:
        messages.error(request, svc.NOT_IN_PLACE)
        return redirect("incident-page", pk=incident.pk)
    _activate_site_time(incident.site)
    sites = Site.objects.filter(pk=incident.site_id)
    form = forms.DraftForm(
        request.POST or None, instance=incident, sites=sites, initial={"version": incident.version}
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            svc.update_draft(
                incident,
                request.user,
                expected_version=form.cleaned_data["version"],
                **form.incident_fields(),
            )
            messages.success(request, _("Draft saved."))
            return redirect("incident-page", pk=incident.pk)
        except svc.EditConflict as error:
            conflict = _conflict_rows(form, error)
            form.add_error(None, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
    return render(
        request,
        "facility_log/incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "conflict": conflict,
            "heading": _("Edit %(label)s") % {"label": incident.label},
        },
    )


def _conflict_rows(form, error: svc.EditConflict) -> list[dict]:
    """Your value and the stored value of every field that differs; the form then carries
    the stored version, so saving again is a deliberate choice."""
    current = error.current
    rows = []
    for name, yours in form.incident_fields().items():
        stored = getattr(current, name)
        if stored != yours:
            rows.append({"field": form.fields[name].label, "yours": yours, "stored": stored})
    form.data = form.data.copy()
    form.data["version"] = current.version
    return rows


ADDABLE = {
    "persons": (forms.PersonForm, svc.add_person, gettext_lazy("Person added.")),
    "vehicles": (forms.VehicleForm, svc.add_vehicle, gettext_lazy("Vehicle added.")),
    "property": (forms.PropertyItemForm, svc.add_property_item, gettext_lazy("Property added.")),
}


@require_POST
def incident_add_item(request, pk: int, kind: str):
    """Add a person, vehicle or property item to a draft."""
    if kind not in ADDABLE:
        raise Http404("Nothing of that kind can be added.")
    incident = _incident(request, pk, REPORT_ROLES)
    form_class, add, success = ADDABLE[kind]
    return _post_action(
        request,
        incident,
        form_class(request.POST, prefix=kind),
        lambda d: add(incident, request.user, **d),
        success,
        "persons",
    )
