"""Doors from the set-up pages (the site's managers): add a door, the ids door systems use
for it so their events find it, and the alarm rules of the site's doors."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from facility_log.forms.base import add_service_errors
from facility_log.forms.doors import AlarmRuleForm, DoorExternalIdForm, DoorForm
from facility_log.models import AlarmRule, Door, EventType, Site
from facility_log.models.access import DEFAULT_ALARM_TYPES
from facility_log.scoping import MANAGE_ROLES, get_scoped_or_404
from facility_log.services import access


def door_add(request, code: str):
    site = get_scoped_or_404(
        Site.objects.all(), request.user, MANAGE_ROLES, site_field="", code=code
    )
    form = DoorForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            door = access.create_door(
                site,
                request.user,
                zone=data["zone"],
                code=data["code"],
                name=data["name"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Door %(door)s added to %(site)s.") % {"door": door.code, "site": site.code},
            )
            return redirect("access-door-list")
    return _page(request, site, form, f"Add a door at {site.code}", "Add the door")


def door_external_id_add(request, pk: int):
    door = get_scoped_or_404(Door.objects.select_related("site"), request.user, MANAGE_ROLES, pk=pk)
    form = DoorExternalIdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            access.add_door_external_id(
                door,
                request.user,
                source=data["source"],
                external_id=data["external_id"].strip(),
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{door.code} is now known to {data['source']} as {data['external_id']}."
            )
            return redirect("access-door-list")
    return _page(
        request,
        door.site,
        form,
        f"Add a door-system id for {door.code} ({door.name})",
        "Add the id",
    )


def _page(request, site, form, heading, button):
    return render(
        request,
        "facility_log/sites/people_form.html",
        {
            "site": site,
            "form": form,
            "heading": heading,
            "button": button,
            "danger": False,
            "note": "",
            # A new door's events carry the door system's own event types: where they are
            # mapped onto ours is the next thing a manager setting up doors needs.
            "vendor_types_link": True,
        },
    )


def alarm_rules(request, code: str):
    """The site's alarm rules (which door events raise alarms, and when an unacknowledged one
    escalates) beside the defaults; a form to set one, with a reason."""
    site = get_scoped_or_404(
        Site.objects.all(), request.user, MANAGE_ROLES, site_field="", code=code
    )
    form = AlarmRuleForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            access.set_alarm_rule(
                site,
                request.user,
                event_type=data["event_type"],
                door=data["door"],
                is_active=data["is_active"],
                escalate_after_minutes=data["escalate_after_minutes"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Alarm rule saved."))
            return redirect("alarm-rules", code=site.code)
    rules = (
        AlarmRule.objects.filter(site=site)
        .select_related("door")
        .order_by("event_type", "door__code")
    )
    defaults = [
        (EventType(t).label, access.DEFAULT_ESCALATE_MINUTES) for t in sorted(DEFAULT_ALARM_TYPES)
    ]
    return render(
        request,
        "facility_log/access/alarm_rules.html",
        {"site": site, "form": form, "rules": rules, "defaults": defaults},
    )
