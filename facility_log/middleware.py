"""Request-wide concerns: a request id on every change, login (and the second step) required
by default, and the security headers."""

import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpResponseBadRequest, JsonResponse, UnreadablePostError
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from facility_log import signed_in
from facility_log.body_timeout import body_not_received_response
from facility_log.scoping import memberships_read_once
from facility_log.services import two_factor
from facility_log.services.accounts import LANGUAGE_SESSION_KEY
from facility_log.services.audit import request_id_scope

# An id given by a trusted proxy is kept if it looks like one; anything else is replaced.
# fullmatch, not `^…$`: `$` also matches before a trailing newline, which a client could
# smuggle into every history row of its request.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Give each request an id, stamp it on every history row written during the request,
    and return it in the `X-Request-ID` header so a report can be traced to the log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        with request_id_scope(given if _REQUEST_ID.fullmatch(given) else None) as request_id:
            request.request_id = request_id
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class MembershipsOncePerRequestMiddleware:
    """Read each user's memberships once per request (scoping.memberships_read_once): the
    scoping helpers of a page ask for them several times."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with memberships_read_once():
            return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a signed-in user unless its view says `@login_not_required`.

    The API under /api/ is left to Django REST framework, which authenticates tokens as well
    as sessions and answers 401/403 instead of redirecting to the login page; its default
    permission is IsAuthenticated, so it is closed by default too.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RejectNulMiddleware:
    """Refuse input carrying NUL characters (never valid text; PostgreSQL cannot store them)
    with a 400 instead of a database error. Query strings always; bodies when they are JSON or
    form-encoded (uploaded files legitimately contain NUL bytes).

    A view whose class sets `checks_nul_after_signature` (the signed vendor webhooks) is left
    to check the body itself once the signature is verified: an unsigned caller gets the 401
    its schema promises, whatever the body holds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            has_nul = self._has_nul(request)
        except UnreadablePostError:
            return body_not_received_response(request.path_info)
        if has_nul and not self._checked_by_view(request):
            message = "The request contains a NUL character, which is never valid text."
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

    @staticmethod
    def _checked_by_view(request) -> bool:
        # Resolved only when a NUL was found: the usual request pays nothing for it.
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            return False
        return getattr(getattr(view, "view_class", None), "checks_nul_after_signature", False)

    @staticmethod
    def _has_nul(request) -> bool:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        if request.content_type == "application/json":
            return b"\x00" in request.body or b"\\u0000" in request.body
        if request.content_type == "application/x-www-form-urlencoded":
            return b"%00" in request.body or b"\x00" in request.body
        return False


# Pages an unverified user may still open: the second step itself, signing out, and what the
# browser fetches on its own (static files are served before any of this, by WhiteNoise).
_SECOND_STEP_OPEN = ("two-factor-verify", "two-factor-setup", "logout", "tablet-sw")


class TwoFactorRequiredMiddleware:
    """A signed-in supervisor, manager, auditor or staff member who has not passed the second
    step is sent to it (to set up an authenticator first if there is none) before any page.
    The API is left to `VerifiedSessionAuthentication`, which refuses such a session there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or request.path_info.startswith("/api/"):
            return None
        if user.is_verified() or request.resolver_match.url_name in _SECOND_STEP_OPEN:
            return None
        if not two_factor.requires_two_factor(user):
            return None
        step = "two-factor-verify" if two_factor.has_authenticator(user) else "two-factor-setup"
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")


def _never_cached(request, response) -> bool:
    """Incident pages, API answers and CSV exports hold personal data: no browser or proxy
    keeps a copy (a shared tablet's back button, a proxy's cache)."""
    path = request.path_info
    return path.startswith(("/incidents/", "/api/")) or response.get("Content-Type", "").startswith(
        "text/csv"
    )


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response, and `Cache-Control: no-store` on the answers that
    carry personal data (Content-Security-Policy comes from django-csp's middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        # A view that already said no-store (the police package's download) is left as is.
        if _never_cached(request, response) and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response


class UserLanguageMiddleware:
    """Speak the language the signed-in person chose, over the browser's Accept-Language
    (which LocaleMiddleware, just before, has already applied as the default)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The first read of the session: with what it named before, in one round trip.
        signed_in.load_session(request)
        chosen = request.session.get(LANGUAGE_SESSION_KEY)
        if chosen in dict(settings.LANGUAGES):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)
