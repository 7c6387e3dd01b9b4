"""The guard's tablet: one offline-first page, its service worker and its web app manifest.

The page carries the guard's site data (see services/tablet.py) and the scripts in
static/facility_log/js/tablet/; the service worker keeps a copy of both so the page opens in a
basement with no signal. Everything the guard enters goes to the IndexedDB outbox first and
reaches the server through the API, idempotent on each record's client UUID.
"""

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from facility_log.services.tablet import tablet_bundle
from facility_log.services.work_queues import returned_reports
from facility_log.views.tablet_strings import tablet_strings

# Everything the tablet page loads; the service worker stores these when it installs.
SHELL_ASSETS = (
    "facility_log/css/app.css",
    "facility_log/js/theme.js",
    "facility_log/js/tablet/outbox.js",
    "facility_log/js/tablet/text.js",
    "facility_log/js/tablet/scanner.js",
    "facility_log/js/tablet/round.js",
    "facility_log/js/tablet/incident.js",
    "facility_log/js/tablet/app.js",
    "facility_log/js/tablet/panic.js",
    "facility_log/js/tablet/checkin.js",
    "facility_log/js/tablet/procedure.js",
    "facility_log/js/tablet/post_orders.js",
    "facility_log/js/tablet/visitors.js",
    "facility_log/js/tablet/found_items.js",
    "facility_log/vendor/jsqr/jsQR.js",
    "facility_log/favicon.svg",
    "facility_log/icons/icon-192.png",
    "facility_log/icons/icon-512.png",
)


@require_GET
@cache_control(private=True, no_cache=True)
def tablet_app(request):
    """The guard's screens: shift, log entries, rounds with scanning, incidents; every
    sentence the scripts show comes translated with the page (views/tablet_strings.py)."""
    return render(
        request,
        "facility_log/tablet/app.html",
        {
            "bundle": tablet_bundle(request.user),
            "tablet_strings": tablet_strings(),
            "returned": returned_reports(request.user),
        },
    )


@login_not_required
@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """The service worker script. Public (it holds no data) so the browser can check it for
    updates even when the session has ended; its version changes with the shell's contents,
    which makes browsers install the new one and drop the old cache."""
    assets = [static(path) for path in SHELL_ASSETS]
    body = render(
        request,
        "facility_log/tablet/sw.js",
        {
            "version": _shell_version(),
            "precache": json.dumps([reverse("tablet"), *assets]),
            "tablet_url": json.dumps(reverse("tablet")),
        },
        content_type="text/javascript",
    )
    body["Service-Worker-Allowed"] = reverse("tablet")
    return body


@login_not_required
@require_GET
def manifest(request):
    """The web app manifest that makes the tablet page installable."""
    data = {
        "name": "facility_log — guard tablet",
        "short_name": "Guard log",
        "description": "Shift log, rounds and incident reports that work with no network.",
        "start_url": reverse("tablet"),
        "scope": reverse("tablet"),
        "display": "standalone",
        "orientation": "any",
        "background_color": "#0f1419",
        "theme_color": "#0f1419",
        "icons": [
            {
                "src": static("facility_log/icons/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": static("facility_log/icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
            },
            {"src": static("facility_log/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            # Launchers crop icons to their own shape: this one is painted edge to edge with
            # the mark inside the central safe zone, so nothing is cut off.
            {
                "src": static("facility_log/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


def _shell_version() -> str:
    # In development the files change under a running server; in production they are fixed.
    if settings.DEBUG:
        return _hash_assets()
    return _cached_hash_assets()


@lru_cache(maxsize=1)
def _cached_hash_assets() -> str:
    return _hash_assets()


def _hash_assets() -> str:
    digest = hashlib.sha256()
    for path in SHELL_ASSETS:
        found = finders.find(path)
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
        digest.update(static(path).encode())
    for name in (
        "app.html",
        "round.html",
        "incident.html",
        "sw.js",
        "_post_orders.html",
        "_checkin.html",
        "_procedure.html",
        "_visitors.html",
        "_found_items.html",
    ):
        digest.update(get_template(f"facility_log/tablet/{name}").template.source.encode())
    return digest.hexdigest()[:16]
