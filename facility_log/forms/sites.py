from django import forms

from facility_log.forms.base import ReasonFormMixin
from facility_log.models import Site, Zone


class SiteForm(ReasonFormMixin, forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "time_zone", "address", "is_active"]
        labels = {"is_active": "Active"}


class ZoneForm(ReasonFormMixin, forms.ModelForm):
    class Meta:
        model = Zone
        fields = ["name", "description"]

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        # The form is never valid for a zone name the site already has (the service would
        # raise the same, but here it lands on the field).
        self.instance.site = site
