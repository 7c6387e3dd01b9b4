from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin
from facility_log.models.retention import MAX_RETENTION_DAYS, RecordKind


class RetentionPeriodForm(ReasonFormMixin, forms.Form):
    """A site's period for one kind of record; the reason goes into the policy's history."""

    kind = forms.ChoiceField(label=_("Kind of record"), choices=RecordKind.choices)
    days = forms.IntegerField(
        label=_("Keep for (days)"),
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        help_text=_("Records older than this are removed by the next purge run."),
    )


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "E.g. the court or police case. Kept in the history with your name and the time."
        ),
    )
