"""Forms of the key-control pages: a key, a key set, issuing one, taking one back."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facility_log.forms.base import ReasonFormMixin, ShortModelChoiceField
from facility_log.forms.incidents import DATETIME_FORMAT, DateTimeInput
from facility_log.models import Key, KeySet, Site
from facility_log.services import keys as svc


class KeySetForm(ReasonFormMixin, forms.Form):
    label = forms.CharField(label=_("Set label or number"), max_length=64)
    opens = forms.CharField(label=_("What the set opens"), max_length=300, required=False)


class KeyForm(ReasonFormMixin, forms.Form):
    label = forms.CharField(label=_("Key label or number"), max_length=64)
    opens = forms.CharField(label=_("What the key opens"), max_length=300)
    key_set = ShortModelChoiceField(
        label=_("In the set"),
        queryset=KeySet.objects.none(),
        required=False,
        empty_label=_("No set: issued on its own"),
    )

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_set"].queryset = KeySet.objects.filter(site=site, is_active=True)


class StaffChoiceField(ShortModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class IssueForm(ReasonFormMixin, forms.Form):
    """Issue one key or set: to a staff member, or to a contractor typed for this issue."""

    item = forms.ChoiceField(label=_("Key or key set"))
    holder = StaffChoiceField(
        label=_("Staff member"),
        queryset=None,
        required=False,
        empty_label=_("Not staff: a contractor (type below)"),
    )
    contractor_name = forms.CharField(
        label=_("Contractor's name"),
        max_length=150,
        required=False,
        help_text=_("As they give it, for this issue only."),
    )
    contractor_company = forms.CharField(
        label=_("Contractor's company"), max_length=150, required=False
    )
    expected_return_at = forms.DateTimeField(
        label=_("Expected back by"),
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        help_text=_("In the site's time zone."),
    )

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = svc.staff_for_keys(site)
        sets = KeySet.objects.filter(site=site, is_active=True).order_by("label")
        keys = Key.objects.filter(site=site, is_active=True, key_set__isnull=True)
        self.fields["item"].choices = [
            (
                _("Keys"),
                [(f"key-{k.pk}", f"{k.label} – {k.opens}") for k in keys.order_by("label")],
            ),
            (_("Key sets"), [(f"set-{s.pk}", f"{s.label} – {s.opens}") for s in sets]),
        ]
        self._site = site

    def chosen(self) -> dict:
        """The key or set chosen, as the service's keyword arguments."""
        kind, _sep, pk = self.cleaned_data["item"].partition("-")
        if kind == "key":
            return {"key": Key.objects.get(site=self._site, pk=int(pk))}
        return {"key_set": KeySet.objects.get(site=self._site, pk=int(pk))}
