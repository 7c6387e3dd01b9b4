"""Exports that leave the system: the police package of an incident."""

import tempfile

from django.http import FileResponse
from django.shortcuts import render

from facility_log.forms.exports import PolicePackageForm
from facility_log.models.incidents import Incident
from facility_log.scoping import REVIEW_ROLES, get_scoped_or_404
from facility_log.services.incident_package import write_incident_package
from facility_log.services.packages import CHUNK_BYTES


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
    """Build the zip in a temporary file and stream it: memory stays flat however large the
    attachments. The file has no name on disk and goes when the response is closed (sent, or
    the client gone); if building fails, it goes at once."""
    package = tempfile.TemporaryFile(prefix="police-package-")  # noqa: SIM115 (the response closes it)
    try:
        write_incident_package(
            incident,
            request.user,
            package,
            recipient=cleaned["recipient"],
            reason=cleaned["reason"],
            case_number=cleaned["case_number"],
            redact=cleaned["redact"],
        )
    except BaseException:
        package.close()
        raise
    # FileResponse sets Content-Length from the file and closes it when the response closes.
    name = f"{incident.number}.zip"
    response = FileResponse(
        package, as_attachment=True, filename=name, content_type="application/zip"
    )
    # gunicorn hands the file to sendfile(); servers that iterate read it 1 MB at a time.
    response.block_size = CHUNK_BYTES
    response["X-Content-Type-Options"] = "nosniff"
    # Evidence must not linger in a proxy's or browser's cache.
    response["Cache-Control"] = "no-store"
    return response
