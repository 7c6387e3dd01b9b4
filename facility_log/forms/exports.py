import uuid

from django import forms
from django.utils.translation import gettext_lazy as _


class PolicePackageForm(forms.Form):
    """Who receives the police package and why. `export_key` is made when the form is shown:
    a second submission of the same form shows the export already made instead of disclosing
    the incident a second time."""

    export_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)
    recipient = forms.CharField(
        label=_("Recipient (agency or organisation)"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    case_number = forms.CharField(label=_("Their case number"), max_length=100, required=False)
    reason = forms.CharField(
        label=_("Why it is disclosed"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    redact = forms.BooleanField(
        label=_("Leave out contact details and statements of named persons"),
        required=False,
        help_text=_("The package says what was left out; the withheld rows still verify."),
    )
