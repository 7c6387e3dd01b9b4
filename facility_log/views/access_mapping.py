"""The page where a site's managers see the vendor types stored as `other` and map them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from facility_log.forms.access import VendorTypeMapForm
from facility_log.forms.base import add_service_errors
from facility_log.models import Site
from facility_log.scoping import MANAGE_ROLES, get_scoped_or_404, sites_for
from facility_log.services import access_mapping


def vendor_types(request):
    """Unmapped vendor types with their counts, per site the user manages; POST maps one for
    that site's future events (with a reason, kept in the history)."""
    sites = list(sites_for(request.user, MANAGE_ROLES).order_by("code"))
    if not sites:
        raise PermissionDenied("Only a site's managers map vendor types.")
    form = VendorTypeMapForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        site = get_scoped_or_404(
            Site.objects.all(), request.user, MANAGE_ROLES, "", code=data["site"]
        )
        try:
            access_mapping.map_vendor_type(
                site,
                request.user,
                vendor=data["vendor"],
                vendor_type=data["vendor_type"],
                neutral_type=data["neutral_type"],
                denial_reason=data["denial_reason"],
                reason=data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(vendor)s %(vendor_type)r at %(site)s now means %(type)s for new events.")
                % {
                    "vendor": data["vendor"],
                    "vendor_type": data["vendor_type"],
                    "site": site.code,
                    "type": data["neutral_type"],
                },
            )
            return redirect("access-vendor-types")
    rows = access_mapping.unmapped_vendor_types(sites)
    return render(
        request,
        "facility_log/access/vendor_types.html",
        {
            "rows": rows,
            "form": form,
            "neutral_types": form.fields["neutral_type"].choices,
            "denial_reasons": form.fields["denial_reason"].choices,
        },
    )
