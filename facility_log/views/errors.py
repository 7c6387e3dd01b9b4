"""Error pages: JSON under /api/, so an integration never has to parse HTML."""

from django.http import JsonResponse
from django.views import defaults


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Server error; the request id is in X-Request-ID."}, status=500
        )
    return defaults.server_error(request)
