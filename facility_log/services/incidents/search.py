"""Which incidents a user may see, the list filters and full-text search, the review queue."""

from datetime import date, datetime, time

from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from facility_log.models import Incident
from facility_log.models.incidents import Status
from facility_log.scoping import REVIEW_ROLES, VIEW_ROLES, scoped, scoped_to_ids


def visible_incidents(user, roles=VIEW_ROLES) -> QuerySet[Incident]:
    """The incidents of the sites where `user` holds one of `roles`, ready for a list."""
    return scoped(
        Incident.objects.select_related("site", "zone", "category", "author"), user, roles
    )


def search_incidents(user, filters: dict) -> QuerySet[Incident]:
    """Visible incidents narrowed by the list filters: site (code), status, severity,
    category (id), date_from / date_to (dates, on `occurred_from`; local days of `tz` when
    given, as the list does for a chosen site) and text (number, title,
    narrative, location). Persons are deliberately not searchable across incidents."""
    qs = visible_incidents(user)
    if filters.get("site"):
        qs = qs.filter(site__code=filters["site"])
    return filtered_incidents(qs, filter_values(filters))


# The list filters but `site` (the sites are the list's scoping), each with its lookup: the
# names of filter_values' keys, and of the slots of the list page's compiled read
# (views/incident_lists.py), which applies them with filtered_incidents as the ORM path does.
FILTER_LOOKUPS = {
    "status": "status",
    "severity": "severity",
    "category": "category_id",
    "date_from": "occurred_from__gte",
    "date_to": "occurred_from__lt",
    "text": "search_text__icontains",
}


def filter_values(filters: dict) -> dict:
    """The values of the filters (FILTER_LOOKUPS' names) that narrow the list: the dates as
    the times their local days start and end."""
    values = {name: filters[name] for name in FILTER_LOOKUPS if filters.get(name)}
    zone = filters.get("tz")
    if "date_from" in values:
        values["date_from"] = _day_start(values["date_from"], zone=zone)
    if "date_to" in values:
        values["date_to"] = _day_start(values["date_to"], next_day=True, zone=zone)
    return values


def filtered_incidents(qs: QuerySet, values: dict) -> QuerySet:
    """`qs` narrowed by `values` (filter_values' dict: only the filters it names)."""
    for name, value in values.items():
        if name == "text":
            qs = qs.alias(search_text=search_document())
        qs = qs.filter(**{FILTER_LOOKUPS[name]: value})
    return qs


# What the text search looks in, in this order (migration 0011 indexes the same expression).
SEARCHED_FIELDS = ("number", "title", "location_text", "narrative")


def search_document() -> Concat:
    """An incident's number, title, location and narrative as one text: what the search
    looks in, case-insensitively, for any part of a word (`icontains`).

    On PostgreSQL a trigram index (pg_trgm, migration 0011) holds exactly this expression
    upper-cased, so `UPPER(...) LIKE UPPER('%word%')` is answered from the index instead of
    reading every incident; on SQLite it is a plain LIKE over the same text. Change it only
    together with a migration that rebuilds the index (tests/services/test_incident_search.py
    checks that PostgreSQL uses it)."""
    parts = []
    for name in SEARCHED_FIELDS:
        parts += [F(name), Value(" ")]
    return Concat(*parts[:-1], output_field=TextField())


def _day_start(day: date, next_day: bool = False, zone=None) -> datetime:
    """Midnight starting `day` in `zone` (a site's, from the list's filter form), else in the
    current time zone (UTC)."""
    if next_day:
        day = date.fromordinal(day.toordinal() + 1)
    zone = zone or timezone.get_current_timezone()
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def review_queue(user, site_ids: list[int] | None = None) -> QuerySet[Incident]:
    """Submitted incidents waiting for a review at the sites where `user` reviews, oldest
    submission first. Pass `site_ids` (scoping.site_id_list with REVIEW_ROLES) to narrow to
    that literal list, which lets a keyset page walk each site's index (the review queue page);
    without it the queryset is scoped by the usual subquery."""
    if site_ids is None:
        incidents = visible_incidents(user, REVIEW_ROLES)
    else:
        incidents = scoped_to_ids(
            Incident.objects.select_related("site", "category", "author"), site_ids
        )
    return incidents.filter(status=Status.SUBMITTED, submitted_at__isnull=False).order_by(
        "submitted_at", "id"
    )
