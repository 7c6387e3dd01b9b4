"""Helpers every incident page uses: the scoped lookup, the site's local time, what the
user may do with the incident, and the POST-then-redirect step of every action form."""

import functools

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from facility_log.forms import incidents as forms
from facility_log.forms.base import add_service_errors
from facility_log.models import Incident, Site
from facility_log.models.incidents import Status
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    roles_at,
)
from facility_log.services import incident_page, procedures
from facility_log.services import incidents as svc

User = get_user_model()


PAGE_SIZE = 50


def _incident(request, pk: int, roles=VIEW_ROLES) -> Incident:
    return _incident_with_roles(request, pk, roles)[0]


def _incident_with_roles(request, pk: int, roles=VIEW_ROLES) -> tuple[Incident, set[str]]:
    """The scoped incident and the roles the user holds at its site (one query for both the
    check and the page)."""
    # get_scoped_with_roles's read, compiled once per process (services/incident_page.py).
    incident, held = incident_page.incident_with_roles(request.user, pk, roles)
    if incident.zone_id and incident.zone.site_id == incident.site_id:
        incident.zone.site = incident.site  # a zone names its site: not read a second time
    return incident, held


def _activate_site_time(site: Site | None) -> None:
    """Times typed into the form are the site's local times (for this request only: see
    `_in_site_time`)."""
    if site is not None:
        timezone.activate(site.tzinfo)


def _in_site_time(view):
    """Reset the time zone a view activated, so the next request on this thread is UTC."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapper


def _roles(user, incident, held: set[str] | None = None) -> dict:
    """What the user's roles at the incident's site allow (`held` when already read)."""
    if held is None:
        held = roles_at(user, incident.site)  # one query for all three
    return {
        "report": bool(held & REPORT_ROLES),
        "review": bool(held & REVIEW_ROLES),
        "manage": bool(held & MANAGE_ROLES),
    }


def _abilities(user, incident, roles) -> dict:
    mine = incident.author_id == user.pk
    writer = roles["report"] and (mine or roles["review"])
    after = incident.status in svc.OPEN_AFTER_SUBMISSION
    return {
        "edit": writer and incident.is_draft,
        "submit": writer and incident.status in (Status.DRAFT, Status.RETURNED),
        "review": roles["review"] and not mine and incident.status == Status.SUBMITTED,
        "close": roles["manage"] and incident.status == Status.APPROVED,
        "void": (writer and incident.is_draft) or (roles["review"] and after),
        "supplement": roles["report"] and after,
        "correct": writer and after,
        "attach": roles["report"] and incident.status not in (Status.CLOSED, Status.VOID),
        "export": roles["review"] and bool(incident.number),
        "hold": roles["manage"],
        "tick": roles["report"] and incident.status not in procedures.SETTLED_INCIDENT,
    }


def _post_action(request, incident, form, run, success: str, template_form: str):
    """Run a small action form from the incident page; errors are shown on the page."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
            messages.success(request, success)
            return redirect("incident-page", pk=incident.pk)
        except ValidationError as error:
            add_service_errors(form, error)
        except svc.EditConflict as error:
            form.add_error(None, f"{error} Look at the incident again before correcting.")
    messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect(f"{incident_url(incident)}#{template_form}")


def incident_url(incident: Incident) -> str:
    return reverse("incident-page", kwargs={"pk": incident.pk})


def correctable_fields(incident: Incident) -> list[tuple[str, str, object]]:
    """(name, label, current value) of each field a correction may change, in form order."""
    return [
        (name, Incident._meta.get_field(name).verbose_name, getattr(incident, name))
        for name in forms.IncidentForm.Meta.fields
        if name in svc.CORRECTABLE_FIELDS
    ]
