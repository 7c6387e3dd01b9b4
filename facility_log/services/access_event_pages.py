"""The access-event page's reads: its filters, and its keyset page read by statements compiled
once per shape (services/keyset_rows.py).

The event browser pages a million rows by cursor over the user's sites (facility_log/paging.py).
Through the ORM each request built and compiled a union of one part per site and then a read of
the page's rows by id; on PostgreSQL the same rows are read here in one statement compiled once
per shape (how many sites, which filters, which direction), the filters' values in slots. The
site ids are the caller's, from the user's own sites (scoping), put in through
`scoping.scoped_to_ids`; elsewhere (SQLite, more sites or shapes) the caller reads the ORM way.
"""

from datetime import UTC, datetime

from django.db import router
from django.db.models import Exists, OuterRef, QuerySet

from facility_log import paging
from facility_log.models import AccessEvent, Door, EventType, Membership, Site
from facility_log.scoping import (
    MANAGE_ROLES,
    VIEW_ROLES,
    can_act,
    is_unrestricted,
    member_site_ids,
    scoped_to_ids,
)
from facility_log.services.keyset_rows import KeysetStatements, text_slot
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

# What a row of the event page shows, and nothing more (the site comes from the user's own
# list of sites, not from a join); templatetags/access_event_tags.py reads rows in this order.
PAGE_COLUMNS = (
    "id",
    "site_id",
    "door__code",
    "occurred_at",
    "event_type",
    "reason",
    "vendor_type",
    "direction",
    "cardholder",
    "credential_hint",
)


def _sites_query(key, user_id) -> QuerySet:
    """The sites where `user_id` views, by code (services/list_sites.py's read), each with
    `marked`: the user manages it, and `unmapped`: events of a vendor type nothing maps are
    stored there (one probe of the partial index access_event_unmapped per site)."""
    viewing = member_site_ids(user_id, sorted(VIEW_ROLES))
    managing = member_site_ids(user_id, sorted(MANAGE_ROLES)).filter(site_id=OuterRef("pk"))
    unmapped = AccessEvent.objects.filter(site_id=OuterRef("pk"), event_type=EventType.OTHER)
    return (
        Site.objects.filter(pk__in=viewing)
        .annotate(marked=Exists(managing), unmapped=Exists(unmapped.exclude(vendor_type="")))
        .order_by("code")
    )


# Within 32 bits and negative: no user's id.
_SITES = PreparedQuery(
    _sites_query, {"user_id": Slot(-(2**31) + 9_100, Membership._meta.get_field("user"))}
)


def page_sites(user) -> list[Site] | None:
    """The sites the page offers, as `list(scoping.sites_for(user, VIEW_ROLES))` gives them,
    each `marked` where `user` manages it and `unmapped` where the "vendor types to map"
    notice may have rows: in one statement compiled once, instead of the sites, the
    memberships and the notice's counts read apart (nearly always empty). None for a
    superuser (every site) or a user who may not act: then read through scoping."""
    if is_unrestricted(user) or not can_act(user):
        return None
    return _SITES.all(None, using=router.db_for_read(Site), user_id=user.pk)


def event_filters(form) -> dict:
    """The filters of a valid EventFilterForm that narrow the events (the site apart: it
    narrows the list of sites), by name, only those given: door, event_type, cardholder and
    the start and end in the chosen site's zone."""
    data = form.cleaned_data
    values = {
        "door": data["door"],
        "event_type": data["event_type"],
        "cardholder": data["cardholder"],
        "start": form.local("start"),
        "end": form.local("end"),
    }
    return {name: value for name, value in values.items() if value}


def filter_events(events: QuerySet, filters: dict) -> QuerySet:
    """`events` narrowed by `filters` (event_filters' names), the same on both reads."""
    if "door" in filters:
        events = events.filter(door__code=filters["door"])
    if "event_type" in filters:
        events = events.filter(event_type=filters["event_type"])
    if "cardholder" in filters:
        events = events.filter(cardholder__icontains=filters["cardholder"])
    if "start" in filters:
        events = events.filter(occurred_at__gte=filters["start"])
    if "end" in filters:
        events = events.filter(occurred_at__lt=filters["end"])
    return events


def _listed(filters: tuple, site_ids: list, **values) -> QuerySet:
    """The events of `site_ids` narrowed by the named `filters`."""
    events = scoped_to_ids(AccessEvent.objects.all(), site_ids)
    return filter_events(events, {name: values[name] for name in filters})


_FIELD = AccessEvent._meta.get_field
# Sentinels distinct from keyset_rows' own (a time, a text) and from each other.
_PAGES = KeysetStatements(
    AccessEvent,
    "occurred_at",
    _listed,
    {
        "door": Slot("\x1fsentinel door code\x1f", Door._meta.get_field("code")),
        "event_type": Slot("\x1fsentinel event type\x1f", _FIELD("event_type")),
        "start": Slot(datetime(1901, 7, 8, 9, 10, 11, 121_314, tzinfo=UTC), _FIELD("occurred_at")),
        "end": Slot(datetime(1901, 8, 9, 10, 11, 12, 131_415, tzinfo=UTC), _FIELD("occurred_at")),
        **text_slot("cardholder"),
    },
)


def compiled_page(site_ids: list, cursor, filters: dict, size: int) -> paging.KeysetPage | None:
    """The page (rows: tuples in PAGE_COLUMNS order) by the compiled statement, or None where
    it cannot be read so (SQLite, no or too many sites, too many shapes): then the ORM's.
    Raises paging.BadCursor."""
    using = router.db_for_read(AccessEvent)
    if not site_ids or not _PAGES.usable(using, site_ids):
        return None
    return _PAGES.page(
        using, sorted(site_ids), list(PAGE_COLUMNS), cursor=cursor, size=size, filters=filters
    )
