"""Forms of the post order pages and of the desk's shift start."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin, ShortModelChoiceField
from facility_log.models import Site, Zone
from facility_log.models.post_orders import BODY_MAX, TITLE_MAX


class PostOrderForm(forms.Form):
    """A post order's text, zone and one optional file; the reason comes last."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=_("Instructions"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "A blank line starts a new paragraph; a line starting with “- ” is a bullet; "
            "**two stars** around words make them bold. No other formatting is kept."
        ),
    )
    zone = ShortModelChoiceField(
        label=_("Zone (optional)"),
        queryset=Zone.objects.none(),
        required=False,
        empty_label=_("The whole site"),
    )
    attachment = forms.FileField(
        label=_("Attach a PDF or photo (optional)"),
        required=False,
        help_text=_("A plan of the site, a contact sheet; it stays with this version."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = ReasonFormMixin.base_fields["reason"]

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = Zone.objects.filter(site=site, is_active=True).order_by(
            "name"
        )


class StartShiftForm(forms.Form):
    """The desk's shift start: the post orders shown (their version ids) and the guard's
    confirmation of having read them. `client_uuid` makes a double submit start one shift."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    versions = forms.CharField(widget=forms.HiddenInput, required=False)
    read = forms.BooleanField(label=_("I have read these post orders"), required=False)

    def acknowledged(self) -> list[int]:
        """The version ids confirmed: those shown, when the box is ticked; else none."""
        if not self.cleaned_data.get("read"):
            return []
        raw = self.cleaned_data.get("versions") or ""
        return [int(part) for part in raw.split(",") if part.strip().isdigit()]
