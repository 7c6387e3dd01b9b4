from django import forms
from django.core.exceptions import ValidationError


class ReasonFormMixin(forms.Form):
    """Every form that changes a record asks why; the answer goes into the history row."""

    reason = forms.CharField(
        label="Reason for this change",
        max_length=500,
        help_text="Kept in the history with your name and the time.",
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
