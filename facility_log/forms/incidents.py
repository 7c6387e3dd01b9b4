"""Forms of the incident pages: the tablet report form and the small action forms."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ListedChoices, ShortModelChoiceField
from facility_log.models import (
    Attachment,
    Category,
    Incident,
    InvolvedPerson,
    PropertyItem,
    Site,
    Vehicle,
    Zone,
)
from facility_log.models.incidents import REPORT_FIELDS, Severity, Status
from facility_log.services import incidents as svc
from facility_log.services.times import check_filter_day

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
PHOTO_ACCEPT = "image/*"
ANY_EVIDENCE_ACCEPT = "image/*,video/*,audio/*,application/pdf"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def _datetime_field(label: str, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class ZoneChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Zone) -> str:
        return f"{obj.site.code} / {obj.name}"


class IncidentForm(forms.ModelForm):
    """The report form: defaults are now and the reporter's site; the zone only when the
    reporter's open round says where they are (see `views.incidents`); big controls."""

    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Site"), empty_label=None)
    zone = ZoneChoiceField(
        queryset=Zone.objects.none(),
        label=_("Zone"),
        required=False,
        empty_label=_("Choose the zone (leave empty if not known)"),
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True), label=_("Category"), required=False
    )
    occurred_from = _datetime_field(_("Occurred from"), required=True)
    occurred_to = _datetime_field(_("Occurred until"))
    discovered_at = _datetime_field(_("Discovered at"))
    police_notified_at = _datetime_field(_("Police notified at"))
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)

    class Meta:
        model = Incident
        fields = [
            "site",
            *(name for name in REPORT_FIELDS if name != "reported_at"),
        ]
        labels = {
            "location_text": _("Location"),
            "severity": _("Severity"),
            "title": _("Title"),
            "narrative": _("What happened"),
            "actions_taken": _("Actions taken"),
            "police_notified": _("Police notified"),
            "police_agency": _("Police agency"),
            "police_case_number": _("Police case number"),
            "police_officer": _("Police officer"),
            "threat_channel": _("Threat received by"),
            "threat_words": _("Words used"),
            "threat_target": _("Target of the threat"),
        }
        widgets = {
            "narrative": forms.Textarea(attrs={"rows": 6}),
            "actions_taken": forms.Textarea(attrs={"rows": 3}),
            "threat_words": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["zone"].queryset = Zone.objects.filter(
            site__in=sites, is_active=True
        ).select_related("site")
        self.fields["severity"].choices = Severity.choices
        self.fields["client_uuid"].initial = uuid.uuid4()
        if self.instance.pk:
            # A draft stays at its site; the key identified its creation only.
            del self.fields["site"], self.fields["client_uuid"]

    def incident_fields(self) -> dict:
        skip = {"site", "client_uuid", "version", "reason"}
        return {k: v for k, v in self.cleaned_data.items() if k in self.fields and k not in skip}


class ReportForm(IncidentForm):
    """The new-report form: the incident plus one photo taken with the tablet camera."""

    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("Take a photo with the camera or pick a file."),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT, "capture": "environment"}),
    )

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            try:
                svc.check_upload(photo)
            except ValidationError as error:
                raise ValidationError(error.message_dict["file"]) from error
        return photo

    def incident_fields(self) -> dict:
        fields = super().incident_fields()
        fields.pop("photo", None)
        return fields


class DraftForm(IncidentForm):
    """Editing a draft: the version it was loaded at travels with it (stale edits conflict)."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class PersonForm(forms.ModelForm):
    """A person involved in this incident only."""

    class Meta:
        model = InvolvedPerson
        fields = ["role", "name", "description", "contact", "statement"]
        labels = {
            "role": _("Person's role"),
            "name": _("Name (optional)"),
            "description": _("Person description"),
            "contact": _("Contact"),
            "statement": _("Statement"),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "statement": forms.Textarea(attrs={"rows": 3}),
        }


PersonFormSet = forms.formset_factory(PersonForm, extra=1)


class VehicleForm(forms.ModelForm):
    class Meta:
        model = Vehicle
        fields = ["registration", "make_model", "colour", "description"]
        labels = {
            "registration": _("Registration"),
            "make_model": _("Make and model"),
            "colour": _("Colour"),
            "description": _("Vehicle description"),
        }


class PropertyItemForm(forms.ModelForm):
    class Meta:
        model = PropertyItem
        fields = ["kind", "description", "value"]
        labels = {
            "kind": _("Property"),
            "description": _("Property description"),
            "value": _("Value"),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))


class OptionalCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SupplementForm(forms.Form):
    text = forms.CharField(label=_("Supplement"), widget=forms.Textarea(attrs={"rows": 4}))
    reason = forms.CharField(label=_("Why you add it"), max_length=500)


class AttachmentForm(forms.Form):
    # No `capture` here: it would force the camera and hide recordings and PDFs.
    file = forms.FileField(
        label=_("File"),
        help_text=_("Photo, video, audio or PDF."),
        widget=forms.ClearableFileInput(attrs={"accept": ANY_EVIDENCE_ACCEPT}),
    )
    description = forms.CharField(label=_("What it shows"), max_length=300, required=False)
    redacted_from = ShortModelChoiceField(
        label=_("Redacted copy of"),
        queryset=Attachment.objects.none(),
        required=False,
        empty_label=_("— (an original, not a redacted copy)"),
        help_text=_("The original stays unchanged; the copy points at it."),
    )

    def __init__(
        self,
        *args,
        incident: Incident | None = None,
        attachments: list[Attachment] | None = None,
        **kwargs,
    ):
        """`attachments`: the incident's, already read (the page shows them): the choices
        come from them instead of another query."""
        super().__init__(*args, **kwargs)
        if incident is not None:
            field = self.fields["redacted_from"]
            field.queryset = incident.attachments.filter(redacted_from__isnull=True)
            if attachments is not None:
                field.choices = [("", field.empty_label)] + [
                    (a.pk, field.label_from_instance(a))
                    for a in attachments
                    if a.redacted_from_id is None
                ]


def _correctable_choices():
    return [
        (name, Incident._meta.get_field(name).verbose_name.capitalize())
        for name in sorted(svc.CORRECTABLE_FIELDS)
    ]


class CorrectionForm(forms.Form):
    """Correct one field after submission; the reason goes into the history."""

    field = forms.ChoiceField(label=_("Field to correct"), choices=_correctable_choices)
    value = forms.CharField(
        label=_("Corrected value"),
        required=False,
        help_text="Category or zone by name; times as YYYY-MM-DD HH:MM in site time; severity "
        "as low, medium, high or critical; yes/no fields as true or false.",
    )
    reason = forms.CharField(label=_("Reason for the correction"), max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, site: Site | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site

    def clean(self):
        data = super().clean()
        name = data.get("field")
        if name:
            data["parsed"] = parse_field_value(name, data.get("value", ""), self.site)
        return data


def _related_by_name(model_field, raw: str, site: Site | None):
    """A category or zone named in a correction (by name, or by id)."""
    raw = raw.strip()
    if not raw:
        return None
    options = model_field.related_model.objects.all()
    if model_field.name == "zone" and site is not None:
        options = options.filter(site=site)
    found = options.filter(name__iexact=raw).first()
    if found is None and raw.isdigit():
        found = options.filter(pk=int(raw)).first()
    if found is None:
        raise ValidationError({"value": f"No {model_field.verbose_name} called {raw!r}."})
    return found


def parse_field_value(name: str, raw: str, site: Site | None = None):
    """Turn the text of a correction into the field's value, as the field's own form would."""
    model_field = Incident._meta.get_field(name)
    if model_field.is_relation:
        return _related_by_name(model_field, raw, site)
    if isinstance(model_field, models.DateTimeField):
        form_field = _datetime_field(str(model_field.verbose_name))
    else:
        form_field = model_field.formfield(required=False)
    try:
        return form_field.clean(raw)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from error


class FilterForm(forms.Form):
    """The incident list filters (GET)."""

    site = forms.ChoiceField(label=_("Site"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    severity = forms.ChoiceField(label=_("Severity"), required=False)
    category = ShortModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[check_filter_day],
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[check_filter_day],
    )
    text = forms.CharField(label=_("Search text"), required=False)

    def __init__(self, *args, sites, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *Status.choices]
        self.fields["severity"].choices = [("", _("Any severity")), *Severity.choices]
        self.offer(sites, categories)

    def offer(self, sites, categories=None) -> None:
        """Offer `sites` (the user's, by code) and `categories` (the categories as
        `Category.objects.all()` lists them, read with another read; None: the field reads
        them when it is rendered). A view that reads them in one round trip with its page
        offers them once read: the filters' values do not depend on them unless a site is
        chosen (its code is checked against the sites offered when the form is validated)."""
        self.fields["site"].choices = [("", _("All my sites"))] + [
            (s.code, f"{s.code} – {s.name}") for s in sites
        ]
        # With one site chosen, its dates are that site's local days (the dashboard's links).
        self.zones = {s.code: s.tzinfo for s in sites}
        # What the form shows of the sites and categories (views/incident_filters.py keeps
        # the written fields by it).
        self.shown_sites = tuple((s.code, s.name) for s in sites)
        self.categories = None if categories is None else list(categories)
        if categories is not None:
            field = self.fields["category"]
            field.widget.choices = ListedChoices(field, self.categories)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        if data.get("category"):
            data["category"] = data["category"].pk
        if data.get("site"):
            data["tz"] = self.zones[data["site"]]
        return data


class TypedCorrectionForm(forms.Form):
    """Correct one field after submission with the field's own control: a date and time in
    the site's time, a list of the site's zones, a choice of severities, a yes/no box. The
    current value is filled in; the reason goes into the history."""

    reason = forms.CharField(label=_("Reason for the correction"), max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, incident: Incident, field_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.field_name = field_name
        value_field = _typed_value_field(incident, field_name)
        # The value first, then the reason (the order a person fills them in).
        self.fields = {"value": value_field, **self.fields}
        current = getattr(incident, field_name)
        self.initial.setdefault("value", getattr(current, "pk", current))
        self.initial.setdefault("version", incident.version)


def _typed_value_field(incident: Incident, name: str) -> forms.Field:
    """The form field the report form uses for `name`, optional, labelled for a correction."""
    model_field = Incident._meta.get_field(name)
    label = f"Corrected {model_field.verbose_name}"
    if name == "zone":
        return ZoneChoiceField(
            queryset=incident.site.zones.filter(is_active=True).select_related("site"),
            label=label,
            required=False,
            empty_label=_("— (no zone)"),
        )
    if name == "category":
        return forms.ModelChoiceField(
            queryset=Category.objects.filter(is_active=True), label=label, required=False
        )
    if isinstance(model_field, models.DateTimeField):
        return _datetime_field(label)
    if name == "severity":
        return forms.ChoiceField(label=label, choices=Severity.choices)
    field = model_field.formfield(required=False, label=label)
    if isinstance(field, forms.CharField) and not field.max_length:
        field.widget = forms.Textarea(attrs={"rows": 3})
    return field
