"""Forms of the lost-and-found pages: a found item, a handover, a disposal."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin, ShortModelChoiceField
from facility_log.forms.incidents import DATETIME_FORMAT, PHOTO_ACCEPT, DateTimeInput
from facility_log.models import Site, Zone


class FoundItemForm(ReasonFormMixin, forms.Form):
    description = forms.CharField(
        label=_("What was found"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    zone = ShortModelChoiceField(
        label=_("Where (zone)"),
        queryset=Zone.objects.none(),
        required=False,
        empty_label=_("Not known"),
    )
    found_at = forms.DateTimeField(
        label=_("Found at"),
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT],
        help_text=_("In the site's time zone."),
    )
    found_by = forms.CharField(label=_("Found by"), max_length=150)
    storage_location = forms.CharField(label=_("Stored at"), max_length=200)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT, "capture": "environment"}),
    )
    incident_number = forms.CharField(
        label=_("Incident number"),
        max_length=40,
        required=False,
        help_text=_("When the item belongs to an incident of this site, e.g. HQ-2026-0042."),
    )

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(site=site, is_active=True)


class HandOverForm(ReasonFormMixin, forms.Form):
    owner_name = forms.CharField(
        label=_("Owner's name"),
        max_length=150,
        help_text=_("As the owner gives it, for this handover only."),
    )
    owner_confirms = forms.BooleanField(label=_("The owner confirms receipt"), required=False)
