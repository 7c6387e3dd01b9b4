"""The incident page's reads of one incident's records, compiled to SQL once per process.

The page reads about a dozen small lists of the incident (persons, vehicles, property,
attachments, sources, the active legal hold; the timeline and the surroundings theirs): each
has the same shape on every request, and Django's building and compiling of it cost more
Python time than the database takes to answer (docs/performance.md). These are the same
querysets (order, select_related) as the ORM reads, run through `PrecompiledQuery`; each row
gets its incident set, as a related manager would have set it.
"""

from datetime import UTC, datetime

from django.db.models import Model

from facility_log.models import (
    Attachment,
    Incident,
    IncidentSource,
    InvolvedPerson,
    Procedure,
    ProcedureTick,
    PropertyItem,
    Vehicle,
)
from facility_log.models.retention import LegalHold
from facility_log.services import view_log
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery
from facility_log.services.scoped_get import ScopedGet

# Sentinels no real value equals (an id within a 32-bit id's range, which Django compiles to
# a parameter; a time long before any record).
ID_SENTINEL = -(2**31) + 47
TIME_SENTINELS = (
    datetime(1900, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(1900, 1, 3, 3, 4, 5, 678901, tzinfo=UTC),
)


def by_incident(model: type[Model], **options) -> PreparedQuery:
    """`model`'s rows of one incident (`incident_id=`), in the model's order (or `order`)."""
    related, order = options.get("select_related", ()), options.get("order")

    def build(key, incident_id):
        rows = model.objects.filter(incident_id=incident_id).select_related(*related)
        return rows.order_by(*order) if order else rows

    return PreparedQuery(
        build, {"incident_id": Slot(ID_SENTINEL, model._meta.get_field("incident"))}
    )


_PERSONS = by_incident(InvolvedPerson)
_VEHICLES = by_incident(Vehicle)
_PROPERTY = by_incident(PropertyItem)
_SOURCES = by_incident(IncidentSource)
_ATTACHMENTS = by_incident(Attachment, select_related=["uploaded_by"])
_ACTIVE_HOLD = PreparedQuery(
    # What retention.active_hold reads: the newest hold not released.
    lambda key, incident_id: LegalHold.objects.filter(
        incident_id=incident_id, released_at__isnull=True
    ).select_related("placed_by")[:1],
    {"incident_id": Slot(ID_SENTINEL, LegalHold._meta.get_field("incident"))},
)
# The page's lists of one incident read as model instances (slot `incident_id`, key None),
# by name (services/incident_page_reads.py sends them together).
RELATED_READS = {
    "persons": _PERSONS,
    "vehicles": _VEHICLES,
    "property_items": _PROPERTY,
    "sources": _SOURCES,
    "attachments": _ATTACHMENTS,
    "hold": _ACTIVE_HOLD,
}


# What `procedures.incident_checklist` reads: the active procedure of the incident's site
# and category (`.first()`: in the model's order), and the incident's ticks, oldest first.
PROCEDURE = PreparedQuery(
    lambda key, site_id, category_id: Procedure.objects.filter(
        site_id=site_id, category_id=category_id, is_active=True
    )[:1],
    {
        "site_id": Slot(ID_SENTINEL, Procedure._meta.get_field("site")),
        "category_id": Slot(ID_SENTINEL + 1, Procedure._meta.get_field("category")),
    },
)
TICKS = by_incident(ProcedureTick, select_related=["ticked_by"], order=("ticked_at", "pk"))


_SCOPED_INCIDENT = ScopedGet(
    lambda: Incident.objects.select_related("site", "zone", "category", "author")
)


def incident_with_roles(user, pk: int, roles) -> tuple[Incident, set[str]]:
    """`scoping.get_scoped_with_roles` of the page's incident (with its site, zone, category
    and author), its read compiled once per process (services/scoped_get.py): 404 unless
    `user` holds a role at its site, 403 unless one of `roles`; and the roles held there."""
    return _SCOPED_INCIDENT.get(user, pk, roles)


def incident_with_roles_and_view_id(user, pk: int, roles) -> tuple[Incident, set[str], int | None]:
    """`incident_with_roles`, and on PostgreSQL an id taken from the view log's sequence in
    the same round trip, for the page's view-log row (`view_log.incident_read_statements`;
    None elsewhere)."""
    incident, held, row = _SCOPED_INCIDENT.get_with(
        user, pk, roles, tail=view_log.next_id_statement()
    )
    return incident, held, row[0] if row is not None else None


def _of(query: PrecompiledQuery, incident: Incident) -> list:
    rows = query.all(None, incident_id=incident.pk)
    for row in rows:
        row.incident = incident  # as incident.<related>.all() sets it: not read again
    return rows


def persons(incident: Incident) -> list[InvolvedPerson]:
    return _of(_PERSONS, incident)


def vehicles(incident: Incident) -> list[Vehicle]:
    return _of(_VEHICLES, incident)


def property_items(incident: Incident) -> list[PropertyItem]:
    return _of(_PROPERTY, incident)


def sources(incident: Incident) -> list[IncidentSource]:
    return _of(_SOURCES, incident)


def attachments(incident: Incident) -> list[Attachment]:
    """With `uploaded_by` (the timeline names who uploaded each)."""
    return _of(_ATTACHMENTS, incident)


def active_hold(incident: Incident) -> LegalHold | None:
    """`retention.active_hold(incident)`, compiled once."""
    holds = _of(_ACTIVE_HOLD, incident)
    return holds[0] if holds else None
