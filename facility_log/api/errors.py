"""One error shape for the whole API, naming the field and the reason.

Statuses: 400 when the request does not match the schema (a wrong type, a missing field, a
text too long, a value outside an enum, an unknown field); 422 when it matches the schema but
is refused for its content: it names a record that does not exist among the caller's sites (a
zone id, a site code, a route), breaks a rule of the services (an end before its start), or
reuses a `client_uuid` for different content. So a client generated from the schema never
gets a 400 for a request the schema allows, only for one it does not."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from facility_log.body_timeout import body_not_received_response
from facility_log.services.audit import MissingChangeReason

# DRF's code for "a related record with this id/code does not exist" (PrimaryKeyRelatedField,
# SlugRelatedField and the API's own reachable-record fields), and the strict time field's for
# a valid RFC 3339 date-time no clock shows (api/fields.py): valid by the schema, refused for
# what it says. "spaces_only": a text of white space only (api/fields.NamedText), valid by
# the schema's minLength, empty once trimmed.
UNKNOWN_RECORD_CODES = frozenset({"does_not_exist", "implausible_time", "spaces_only"})


class Unprocessable(exceptions.ValidationError):
    """A request the schema allows that cannot be done as sent (422), naming the field."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


def _codes(detail):
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _codes(value)
    elif isinstance(detail, list):
        for value in detail:
            yield from _codes(value)
    else:
        yield getattr(detail, "code", None)


def refused_for_content(detail) -> bool:
    """Whether every error in a serializer's `detail` is one the schema cannot state (a
    record that does not exist, a time no clock shows, a text of spaces only): a 422, not a
    400."""
    return set(_codes(detail)) <= UNKNOWN_RECORD_CODES


def exception_handler(exc, context):
    """Turn the services' Django exceptions into DRF ones, so a rule broken inside a service
    reaches the client as a 422/403 that names the field, not a 500; a body whose only faults
    are records that do not exist is a 422 too."""
    if isinstance(exc, DjangoValidationError):
        # A service's rule (an end before its start, a category needed to submit): the
        # request matched the schema, so it is refused for its content.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = Unprocessable(detail)
    elif isinstance(exc, UnreadablePostError):
        # The body stopped arriving (facility_log/body_timeout.py): a 408 the client retries.
        return body_not_received_response(context["request"].path_info)
    elif isinstance(exc, MissingChangeReason):
        # Every change is made with a reason: a body without one (a PATCH may leave any
        # field out) is refused naming it.
        exc = Unprocessable({"reason": "Say why this change is made; it is kept in the history."})
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and isinstance(exc, exceptions.ValidationError)
        and refused_for_content(exc.detail)
    ):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    return response
