from django import forms


class ReasonFormMixin(forms.Form):
    """Every form that changes a record asks why; the answer goes into the history row."""

    reason = forms.CharField(
        label="Reason for this change",
        max_length=500,
        help_text="Kept in the history with your name and the time.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
