"""Error pages: JSON under /api/, so an integration never has to parse HTML."""

import sys

from django.http import JsonResponse
from django.views import defaults

from facility_log.outage import is_outage, outage_response


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Called while the exception is being handled: a database outage raised outside a view
    # (reading the session or the user) is a 503 "try again", like one inside a view.
    if is_outage(sys.exc_info()[1]):
        return outage_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Server error; the request id is in X-Request-ID."}, status=500
        )
    return defaults.server_error(request)
