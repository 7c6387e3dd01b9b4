"""The dashboard's period: from/to local days, or a preset."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.services.dashboard.period import MAX_DAYS, PRESETS, Period, preset_period
from facility_log.services.times import check_filter_day


class PeriodForm(forms.Form):
    """From/to dates (each site's local days) or a preset; nothing chosen is the last 30
    days."""

    preset = forms.ChoiceField(
        label=_("Period"), required=False, choices=[("", _("Dates below")), *PRESETS.items()]
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

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if data.get("preset") or (start is None and end is None):
            if not self.errors:
                data["period"] = preset_period(data.get("preset") or "30d", self.today)
            return data
        if start is None:
            self.add_error("date_from", "Give the first day, or choose a period.")
        elif end is None:
            self.add_error("date_to", "Give the last day, or choose a period.")
        elif end < start:
            self.add_error("date_to", "The period ends before it starts.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("date_to", f"At most {MAX_DAYS} days at once.")
        else:
            data["period"] = Period(start, end)
        return data
