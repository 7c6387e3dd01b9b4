"""The related records of one incident, as the detail endpoint sends them, read by queries
compiled once per process (services/precompiled.py).

The detail reads six kinds of related rows (persons, vehicles, property, statements and
photos with their authors, reviews with their reviewers). Through `prefetch_related` Django
builds and compiles each of those six queries on every request, which costs more Python time
than the database takes to answer them. Their shape never changes, only the incident's id:
here each is compiled once, run with the id, and its rows put where `prefetch_related` puts
them, so the serializer reads them exactly as it read the prefetched ones (same querysets,
same default ordering, same rows).
"""

from facility_log.models import (
    Attachment,
    Incident,
    InvolvedPerson,
    PropertyItem,
    Review,
    Supplement,
    Vehicle,
)
from facility_log.services.precompiled import PrecompiledQuery, Slot, all_together

# An id no incident has: where the compiled SQL takes the real one.
_INCIDENT = {"incident": Slot(-7_700_000_000_000_000_001, Incident._meta.pk)}


def _related(manager_queryset):
    return PrecompiledQuery(
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


def load_related(incident: Incident) -> Incident:
    """Fill `incident`'s prefetch cache with its related rows (one precompiled query per
    kind, all six in one round trip on PostgreSQL); `incident.persons.all()` and the like
    then answer from it, as after `prefetch_related`."""
    using = incident._state.db or "default"
    cache = incident.__dict__.setdefault("_prefetched_objects_cache", {})
    reads = [(query, "detail", {"incident": incident.pk}) for query in RELATED.values()]
    for name, rows in zip(RELATED, all_together(reads, using), strict=True):
        manager = getattr(incident, name)
        for row in rows:
            # As prefetch_related does: each row's incident is this one, not read again.
            setattr(row, manager.field.name, incident)
        queryset = manager.get_queryset()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset
    return incident
