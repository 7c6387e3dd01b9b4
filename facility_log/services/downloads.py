"""Handing a stored attachment's bytes to a reader, for the page and the API alike.

The read is written to the view log before any byte is sent, so no download goes
unrecorded (and a missing file is a 404 that logs nothing); the response is always a
download, never rendered inline, and sandboxed."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import FileResponse, Http404

from facility_log.models import Attachment
from facility_log.services import view_log


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
