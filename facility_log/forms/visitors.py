from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.models import Visitor


class VisitorSignInForm(forms.ModelForm):
    """A visitor signed in on today's sheet: name and host required, company and badge not."""

    class Meta:
        model = Visitor
        fields = ["name", "company", "host", "badge_number"]
        labels = {
            "name": _("Visitor's name"),
            "company": _("Company"),
            "host": _("Host (whom they visit)"),
            "badge_number": _("Badge number"),
        }
        help_texts = {"host": ""}
        widgets = {
            field: forms.TextInput(attrs={"autocomplete": "off"})
            for field in ["name", "company", "host", "badge_number"]
        }
