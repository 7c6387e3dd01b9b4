"""Handing files to a reader, for the page and the API alike: a stored attachment's bytes,
and an incident's police package.

The read (or the disclosure) is written before any byte is sent, so no download goes
unrecorded (and a missing file is a 404 that logs nothing); the response is always a
download, never rendered inline, and sandboxed."""

import tempfile

from django.contrib.auth.models import AbstractBaseUser
from django.http import FileResponse, Http404

from facility_log.models import Attachment, Incident
from facility_log.services import view_log
from facility_log.services.incident_package import write_incident_package
from facility_log.services.packages import CHUNK_BYTES


def serve_attachment(viewer: AbstractBaseUser, attachment: Attachment) -> FileResponse:
    """The stored bytes of `attachment` as a download, logged as read by `viewer`. Pass one
    fetched with `select_related("incident__site")` after the viewer's role was checked."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The stored file is missing.") from error
    try:
        view_log.attachment_read(viewer, attachment)
    except BaseException:
        handle.close()
        raise
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def serve_police_package(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    recipient: str,
    reason: str,
    case_number: str = "",
    redact: bool = False,
) -> FileResponse:
    """NUMBER.zip as a download, its disclosure recorded before it is sent (see
    `write_incident_package`, which checks the actor's role and the incident's number).

    The zip is built in a temporary file and streamed: memory stays flat however large the
    attachments. The file has no name on disk and goes when the response is closed (sent, or
    the client gone); if building fails, it goes at once."""
    package = tempfile.TemporaryFile(prefix="police-package-")  # noqa: SIM115 (the response closes it)
    try:
        disclosure = write_incident_package(
            incident,
            actor,
            package,
            recipient=recipient,
            reason=reason,
            case_number=case_number,
            redact=redact,
        )
    except BaseException:
        package.close()
        raise
    # FileResponse sets Content-Length from the file and closes it when the response closes.
    response = FileResponse(
        package,
        as_attachment=True,
        filename=f"{incident.number}.zip",
        content_type="application/zip",
    )
    # gunicorn hands the file to sendfile(); servers that iterate read it 1 MB at a time.
    response.block_size = CHUNK_BYTES
    response["X-Content-Type-Options"] = "nosniff"
    # Evidence must not linger in a proxy's or browser's cache.
    response["Cache-Control"] = "no-store"
    # The page that asked for it says which disclosure it made.
    response.disclosure = disclosure
    return response
