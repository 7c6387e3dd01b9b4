"""The route form of the set-up pages: name, order rules and the ordered stops."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Checkpoint, Site

EMPTY_STOP_ROWS = 3


class RouteForm(ReasonFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Route name"), max_length=120)
    must_follow_order = forms.BooleanField(
        label=gettext_lazy("Checkpoints must be scanned in this order"), required=False
    )
    random_order = forms.BooleanField(
        label=gettext_lazy("Shuffle the order for each round (expected minutes stay)"),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StopForm(forms.Form):
    """One stop: the checkpoint and the minutes after the round's start it is due."""

    checkpoint = forms.ModelChoiceField(
        label=gettext_lazy("Checkpoint"), queryset=Checkpoint.objects.none(), required=False
    )
    expected_minutes = forms.IntegerField(
        label=gettext_lazy("Due after (minutes)"), min_value=0, max_value=1440, required=False
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


class ScheduleForm(ReasonFormMixin, forms.Form):
    """A schedule for one of the site's routes, in the site's local wall time."""

    route = forms.ModelChoiceField(label=gettext_lazy("Route"), queryset=None)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("every", "Every N hours between two times"), ("fixed", "At fixed times")],
    )
    start_time = forms.TimeField(
        label=gettext_lazy("From (local time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("Until (local time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=gettext_lazy("Earlier than the start means overnight (22:00 until 06:00)."),
    )
    every_hours = forms.IntegerField(
        label=gettext_lazy("Every (hours)"), min_value=1, max_value=24, required=False
    )
    fixed_times = forms.CharField(
        label=gettext_lazy("Fixed times (local)"),
        required=False,
        help_text=gettext_lazy(
            "For fixed times: HH:MM separated by commas, e.g. 08:00, 14:30, 21:00."
        ),
    )
    grace_minutes = forms.IntegerField(
        label=gettext_lazy("Grace (minutes)"), min_value=0, max_value=720, initial=15
    )

    def __init__(self, *args, site: Site, **kwargs):
        from facility_log.models import Route

        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = Route.objects.filter(site=site, is_active=True)

    def schedule_fields(self) -> dict:
        data = self.cleaned_data
        fields = {"kind": data["kind"], "grace_minutes": data["grace_minutes"]}
        if data["kind"] == "fixed":
            fields["fixed_times"] = [t for t in (data["fixed_times"] or "").split(",") if t.strip()]
        else:
            fields.update(
                start_time=data["start_time"],
                end_time=data["end_time"],
                every_hours=data["every_hours"],
            )
        return fields
