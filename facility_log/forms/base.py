from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _


class _PlainQueryChoices(ModelChoiceIterator):
    """The choices read with one ordinary query. Django's own iterator uses
    `QuerySet.iterator()`, which on PostgreSQL opens a server-side cursor (DECLARE, FETCH,
    CLOSE: three round trips) for what is a handful of rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedChoices(ModelChoiceIterator):
    """The choices of a model choice field from objects already read (with another read, in
    one round trip): what `_PlainQueryChoices` gives for a queryset that returns them."""

    def __init__(self, field, objects):
        super().__init__(field)
        self.objects = objects

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.objects:
            yield self.choice(obj)

    def __len__(self):
        return len(self.objects) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.objects)


class ShortModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField over a short list (categories, an incident's attachments)."""

    iterator = _PlainQueryChoices


class ReasonFormMixin(forms.Form):
    """Every form that changes a record asks why; the answer goes into the history row."""

    reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=500,
        help_text=_("Kept in the history with your name and the time."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A rule enforced by a service lands on the form, on the field it names (or on the
    form as a whole when it names none the form has)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
