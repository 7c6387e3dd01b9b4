"""The related records of one incident, as the detail endpoint sends them, read by queries
compiled once per process (services/precompiled.py).

The detail reads six kinds of related rows (persons, vehicles, property, statements and
photos with their authors, reviews with their reviewers). Through `prefetch_related` Django
builds and compiles each of those six queries on every request, which costs more Python time
than the database takes to answer them. Their shape never changes, only the incident's id:
here each is compiled once, run with the id, and its rows put where `prefetch_related` puts
them, so the serializer reads them exactly as it read the prefetched ones (same querysets,
same default ordering, same rows). On PostgreSQL the incident and its six kinds of rows go
in one round trip (`visible_with_related`: each kind read only when the caller may see the
incident) with the next id of the view log's sequence, which lets the read's view-log row go
with its ledger entry in one more (`view_log.read_with_next_id`, as the incident page sends
its reads). The incident itself is read the same way
(`visible_incident`): the queryset `get_object` reads, scoped by `scoping.scoped`, compiled
once with the caller's id and the incident's in slots.
"""

import re

from django.contrib.auth import get_user_model

from facility_log.models import (
    Attachment,
    Incident,
    InvolvedPerson,
    PropertyItem,
    Review,
    Supplement,
    Vehicle,
)
from facility_log.scoping import VIEW_ROLES, can_act, is_unrestricted, scoped
from facility_log.services import read_together, view_log
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

# An id no incident has: where the compiled SQL takes the real one.
_INCIDENT = {"incident": Slot(-7_700_000_000_000_000_001, Incident._meta.pk)}


def _related(manager_queryset):
    return PreparedQuery(
        lambda _key, incident: manager_queryset().filter(incident_id=incident), _INCIDENT
    )


# The related name and the query of each kind, as IncidentViewSet prefetched them.
RELATED = {
    "persons": _related(lambda: InvolvedPerson._default_manager.all()),
    "vehicles": _related(lambda: Vehicle._default_manager.all()),
    "property_items": _related(lambda: PropertyItem._default_manager.all()),
    "supplements": _related(lambda: Supplement._default_manager.select_related("author")),
    "attachments": _related(lambda: Attachment._default_manager.select_related("uploaded_by")),
    "reviews": _related(lambda: Review._default_manager.select_related("reviewer")),
}


def read_related(incident: Incident) -> int | None:
    """Fill `incident`'s prefetch cache with its related rows (one precompiled query per
    kind, all six in one round trip on PostgreSQL, with the view log's next id);
    `incident.persons.all()` and the like then answer from it, as after `prefetch_related`.
    Returns the id taken for the read's view-log row (`view_log.record_view`'s `pk`), None
    where none was taken (SQLite)."""
    using = incident._state.db or "default"
    statements = {
        name: query.statement("detail", using=using, incident=incident.pk)
        for name, query in RELATED.items()
    }
    fetched, view_pk = view_log.read_with_next_id(statements, using)
    _fill(incident, statements, fetched, using)
    return view_pk


def _fill(incident: Incident, statements: dict, fetched: dict, using: str) -> None:
    """Put the rows of the related statements (by name as in RELATED) in `incident`'s
    prefetch cache, as `prefetch_related` puts them."""
    cache = incident.__dict__.setdefault("_prefetched_objects_cache", {})
    for name in RELATED:
        rows = PrecompiledQuery.instances_of(statements[name][0], fetched[name], using)
        manager = getattr(incident, name)
        for row in rows:
            # As prefetch_related does: each row's incident is this one, not read again.
            setattr(row, manager.field.name, incident)
        queryset = manager.get_queryset()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset


# An incident id as the URL gives it, within what the id column holds; anything else is read
# by the ORM (which answers 404 to it).
_ID = re.compile(r"[0-9]{1,18}")


def _visible(unrestricted: bool, incident, user_id):
    # The caller as scoping sees it: its id (a slot), active, a superuser or not (the key).
    caller = get_user_model()(pk=user_id, is_active=True, is_superuser=unrestricted)
    incidents = Incident.objects.select_related("site", "zone", "category", "author")
    return scoped(incidents, caller, VIEW_ROLES).filter(pk=incident).order_by()[:1]


_VISIBLE = PreparedQuery(
    _visible,
    {
        "incident": Slot(-7_700_000_000_000_000_003, Incident._meta.pk),
        # Within a 32-bit id's range: Django compiles an out-of-range integer to no query.
        "user_id": Slot(-(2**31) + 45, get_user_model()._meta.pk),
    },
)


def _guarded(manager_queryset):
    """A kind of related rows of the incident, read only when the caller may see the
    incident (the condition of `_VISIBLE`, as a subquery): sent together with `_VISIBLE`,
    nothing of an incident the caller may not see is read."""

    def build(unrestricted: bool, incident, user_id=None):
        caller = get_user_model()(pk=user_id, is_active=True, is_superuser=unrestricted)
        visible = scoped(Incident.objects.filter(pk=incident), caller, VIEW_ROLES).values("pk")
        return manager_queryset().filter(incident_id=incident, incident__in=visible)

    return PreparedQuery(build, _VISIBLE._slots)


# RELATED's queries, each guarded by the caller's view of the incident.
GUARDED = {
    "persons": _guarded(lambda: InvolvedPerson._default_manager.all()),
    "vehicles": _guarded(lambda: Vehicle._default_manager.all()),
    "property_items": _guarded(lambda: PropertyItem._default_manager.all()),
    "supplements": _guarded(lambda: Supplement._default_manager.select_related("author")),
    "attachments": _guarded(lambda: Attachment._default_manager.select_related("uploaded_by")),
    "reviews": _guarded(lambda: Review._default_manager.select_related("reviewer")),
}
assert GUARDED.keys() == RELATED.keys()  # noqa: S101 - one list of kinds


def visible_with_related(user, lookup: str, using: str):
    """(True, the incident or None, the view log's next id) with the incident's related rows
    in its prefetch cache (`read_related`), the incident and its rows read in one round trip
    (`_VISIBLE` and GUARDED, with the view log's next id); (False, None, None) where it
    cannot be read so (SQLite, or what `visible_incident` does not read): then the caller
    reads the incident, then its rows. The statements take their snapshots one after
    another, as the reads one by one did."""
    if not read_together.one_trip(using) or not _readable(user, lookup):
        return False, None, None
    unrestricted = is_unrestricted(user)
    values = {"incident": int(lookup)}
    if not unrestricted:
        values["user_id"] = user.pk
    statements = {"incident": _VISIBLE.statement(unrestricted, using=using, **values)}
    statements |= {
        name: query.statement(unrestricted, using=using, **values)
        for name, query in GUARDED.items()
    }
    fetched, view_pk = view_log.read_with_next_id(statements, using)
    found = PrecompiledQuery.instances_of(statements["incident"][0], fetched["incident"], using)
    if not found:
        return True, None, None  # the id taken is left unused (a sequence has gaps anyway)
    _fill(found[0], statements, fetched, using)
    return True, found[0], view_pk


def _readable(user, lookup) -> bool:
    return can_act(user) and isinstance(lookup, str) and bool(_ID.fullmatch(lookup))


def visible_incident(user, lookup: str, using: str):
    """(True, the incident or None) as `svc.visible_incidents(user).get(pk=lookup)` reads
    it, by a query compiled once; (False, None) when it cannot be read so (a caller who may
    not act, an id that is not a plain number): then the caller reads it through the ORM."""
    if not _readable(user, lookup):
        return False, None
    unrestricted = is_unrestricted(user)
    values = {"incident": int(lookup)}
    if not unrestricted:
        values["user_id"] = user.pk
    return True, _VISIBLE.first(unrestricted, using=using, **values)
