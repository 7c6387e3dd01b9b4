"""Forms of the door set-up pages: a door in a zone, and the ids door systems use for it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Site, SourceFormat, Zone


class DoorForm(ReasonFormMixin, forms.Form):
    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.none())
    code = forms.RegexField(
        label=_("Door code"),
        max_length=64,
        regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
        help_text=_("How files and people name it, e.g. D-MAIN (letters, digits, . _ -)."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(site=site, is_active=True)


class DoorExternalIdForm(ReasonFormMixin, forms.Form):
    source = forms.ChoiceField(
        label=_("Door system"),
        choices=[c for c in SourceFormat.choices if c[0] != SourceFormat.GENERIC],
    )
    external_id = forms.CharField(
        label=_("The system's id for this door"),
        max_length=128,
        help_text=_("As the system sends it in its events (a Kisi lock id, a Gallagher door id)."),
    )


class AlarmRuleForm(ReasonFormMixin, forms.Form):
    """Switch one kind of door event on or off as an alarm, for the site or one door, and say
    when an unacknowledged one escalates."""

    event_type = forms.ChoiceField(label=_("Event type"))
    door = forms.ModelChoiceField(
        label=_("Door"), queryset=None, required=False, empty_label=_("Every door of the site")
    )
    is_active = forms.BooleanField(label=_("Raises an alarm"), required=False, initial=True)
    escalate_after_minutes = forms.IntegerField(
        label=_("Escalate after (minutes) when nobody acknowledges it"),
        min_value=0,
        max_value=1440,
        initial=10,
    )

    def __init__(self, *args, site: Site, **kwargs):
        from facility_log.models import Door, EventType

        super().__init__(*args, **kwargs)
        # A missed check-in is the lone-worker rule's, never a door's.
        self.fields["event_type"].choices = [
            c for c in EventType.choices if c[0] != EventType.MISSED_CHECK_IN
        ]
        self.fields["door"].queryset = Door.objects.filter(site=site, is_active=True)
