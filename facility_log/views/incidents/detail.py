"""Reading an incident: the detail page, its history and attachment downloads."""

from datetime import datetime

from django.forms import ModelChoiceField
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from facility_log.forms import incidents as forms
from facility_log.models import Attachment, Category, Incident, Review, Site, Zone
from facility_log.models.incidents import Status
from facility_log.scoping import VIEW_ROLES, get_scoped_or_404
from facility_log.services import history, incident_page, incident_page_reads, links, view_log
from facility_log.services import incidents as svc
from facility_log.services.downloads import serve_attachment
from facility_log.services.history import HistoryEntry
from facility_log.services.ledger_held import StoredRowDiffers
from facility_log.templatetags.facility_log_tags import _esc, form_fields, site_time
from facility_log.views.incidents.common import (
    User,
    _abilities,
    _incident,
    _roles,
    correctable_fields,
)

_FIELD_MARK = "field-name-goes-here"

# --- the incident page --------------------------------------------------------------------


def incident_detail(request, pk: int):
    """The incident, who and what was involved, attachments, a timeline and the actions the
    viewer may take now."""
    incident, held, view_pk = incident_page.incident_with_roles_and_view_id(
        request.user, pk, VIEW_ROLES
    )
    if incident.zone_id and incident.zone.site_id == incident.site_id:
        incident.zone.site = incident.site  # as _incident_with_roles: not read a second time
    roles = _roles(request.user, incident, held)
    read = _read_and_log(request.user, incident, view_pk)
    can = _abilities(request.user, incident, roles)
    return render(
        request,
        "facility_log/incidents/detail.html",
        {
            "incident": incident,
            "persons": read.persons,
            "vehicles": read.vehicles,
            "property_items": read.property_items,
            "attachments": read.attachments,
            "timeline": svc.incident_timeline(incident, read.attachments, read.timeline),
            "surroundings": links.incident_surroundings(incident, read.sources, read.surroundings),
            "sources": read.sources,
            "returned_because": _returned_because(incident),
            "legal_hold": read.hold,
            "can": can,
            # Each form only where the page shows it (the template asks `can` the same).
            **_forms(incident, read.attachments, can),
            "correctable": _correctable(incident, can),
            "checklist": read.checklist,
        },
    )


def _read_and_log(user, incident: Incident, view_pk: int | None):
    """Everything else the page shows and its view-log row. On PostgreSQL the reads go in one
    round trip with the row and its ledger entry, committed by it
    (services/incident_page_reads.py, ledger_one_trip.py), the row's id taken with the
    incident; elsewhere (or where the row cannot go so) the row is written after the reads,
    the usual way."""
    via = view_log.Via.PAGE
    log = None
    if view_pk is not None:
        log = view_log.incident_read_statements(user, incident, via, view_pk)
    if log is not None:
        try:
            return incident_page_reads.read_page(incident, log=log)
        except StoredRowDiffers:
            pass  # never expected: rolled back whole; read again, the row the usual way
        view_pk = None
    read = incident_page_reads.read_page(incident)
    view_log.incident_read(user, incident, via, pk=view_pk if view_pk is not None else read.view_pk)
    return read


def _forms(incident: Incident, attachments: list[Attachment], can: dict) -> dict:
    add_forms = []
    if can["edit"]:
        add_forms = [
            ("persons", _("Add a person"), _fixed_form(forms.PersonForm, prefix="persons")),
            ("vehicles", _("Add a vehicle"), _fixed_form(forms.VehicleForm, prefix="vehicles")),
            ("property", _("Add property"), _fixed_form(forms.PropertyItemForm, prefix="property")),
        ]
    # One page, several forms: distinct ids keep every label tied to its own input.
    return {
        "add_forms": add_forms,
        "supplement_form": (
            _fixed_form(forms.SupplementForm, auto_id="supplement_%s")
            if can["supplement"]
            else None
        ),
        "attachment_form": _attachment_form(attachments) if can["attach"] else None,
    }


# The markup of the page's unbound forms that show nothing of the incident or the reader:
# no initial value and no choices read from the database. It then depends on the language
# alone (labels, choices' names), so it is written once per language and form.
_FIXED_FORMS: dict[tuple, SafeString] = {}


def _fixed_form(form_class, **options) -> SafeString:
    """`{% form_fields form %}` of `form_class(**options)`, kept per language when the form
    is fixed (see above); written anew for a form that is not."""
    key = (get_language(), form_class, tuple(sorted(options.items())))
    markup = _FIXED_FORMS.get(key)
    if markup is None:
        form = form_class(**options)
        markup = form_fields(form)
        if _is_fixed(form):
            _FIXED_FORMS[key] = markup
    return markup


def _is_fixed(form) -> bool:
    return (
        not form.is_bound
        and not form.initial
        and all(
            field.initial is None and not isinstance(field, ModelChoiceField)
            for field in form.fields.values()
        )
    )


# The attachment form shows the incident's originals as the choices of "Redacted copy of";
# the rest of its markup depends on the language alone. It is written once per language with
# a stand-in choice, and the originals' options are written where that choice stood.
_MARK_PK = 987654321987654321
_MARK_LABEL = "attachment-label-goes-here"
_ATTACHMENT_FORMS: dict[str | None, tuple[str, str, str]] = {}


def _attachment_form(attachments: list[Attachment]) -> SafeString:
    """`{% form_fields form %}` of `AttachmentForm(auto_id="attach_%s", incident=…,
    attachments=attachments)`, its fixed parts kept per language."""
    parts = _ATTACHMENT_FORMS.get(get_language())
    if parts is None:
        parts = _ATTACHMENT_FORMS[get_language()] = _attachment_form_parts()
    before, option, after = parts
    label = forms.AttachmentForm.base_fields["redacted_from"].label_from_instance
    options = "".join(
        option.replace(str(_MARK_PK), str(int(a.pk)), 1).replace(_MARK_LABEL, _esc(label(a)), 1)
        for a in attachments
        if a.redacted_from_id is None
    )
    return mark_safe(f"{before}{options}{after}")  # noqa: S308 - each label escaped, the rest kept


def _attachment_form_parts() -> tuple[str, str, str]:
    """The form's markup before the originals' options, one option with the stand-in id and
    label (with what separates it from the one before), and the markup after them."""

    def written(count: int) -> str:
        form = forms.AttachmentForm(auto_id="attach_%s")
        field = form.fields["redacted_from"]
        field.choices = [("", field.empty_label)] + [(_MARK_PK, _MARK_LABEL)] * count
        return str(form_fields(form))

    none, one, two = written(0), written(1), written(2)
    shown = f'<option value="{_MARK_PK}">{_MARK_LABEL}</option>'
    after = one[one.index(shown) + len(shown) :]
    before = none[: len(none) - len(after)]
    option = one[len(before) : len(one) - len(after)]
    # Whatever separates the options, two are written as the form writes them.
    if not (none == before + after and two == before + option * 2 + after):
        raise ValueError("the attachment form's options are not written one after another")
    return before, option, after


def _correctable(incident: Incident, can: dict) -> list[tuple[str, str, object, str]]:
    """(name, label, value, URL of its correction form) of each correctable field, where the
    page offers corrections; the URL reversed once, not per field."""
    if not can["correct"]:
        return []
    url = reverse("incident-correct-field", args=[incident.pk, _FIELD_MARK])
    before, _mark, after = url.partition(_FIELD_MARK)
    return [
        (name, label, value, f"{before}{name}{after}")
        for name, label, value in correctable_fields(incident)
    ]


def _returned_because(incident: Incident) -> Review | None:
    """What the reviewer asked for, shown to the author while the incident is returned."""
    if incident.status != Status.RETURNED:
        return None
    return incident.reviews.filter(decision="returned").select_related("reviewer").last()


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
