"""Exports that leave the system: the police package of an incident."""

from django.http import FileResponse
from django.shortcuts import render

from facility_log.forms.exports import PolicePackageForm
from facility_log.models.incidents import Incident
from facility_log.scoping import REVIEW_ROLES, get_scoped_or_404
from facility_log.services.downloads import serve_police_package


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
        return _send_package(request, incident, form.cleaned_data)
    return render(
        request, "facility_log/incidents/police_package.html", {"incident": incident, "form": form}
    )


def _send_package(request, incident: Incident, cleaned: dict) -> FileResponse:
    return serve_police_package(
        incident,
        request.user,
        recipient=cleaned["recipient"],
        reason=cleaned["reason"],
        case_number=cleaned["case_number"],
        redact=cleaned["redact"],
    )
