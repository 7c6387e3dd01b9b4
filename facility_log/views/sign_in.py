"""What a paused sign-in sees (django-axes calls `locked_out`; settings.AXES_LOCKOUT_CALLABLE)."""

import logging

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from django.conf import settings
from django.shortcuts import render

logger = logging.getLogger("facility_log.auth")


def locked_out(request, original_response=None, credentials=None):
    """Answer a refused sign-in (429) with how long it stays paused, and log the refusal."""
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    logger.warning(
        "sign-in refused (paused after too many failures): username=%r address=%s path=%s",
        username,
        get_client_ip_address(request),
        request.path,
    )
    return render(
        request,
        "registration/locked_out.html",
        {"username": username, "minutes": minutes},
        status=429,
    )


def client_address(request) -> str:
    """The address a sign-in came from, for throttling and the log. Behind the TLS proxy it
    is the last X-Forwarded-For entry, the one the proxy itself added: earlier entries are
    whatever the client claimed."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
