"""The cross-site check pattern: every URL of the project is classified here, and the
outsider (a guard at site C) is sent to each one with site A's objects in it.

When a later issue adds a URL, `test_every_url_is_classified` fails until the URL is added to
one of the three tables below — so no page or endpoint escapes the check.

* SITE_A_OBJECT_URLS: URLs that name one of site A's records. The outsider gets 403/404 for
  GET and for POST, and nothing is written.
* LIST_URLS: URLs that list what the caller may see. The outsider gets 200 with none of site
  A's or B's records in it.
* NOT_SITE_DATA: URLs that carry no site data (sign-in, the API schema).
"""

from collections.abc import Callable

from django.urls import URLPattern, URLResolver, get_resolver

from facility_log.models import Membership
from tests.access.helpers import site_a_alarm
from tests.personas import Personas

SITE_A_OBJECT_URLS: dict[str, Callable[[Personas], dict]] = {
    "site-page": lambda p: {"code": p.site_a.code},
    "site-edit": lambda p: {"code": p.site_a.code},
    "zone-add": lambda p: {"code": p.site_a.code},
    "site-history": lambda p: {"code": p.site_a.code},
    "api-site-detail": lambda p: {"code": p.site_a.code},
    "api-zone-detail": lambda p: {"pk": p.zone_a.pk},
    "api-membership-detail": lambda p: {"pk": _membership_at_a(p)},
    "api-membership-end": lambda p: {"pk": _membership_at_a(p)},
    "access-alarm-page": lambda p: {"pk": site_a_alarm(p).pk},
    "access-alarm-acknowledge": lambda p: {"pk": site_a_alarm(p).pk},
    "access-alarm-resolve": lambda p: {"pk": site_a_alarm(p).pk},
    "access-import-result": lambda p: {"pk": site_a_alarm(p).event.batch_id},
    "api-access-event-detail": lambda p: {"pk": site_a_alarm(p).event_id},
    "api-kisi-webhook": lambda p: {"site_code": p.site_a.code},
}

LIST_URLS: set[str] = {
    "home",
    "api-me",
    "api-site-list",
    "api-zone-list",
    "api-membership-list",
    "access-alarm-console",
    "access-alarm-feed",
    "access-event-list",
    "access-door-list",
    "access-import",
    "api-access-event-list",
}

NOT_SITE_DATA: set[str] = {"login", "logout", "api-schema", "api-docs", "api-root"}


def _membership_at_a(p: Personas) -> int:
    return Membership.objects.get(site=p.site_a, user=p.guard_a).pk


def project_url_names() -> set[str]:
    """Every named URL outside the Django admin (whose own permission checks guard it)."""
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def site_a_secrets(p: Personas) -> list[str]:
    """Strings that only someone who can see site A or B would find in a response."""
    return [p.site_a.code, p.site_a.name, p.zone_a.name, p.site_b.code, p.zone_b.name]
