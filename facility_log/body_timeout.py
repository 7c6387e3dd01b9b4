"""A request whose body stops arriving fails fast instead of holding a worker.

A client that announces a Content-Length larger than the body it sends (a tablet losing its
signal mid-upload, or someone doing it on purpose) left a gunicorn sync worker blocked in
`recv()` until gunicorn killed it 30 s later, and a handful of such requests took the whole
server. Under gunicorn the connection's socket gets a read timeout
(FACILITY_LOG["BODY_READ_TIMEOUT_SECONDS"], 10 by default: the longest silence between two
packets of one body, not a limit on a slow upload), and a body that times out or ends early is
answered 408 (JSON under /api/), nothing stored. Other servers (runserver, tests) keep their
own behaviour: they expose no socket.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse, UnreadablePostError

DEFAULT_TIMEOUT_SECONDS = 10
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MESSAGE = "The request body stopped arriving before its Content-Length; nothing was stored."


def body_read_timeout() -> float:
    return float(settings.FACILITY_LOG.get("BODY_READ_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def body_not_received_response(path: str) -> HttpResponse:
    """The answer to a body that never fully arrived: 408, so a client retries it."""
    if path.startswith("/api/"):
        return JsonResponse({"detail": MESSAGE}, status=408)
    return HttpResponse(MESSAGE, status=408, content_type="text/plain; charset=utf-8")


class BodyReadTimeoutMiddleware:
    """Give the socket a read timeout while a request with a body is handled (gunicorn puts
    the socket in `environ["gunicorn.socket"]`), and answer a body that did not arrive 408."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sock = request.META.get("gunicorn.socket")
        if sock is None or not request.META.get("CONTENT_LENGTH"):
            return self.get_response(request)
        previous = sock.gettimeout()
        sock.settimeout(body_read_timeout())
        try:
            if (
                request.method == "POST"
                and request.content_type in FORM_TYPES
                and not request.path_info.startswith("/api/")
            ):
                # A page's form is parsed here, where a broken body is a 408, rather than
                # first by the CSRF check (which would call it a CSRF failure); Django parses
                # it once either way and streams files to disk. The API reads its bodies after
                # authentication, and its exception handler answers the same 408.
                try:
                    request.POST  # noqa: B018
                except UnreadablePostError:
                    return body_not_received_response(request.path_info)
            return self.get_response(request)
        finally:
            sock.settimeout(previous)

    def process_exception(self, request, exception):
        # Django wraps a failed read (the timeout, a closed connection) in UnreadablePostError.
        if isinstance(exception, UnreadablePostError):
            return body_not_received_response(request.path_info)
        return None
