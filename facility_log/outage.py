"""The database gone away (stopped, restarting, unreachable, or too slow): an answer that says
"try again" instead of a server error, so the tablet's outbox and integrations can tell an
outage from a bug and retry by themselves (with the same `client_uuid`, so nothing doubles).

API: `503` with `Retry-After` and a JSON body. Pages: a plain "try again" page, also 503.
Neither touches the database, the session or the templates' context processors.

The database's own timeouts (config/settings.py: DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT)
make a request end here before gunicorn's worker timeout kills it with an HTML page."""

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# SQLite raises OperationalError for programming errors too ("no such table"): only these
# are outages there (a writer holding the lock past the timeout, a file that cannot be opened).
_SQLITE_OUTAGE_WORDS = ("locked", "busy", "unable to open", "disk i/o")


def is_outage(error: BaseException | None) -> bool:
    """True when `error` says the database could not be reached or did not answer in time."""
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    if connection.vendor == "sqlite":
        return any(word in str(error).lower() for word in _SQLITE_OUTAGE_WORDS)
    return True


def outage_response(request) -> HttpResponse:
    retry_after = settings.DATABASE_RETRY_AFTER
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": "The database is unavailable for a moment; nothing was stored. "
                "Send the same request again after Retry-After seconds.",
                "retry_after": retry_after,
            },
            status=503,
        )
    else:
        response = HttpResponse(
            render_to_string("facility_log/unavailable.html", {"retry_after": retry_after}),
            status=503,
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """Turn a view's database outage into the 503 above. Failures outside a view (the session
    or the user read in another middleware) reach the 500 handler, which does the same
    (facility_log/views/errors.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            return outage_response(request)
        return None
