"""Forms of guided procedures: a manager's procedure (steps one per line) and a tick."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ShortModelChoiceField
from facility_log.models import Category, EventType
from facility_log.services.procedures import MAX_STEP_LENGTH, MAX_STEPS


class ProcedureForm(forms.Form):
    """One procedure: for an alarm type or an incident category, the steps one per line."""

    title = forms.CharField(label=_("Title"), max_length=120)
    alarm_type = forms.ChoiceField(
        label=_("For alarms of type"),
        required=False,
        choices=[("", _("— not for an alarm type —")), *EventType.choices],
    )
    category = ShortModelChoiceField(
        label=_("Or for incidents of category"),
        required=False,
        queryset=Category.objects.filter(is_active=True),
        empty_label=_("— not for an incident category —"),
    )
    steps = forms.CharField(
        label=_("Steps, one per line, in order"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("At most %(n)d steps of %(max)d characters each.")
        % {"n": MAX_STEPS, "max": MAX_STEP_LENGTH},
    )
    reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=500,
        help_text=_("Kept in the history with your name and the time."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_steps(self) -> list[str]:
        # Blank lines are spacing, not steps.
        return [line.strip() for line in self.cleaned_data["steps"].splitlines() if line.strip()]


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("Why is this procedure retired?"), max_length=500)


class TickForm(forms.Form):
    """Tick one step (or, `undo`, take the tick back with a reason)."""

    step = forms.IntegerField(label=_("Step"), min_value=1)
    undo = forms.BooleanField(label=_("Take the tick back"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
