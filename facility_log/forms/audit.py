"""The auditors' search of the view log."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.models import RecordView
from facility_log.services.times import check_filter_day
from facility_log.services.view_log import ViewLogFilters


class ViewLogSearchForm(forms.Form):
    """Who read what, and when. Days are local days in each record's site's time zone."""

    site = forms.ChoiceField(label=_("Site"), required=False)
    user = forms.CharField(label=_("Read by (username contains)"), required=False, max_length=150)
    record = forms.CharField(
        label=_("Record (number or label contains)"), required=False, max_length=200
    )
    via = forms.ChoiceField(
        label=_("Route"), required=False, choices=[("", _("Any route")), *RecordView.Via.choices]
    )
    day_from = forms.DateField(
        label=_("From (site's day)"),
        required=False,
        help_text=_("A day in the site's time zone, from its midnight."),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[check_filter_day],
    )
    day_to = forms.DateField(
        label=_("Until (site's day, included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[check_filter_day],
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        self.fields["site"].choices = [("", _("All sites I audit"))] + [
            (code, f"{code} – {site.name}") for code, site in self.sites.items()
        ]

    def clean(self):
        data = super().clean()
        first, last = data.get("day_from"), data.get("day_to")
        if first and last and last < first:
            self.add_error("day_to", "The last day is before the first.")
        return data

    def filters(self) -> ViewLogFilters:
        data = self.cleaned_data
        return ViewLogFilters(
            site=self.sites.get(data["site"] or ""),
            user=data["user"].strip(),
            record=data["record"].strip(),
            via=data["via"],
            day_from=data["day_from"],
            day_to=data["day_to"],
        )
