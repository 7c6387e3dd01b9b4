"""Forms of the door set-up pages: a door in a zone, and the ids door systems use for it."""

from django import forms

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Site, SourceFormat, Zone


class DoorForm(ReasonFormMixin, forms.Form):
    zone = forms.ModelChoiceField(label="Zone", queryset=Zone.objects.none())
    code = forms.RegexField(
        label="Door code",
        max_length=64,
        regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
        help_text="How files and people name it, e.g. D-MAIN (letters, digits, . _ -).",
    )
    name = forms.CharField(label="Name", max_length=200)

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(site=site, is_active=True)


class DoorExternalIdForm(ReasonFormMixin, forms.Form):
    source = forms.ChoiceField(
        label="Door system",
        choices=[c for c in SourceFormat.choices if c[0] != SourceFormat.GENERIC],
    )
    external_id = forms.CharField(
        label="The system's id for this door",
        max_length=128,
        help_text="As the system sends it in its events (a Kisi lock id, a Gallagher door id).",
    )
