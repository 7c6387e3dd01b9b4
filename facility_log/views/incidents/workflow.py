"""Moving an incident on (submit, return, approve, close, void) and the additions after
submission: supplements, corrections and attachments."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from facility_log.forms import incidents as forms
from facility_log.forms.base import add_service_errors
from facility_log.models import Incident
from facility_log.scoping import REPORT_ROLES
from facility_log.services import incidents as svc
from facility_log.views.incidents.common import (
    _abilities,
    _activate_site_time,
    _in_site_time,
    _incident,
    _post_action,
    _roles,
)

TRANSITIONS = {
    "submit": (forms.OptionalCommentForm, gettext_lazy("Submit for review")),
    "return": (forms.CommentForm, gettext_lazy("Return to the author")),
    "approve": (forms.OptionalCommentForm, gettext_lazy("Approve")),
    "close": (forms.ReasonForm, gettext_lazy("Close")),
    "void": (forms.ReasonForm, gettext_lazy("Void this incident")),
}


def incident_transition(request, pk: int, action: str):
    """Submit, return, approve, close or void. GET asks for confirmation (and the comment or
    reason); POST does it."""
    if action not in TRANSITIONS:
        raise Http404("No such action.")
    incident = _incident(request, pk)
    form_class, label = TRANSITIONS[action]
    form = form_class(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            _run_transition(request.user, incident, action, form.cleaned_data)
            messages.success(request, _("%(action)s: done.") % {"action": label})
            return redirect("incident-page", pk=incident.pk)
        except svc.StateConflict as error:
            # Usually someone else acted first (two supervisors approving at once): say what
            # the incident is now and show it, rather than a form error on a stale page.
            messages.error(
                request,
                _(
                    "Not done: %(label)s is %(status)s now (someone may have acted on it just "
                    "before you). %(why)s"
                )
                % {
                    "label": incident.label,
                    "status": error.current.get_status_display().lower(),
                    "why": error.messages[0],
                },
            )
            return redirect("incident-page", pk=incident.pk)
        except ValidationError as error:
            add_service_errors(form, error)
    return render(
        request,
        "facility_log/incidents/confirm.html",
        {"incident": incident, "form": form, "label": label, "action": action},
    )


def _run_transition(user, incident, action: str, data: dict) -> Incident:
    if action == "submit":
        reason = data.get("comment") or "submitted for review"
        return svc.submit_incident(incident, user, reason=reason)
    if action == "return":
        return svc.return_incident(incident, user, comment=data["comment"])
    if action == "approve":
        return svc.approve_incident(incident, user, comment=data.get("comment", ""))
    if action == "close":
        return svc.close_incident(incident, user, reason=data["reason"])
    return svc.void_incident(incident, user, reason=data["reason"])


@require_POST
def incident_supplement(request, pk: int):
    incident = _incident(request, pk, REPORT_ROLES)
    return _post_action(
        request,
        incident,
        forms.SupplementForm(request.POST),
        lambda d: svc.add_supplement(incident, request.user, text=d["text"], reason=d["reason"]),
        _("Supplement added."),
        "supplement",
    )


@require_POST
@_in_site_time
def incident_correct(request, pk: int):
    incident = _incident(request, pk, REPORT_ROLES)
    _activate_site_time(incident.site)
    return _post_action(
        request,
        incident,
        forms.CorrectionForm(request.POST, site=incident.site),
        lambda d: svc.correct_field(
            incident,
            request.user,
            field=d["field"],
            value=d["parsed"],
            reason=d["reason"],
            expected_version=d["version"],
        ),
        "Correction recorded.",
        "correct",
    )


@_in_site_time
def incident_correct_field(request, pk: int, field: str):
    """Correct one field with its own control (times typed in the site's time), a reason
    required; a stale version is refused with both versions named."""
    incident = _incident(request, pk, REPORT_ROLES)
    if field not in svc.CORRECTABLE_FIELDS:
        raise Http404("That field cannot be corrected.")
    if not _abilities(request.user, incident, _roles(request.user, incident))["correct"]:
        raise PermissionDenied("Only the author or a reviewer corrects a submitted incident.")
    _activate_site_time(incident.site)
    form = forms.TypedCorrectionForm(request.POST or None, incident=incident, field_name=field)
    if request.method == "POST" and form.is_valid():
        try:
            svc.correct_field(
                incident,
                request.user,
                field=field,
                value=form.cleaned_data["value"],
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except svc.EditConflict as error:
            form.add_error(None, f"{error} Look at the incident again before correcting.")
        else:
            messages.success(request, _("Correction recorded."))
            return redirect("incident-page", pk=incident.pk)
    label = Incident._meta.get_field(field).verbose_name
    return render(
        request,
        "facility_log/incidents/correct.html",
        {"incident": incident, "form": form, "field_label": label},
    )


@require_POST
def incident_attach(request, pk: int):
    incident = _incident(request, pk, REPORT_ROLES)
    return _post_action(
        request,
        incident,
        forms.AttachmentForm(request.POST, request.FILES, incident=incident),
        lambda d: svc.add_attachment(
            incident,
            request.user,
            upload=d["file"],
            description=d["description"],
            redacted_from=d["redacted_from"],
        ),
        _("Attachment stored."),
        "attach",
    )
