"""The API's default permission: signed in, and (for the tablet) the same person who made the
record being sent."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated

TABLET_USER_HEADER = "X-Facility-Log-User"


class SignedInAsTheRecordsAuthor(IsAuthenticated):
    """IsAuthenticated, plus: a request that names the account its record was made under
    (header X-Facility-Log-User, sent by the tablet's outbox) is refused unless that account
    is the one signed in. A tablet left with one guard's unsent records must not send them
    under the next guard's session."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        made_by = request.headers.get(TABLET_USER_HEADER)
        if made_by and made_by != request.user.get_username():
            raise PermissionDenied(
                f"Signed in as {request.user.get_username()}, but this record was made by "
                f"{made_by}: it is sent when {made_by} signs in on this tablet."
            )
        return True
