"""Forms of the access pages: the event filters, the file upload, vendor type mapping and the
alarm notes."""

import zoneinfo
from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.models import AlarmPriorityLevel, AlarmState, DenialReason, EventType
from facility_log.services.access import CARDHOLDER_NEEDS_SITE
from facility_log.services.access_formats import GUESS_BYTES, READERS, guess_file_format

QUICK_NOTES = [
    "Guard sent to the door",
    "Checked on camera: no threat",
    "Known maintenance work",
    "Controller fault reported",
]


class EventFilterForm(forms.Form):
    """Filters of the event browser. Times are read in the chosen site's zone (UTC without).

    A search by cardholder covers one site: someone with several sites chooses one (PRIVACY.md:
    nothing finds a person's movements across sites)."""

    site = forms.ChoiceField(label=_("Site"), required=False)
    door = forms.CharField(label=_("Door code"), required=False, max_length=64)
    event_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type")), *EventType.choices]
    )
    start = forms.DateTimeField(
        label=_("From (site time)"),
        required=False,
        help_text=_("In the chosen site's time zone (UTC when all sites are shown)."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        label=_("Until (site time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    cardholder = forms.CharField(
        label=_("Cardholder name contains"), required=False, max_length=200
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        self.fields["site"].choices = [("", _("All my sites"))] + [
            (code, f"{code} – {site.name}") for code, site in self.sites.items()
        ]

    def clean(self):
        data = super().clean()
        if data.get("cardholder") and not data.get("site"):
            if len(self.sites) != 1:
                self.add_error("cardholder", CARDHOLDER_NEEDS_SITE)
            else:
                data["site"] = next(iter(self.sites))
        return data

    def local(self, name: str) -> datetime | None:
        """The time given in field `name`, in the chosen site's zone (UTC with no site)."""
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        site = self.sites.get(self.cleaned_data.get("site") or "")
        zone = site.tzinfo if site else zoneinfo.ZoneInfo("UTC")
        return value.replace(tzinfo=None).replace(tzinfo=zone)


GUESS = "guess"


class ImportForm(forms.Form):
    """Upload a file of access events for one site."""

    site = forms.ChoiceField(label=_("Site"))
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[(GUESS, _("Guess from the file")), *((name, name) for name in sorted(READERS))],
        initial=GUESS,
    )
    file = forms.FileField(label=_("File"))
    site_time = forms.BooleanField(
        label=_("Times without an offset are the site's local time"),
        required=False,
        help_text=_("Otherwise a time without an offset or Z refuses the file, naming the line."),
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.code, f"{s.code} – {s.name}") for s in sites]

    def clean(self):
        """With "Guess from the file", read the file's first bytes and choose the format;
        `format_guessed` tells the page to name the choice it made."""
        data = super().clean()
        upload = data.get("file")
        data["format_guessed"] = data.get("file_format") == GUESS
        if data["format_guessed"] and upload is not None:
            head = upload.read(GUESS_BYTES)
            upload.seek(0)
            data["file_format"] = guess_file_format(head, upload.name)
        return data


class VendorTypeMapForm(forms.Form):
    """Map one vendor type for one site's future events, with the reason why."""

    site = forms.ChoiceField(label=_("Site"))
    vendor = forms.CharField(widget=forms.HiddenInput)
    vendor_type = forms.CharField(widget=forms.HiddenInput, max_length=128)
    neutral_type = forms.ChoiceField(
        label=_("Means"),
        choices=[
            c for c in EventType.choices if c[0] not in (EventType.OTHER, EventType.MISSED_CHECK_IN)
        ],
    )
    denial_reason = forms.ChoiceField(
        label=_("Denial reason"), choices=[("", "—"), *DenialReason.choices], required=False
    )
    reason = forms.CharField(label=_("Why (kept in the history)"), max_length=500)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.code, s.code) for s in sites]


class AlarmNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "quick-notes"}),
    )


OPEN_STATES = [(AlarmState.NEW, "New"), (AlarmState.ACKNOWLEDGED, "Acknowledged")]


class ConsoleFilterForm(forms.Form):
    """The alarm console's filters (all optional; a bad value is named, and the list is
    empty). `sites`: the user's, offered by code and name (`site_choices`)."""

    site = forms.ChoiceField(label=_("Site"), required=False)
    door = forms.CharField(label=_("Door code"), required=False, max_length=64)
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type")), *EventType.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Open")), *OPEN_STATES]
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any priority")), *AlarmPriorityLevel.choices],
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", _("All my sites")), *site_choices(sites)]


def site_choices(sites) -> list[tuple[str, str]]:
    """The sites the console's filters offer, as (value, label)."""
    return [(site.code, f"{site.code} – {site.name}") for site in sites]
