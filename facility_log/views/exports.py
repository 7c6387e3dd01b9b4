"""Exports that leave the system: the police package of an incident."""

from django.http import HttpResponse
from django.shortcuts import render

from facility_log.forms.exports import PolicePackageForm
from facility_log.models.incidents import Incident
from facility_log.scoping import REVIEW_ROLES, get_scoped_or_404
from facility_log.services.incident_package import build_incident_package


def incident_police_package(request, pk: int):
    """Ask who receives it and why, then hand over NUMBER.zip (supervisors and managers).
    Every download is recorded in the disclosure log before it is sent."""
    incident = get_scoped_or_404(
        Incident.objects.select_related("site"), request.user, REVIEW_ROLES, pk=pk
    )
    form = PolicePackageForm(request.POST or None)
    if not incident.number:
        form.add_error(None, "A draft has no number yet; submit it before exporting.")
    elif request.method == "POST" and form.is_valid():
        data, _disclosure = build_incident_package(
            incident,
            request.user,
            recipient=form.cleaned_data["recipient"],
            reason=form.cleaned_data["reason"],
            case_number=form.cleaned_data["case_number"],
            redact=form.cleaned_data["redact"],
        )
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{incident.number}.zip"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
    return render(
        request, "facility_log/incidents/police_package.html", {"incident": incident, "form": form}
    )
