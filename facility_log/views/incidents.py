"""Incident pages: report on a tablet, the incident with its timeline and history, the
review queue, the list with filters and CSV export, and attachment downloads."""

import functools
from datetime import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from facility_log.forms import incidents as forms
from facility_log.forms.base import add_service_errors
from facility_log.models import (
    Attachment,
    Category,
    Incident,
    Membership,
    Review,
    Scan,
    Site,
    Zone,
)
from facility_log.models.incidents import Status
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    get_scoped_or_404,
    roles_at,
    sites_for,
)
from facility_log.services import history, links, procedures, retention, view_log
from facility_log.services import incidents as svc
from facility_log.services.downloads import serve_attachment
from facility_log.services.history import HistoryEntry
from facility_log.templatetags.facility_log_tags import site_time

User = get_user_model()

PAGE_SIZE = 50


def _incident(request, pk: int, roles=VIEW_ROLES) -> Incident:
    return get_scoped_or_404(
        Incident.objects.select_related("site", "zone", "category", "author"),
        request.user,
        roles,
        pk=pk,
    )


# --- reporting ----------------------------------------------------------------------------


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


# --- the incident page --------------------------------------------------------------------


def incident_detail(request, pk: int):
    """The incident, who and what was involved, attachments, a timeline and the actions the
    viewer may take now."""
    incident = _incident(request, pk)
    roles = _roles(request.user, incident)
    view_log.incident_read(request.user, incident, view_log.Via.PAGE)
    return render(
        request,
        "facility_log/incidents/detail.html",
        {
            "incident": incident,
            "persons": incident.persons.all(),
            "vehicles": incident.vehicles.all(),
            "property_items": incident.property_items.all(),
            "attachments": incident.attachments.all(),
            "timeline": svc.incident_timeline(incident),
            "surroundings": links.incident_surroundings(incident),
            "sources": incident.sources.all(),
            "returned_because": _returned_because(incident),
            "legal_hold": retention.active_hold(incident),
            "can": _abilities(request.user, incident, roles),
            "add_forms": [
                ("persons", _("Add a person"), forms.PersonForm(prefix="persons")),
                ("vehicles", _("Add a vehicle"), forms.VehicleForm(prefix="vehicles")),
                ("property", _("Add property"), forms.PropertyItemForm(prefix="property")),
            ],
            # One page, several forms: distinct ids keep every label tied to its own input.
            "supplement_form": forms.SupplementForm(auto_id="supplement_%s"),
            "attachment_form": forms.AttachmentForm(auto_id="attach_%s", incident=incident),
            "correctable": correctable_fields(incident),
            "checklist": procedures.incident_checklist(incident),
        },
    )


def _returned_because(incident: Incident) -> Review | None:
    """What the reviewer asked for, shown to the author while the incident is returned."""
    if incident.status != Status.RETURNED:
        return None
    return incident.reviews.filter(decision="returned").select_related("reviewer").last()


def _roles(user, incident) -> dict:
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


def correctable_fields(incident: Incident) -> list[tuple[str, str, object]]:
    """(name, label, current value) of each field a correction may change, in form order."""
    return [
        (name, Incident._meta.get_field(name).verbose_name, getattr(incident, name))
        for name in forms.IncidentForm.Meta.fields
        if name in svc.CORRECTABLE_FIELDS
    ]


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


# --- history ------------------------------------------------------------------------------


def incident_history(request, pk: int):
    """Every change, field by field, with who, when and why; supplements, reviews and
    attachments as the records they are."""
    incident = _incident(request, pk)
    view_log.incident_read(request.user, incident, view_log.Via.HISTORY)
    rows = history.incident_history(incident)
    _make_readable(rows, incident.site)
    return render(
        request, "facility_log/incidents/history.html", {"incident": incident, "rows": rows}
    )


def _make_readable(rows: list[HistoryEntry], site: Site) -> None:
    """Names instead of ids for zone, category, site and author (one query per kind), and
    times in the site's zone."""
    names = {
        "zone": dict(Zone.objects.filter(site=site).values_list("pk", "name")),
        "category": dict(Category.objects.values_list("pk", "name")),
        "site": {site.pk: site.code},
        "incident": {},
    }
    users = {c.new for r in rows for c in r.changes if c.field == "author"}
    names["author"] = dict(User.objects.filter(pk__in=users).values_list("pk", "username"))
    for row in rows:
        for change in row.changes:
            change.old = _readable(change.field, change.old, names, site)
            change.new = _readable(change.field, change.new, names, site)


def _readable(field: str, value, names: dict, site: Site):
    if isinstance(value, datetime):
        return site_time(value, site)
    return names.get(field, {}).get(value, value)


# --- attachments --------------------------------------------------------------------------


def attachment_download(request, pk: int):
    """The stored bytes, only to members of the incident's site, always as a download."""
    attachment = get_scoped_or_404(
        Attachment.objects.select_related("incident__site"),
        request.user,
        VIEW_ROLES,
        site_field="incident__site",
        pk=pk,
    )
    return serve_attachment(request.user, attachment)
