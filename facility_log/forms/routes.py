"""The route form of the set-up pages: name, order rules and the ordered stops."""

from django import forms
from django.core.exceptions import ValidationError

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Checkpoint, Site

EMPTY_STOP_ROWS = 3


class RouteForm(ReasonFormMixin, forms.Form):
    name = forms.CharField(label="Route name", max_length=120)
    must_follow_order = forms.BooleanField(
        label="Checkpoints must be scanned in this order", required=False
    )
    random_order = forms.BooleanField(
        label="Shuffle the order for each round (expected minutes stay)", required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StopForm(forms.Form):
    """One stop: the checkpoint and the minutes after the round's start it is due."""

    checkpoint = forms.ModelChoiceField(
        label="Checkpoint", queryset=Checkpoint.objects.none(), required=False
    )
    expected_minutes = forms.IntegerField(
        label="Due after (minutes)", min_value=0, max_value=1440, required=False
    )

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkpoint"].queryset = Checkpoint.objects.filter(
            site=site, is_active=True
        ).select_related("zone")
        self.fields["checkpoint"].label_from_instance = lambda c: f"{c.name} ({c.zone.name})"


class BaseStopFormSet(forms.BaseFormSet):
    def stops(self) -> list[tuple[Checkpoint, int]]:
        """The filled-in rows, in the order shown; a row with minutes and no checkpoint is an
        error naming the row."""
        stops = []
        for row, form in enumerate(self.forms, start=1):
            checkpoint = form.cleaned_data.get("checkpoint")
            minutes = form.cleaned_data.get("expected_minutes")
            if checkpoint is None:
                if minutes is not None:
                    raise ValidationError(f"Stop {row}: choose a checkpoint.")
                continue
            stops.append((checkpoint, minutes or 0))
        return stops


StopFormSet = forms.formset_factory(StopForm, formset=BaseStopFormSet, extra=0)


def stop_formset(data, site: Site, stops=()) -> BaseStopFormSet:
    """The stops as rows, plus a few empty rows to add more."""
    initial = [{"checkpoint": c, "expected_minutes": m} for c, m in stops]
    initial += [{} for _ in range(EMPTY_STOP_ROWS)]
    return StopFormSet(data, prefix="stop", initial=initial, form_kwargs={"site": site})
