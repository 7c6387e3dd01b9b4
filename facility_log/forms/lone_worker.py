"""The lone-worker rule's form (views/lone_worker.py); the rule itself is checked again by
services/lone_worker.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.services.lone_worker import MAX_GRACE, MAX_INTERVAL, MIN_GRACE, MIN_INTERVAL


class LoneWorkerPolicyForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Ask a guard working alone to check in"),
        required=False,
        help_text=_("Applies while one guard is the only one on duty at the site."),
    )
    interval_minutes = forms.IntegerField(
        label=_("Ask every (minutes)"), min_value=MIN_INTERVAL, max_value=MAX_INTERVAL
    )
    grace_minutes = forms.IntegerField(
        label=_("Grace period (minutes)"),
        min_value=MIN_GRACE,
        max_value=MAX_GRACE,
        help_text=_("After this long past the due time, a missed check-in raises an alarm."),
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=500)
