import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Route, Site, Zone
from facility_log.services.times import check_filter_day


class CheckpointForm(ReasonFormMixin, forms.Form):
    zone = forms.ModelChoiceField(queryset=Zone.objects.none())
    name = forms.CharField(max_length=120)
    instructions = forms.CharField(
        required=False,
        widget=forms.Textarea,
        help_text=_("Shown to the guard when this checkpoint is next."),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(site=site, is_active=True)


class ManualScanForm(forms.Form):
    """A code typed by hand (or, later, filled in by the camera/NFC reader). The client UUID
    is made when the page is drawn, so pressing the button twice stores one scan."""

    code = forms.CharField(
        label=_("Checkpoint code"),
        max_length=40,
        help_text=_("The code printed under the QR label, e.g. ABCD-EFGH-JKLM."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    note = forms.CharField(
        label=_("Note (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photo = forms.FileField(label=_("Photo (optional)"), required=False)


class ClientUuidForm(forms.Form):
    """The hidden client UUID of a scan form, kept apart so it is not drawn as a field."""

    client_uuid = forms.UUIDField()

    @staticmethod
    def fresh() -> str:
        return str(uuid.uuid4())


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        validators=[check_filter_day],
    )
    end = forms.DateField(
        label=_("To"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        validators=[check_filter_day],
    )
    route = forms.ModelChoiceField(
        queryset=Route.objects.none(), required=False, empty_label=_("All routes")
    )
    guard = forms.ChoiceField(required=False, choices=[("", _("All guards"))])

    def __init__(self, *args, site: Site, guards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = Route.objects.filter(site=site)
        self.fields["guard"].choices = [("", _("All guards"))] + [
            (str(user.pk), user.get_full_name() or user.get_username()) for user in guards
        ]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The period ends before it starts.")
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 92:
            self.add_error("end", "At most 93 days at once.")
        return data
