"""Guided procedures: a site's procedures (managers write them, everyone at the site reads
them) and the ticks of their steps on an alarm or an incident (services/procedures.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from facility_log.forms.base import add_service_errors
from facility_log.forms.procedures import ProcedureForm, RetireForm, TickForm
from facility_log.models import Alarm, Incident, Procedure, Site
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    get_site_or_404,
    has_role,
)
from facility_log.services import procedures as svc
from facility_log.services.history import merged_history


def _site(request, code: str, roles=VIEW_ROLES) -> Site:
    return get_site_or_404(request.user, code, roles)


def procedure_list(request, code: str):
    """The site's procedures, active and retired, and their history (edits with reasons)."""
    site = _site(request, code)
    procedures = Procedure.objects.filter(site=site).select_related("category")
    return render(
        request,
        "facility_log/procedures/list.html",
        {
            "site": site,
            "procedures": procedures,
            "can_manage": has_role(request.user, site, MANAGE_ROLES),
            "history": merged_history(Procedure.history.filter(site_id=site.pk)),
        },
    )


def _initial(procedure: Procedure | None) -> dict | None:
    if procedure is None:
        return None
    return {
        "title": procedure.title,
        "alarm_type": procedure.alarm_type,
        "category": procedure.category_id,
        "steps": "\n".join(procedure.steps),
    }


def procedure_edit(request, code: str, pk: int | None = None):
    """Write a new procedure or the next version of one (managers of the site)."""
    site = _site(request, code, MANAGE_ROLES)
    procedure = get_object_or_404(Procedure, pk=pk, site=site) if pk else None
    form = ProcedureForm(request.POST or None, initial=_initial(procedure))
    if request.method == "POST" and form.is_valid():
        try:
            svc.save_procedure(site, request.user, procedure=procedure, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Procedure saved."))
            return redirect("procedure-list", code=site.code)
    return render(
        request,
        "facility_log/procedures/form.html",
        {"site": site, "form": form, "procedure": procedure},
    )


def procedure_retire(request, code: str, pk: int):
    """Retire a procedure with a reason (a confirmation page first; kept for its ticks)."""
    site = _site(request, code, MANAGE_ROLES)
    procedure = get_object_or_404(Procedure, pk=pk, site=site)
    form = RetireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.retire_procedure(procedure, request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Procedure retired."))
            return redirect("procedure-list", code=site.code)
    return render(
        request,
        "facility_log/procedures/retire.html",
        {"site": site, "form": form, "procedure": procedure},
    )


def _tick(request, *, alarm=None, incident=None):
    """Record one tick from a posted TickForm; the error (or None) as text."""
    form = TickForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"step": _("Say which step.")})
        svc.tick_step(
            request.user,
            alarm=alarm,
            incident=incident,
            step_number=form.cleaned_data["step"],
            undo=form.cleaned_data["undo"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def _answer(request, error: str | None, target: str, pk: int):
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(
            {"error": error} if error else {"ok": True}, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    return redirect(target, pk=pk)


@require_POST
def alarm_tick(request, pk: int):
    """Tick a step of the alarm's procedure (supervisors and managers of its site), from the
    alarm page or the console (JSON)."""
    alarm = get_scoped_or_404(
        Alarm.objects.select_related("site"), request.user, REVIEW_ROLES, pk=pk
    )
    return _answer(request, _tick(request, alarm=alarm), "access-alarm-page", alarm.pk)


@require_POST
def incident_tick(request, pk: int):
    """Tick a step of the incident's procedure (anyone reporting at its site)."""
    incident = get_scoped_or_404(
        Incident.objects.select_related("site"), request.user, REPORT_ROLES, pk=pk
    )
    return _answer(request, _tick(request, incident=incident), "incident-page", incident.pk)
