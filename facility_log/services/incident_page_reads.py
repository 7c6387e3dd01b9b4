"""Everything the incident page reads of one incident, sent to the database together.

Once the incident is read and the reader's roles known, the page reads about a dozen small,
fixed-shape lists (services/incident_page.py): persons, vehicles, property, sources,
attachments, the active legal hold, the timeline's reviews, history and supplements, the
door events and scans around it, the procedure and its ticks. Sent one by one that is a
dozen round trips, each with psycopg's and the server's per-statement work. Here their
precompiled statements go as one simple-protocol query on PostgreSQL (psycopg's client-side
cursor, Django's default: each statement its own result, read with `nextset()`, as the
API incident detail sends its own: api/incidents/detail.py). The page's view-log row, its
id taken with the incident (`incident_page.incident_with_roles_and_view_id`), goes with its
ledger entry at the end of the same request, committed by it (`log`;
services/ledger_one_trip.py). Without `log`, the next id of the view log's sequence is read
with them instead, and the row goes with its entry in one more round trip
(`view_log.read_with_next_id`, `view_log.record_view`, `ledger.hold_insert`). On SQLite,
or with server-side binding, each statement is run on its own. The rows are read exactly
as each query alone reads them.
"""

from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError

from facility_log.models import Incident
from facility_log.services import (
    incident_page,
    ledger_one_trip,
    links,
    procedures,
    read_together,
    view_log,
)
from facility_log.services.incident_timeline import TIMELINE_READS
from facility_log.services.ledger_held import StoredRowDiffers
from facility_log.services.ledger_one_trip import OneTripInsert
from facility_log.services.precompiled import PrecompiledQuery

# The reads run with their generic plan (read_together.fetch's `generic`).
SURROUNDINGS = frozenset({"door_events", "scans"})
# Read as model instances, each given its incident (as incident_page._of does).
_INSTANCES = incident_page.RELATED_READS


@dataclass
class PageReads:
    """The incident page's records of one incident; `view_pk` is the id taken for its
    view-log row (None where the row is written the ordinary way: SQLite)."""

    persons: list
    vehicles: list
    property_items: list
    sources: list
    attachments: list
    hold: Any
    timeline: dict[str, list[tuple]]
    surroundings: dict[str, list[tuple]]
    checklist: Any
    view_pk: int | None


def read_page(
    incident: Incident, using: str = "default", log: OneTripInsert | None = None
) -> PageReads:
    """The page's reads of `incident` (see the module docstring). `log`: the statements of
    the page's view-log row (`view_log.incident_read_statements`), sent after the reads in
    their round trip and committed by it (services/ledger_one_trip.py); `view_pk` is then
    None, the row written. If they are refused, `ledger_one_trip.refused` rolled them back
    with the reads: raised as `StoredRowDiffers`."""
    reads: dict[str, tuple[PrecompiledQuery, Any, dict]] = {
        name: (query, None, {"incident_id": incident.pk}) for name, query in _INSTANCES.items()
    }
    reads |= {
        name: (query, None, {"incident_id": incident.pk}) for name, query in TIMELINE_READS.items()
    }
    reads |= links.surroundings_reads(incident)
    if incident.category_id is not None:  # else no procedure applies (incident_checklist)
        category = {"site_id": incident.site_id, "category_id": incident.category_id}
        reads["procedure"] = (incident_page.PROCEDURE, None, category)
        reads["ticks"] = (incident_page.TICKS, None, {"incident_id": incident.pk})
    statements = {
        name: query.statement(key, using=using, **values)
        for name, (query, key, values) in reads.items()
    }
    # The surroundings' best plan hardly depends on the hour they cover; planning them cost
    # more than running them (docs/performance.md): their prepared plan is kept.
    if log is None:
        fetched, view_pk = view_log.read_with_next_id(statements, using, generic=SURROUNDINGS)
    else:
        view_pk = None
        try:
            fetched, _ = read_together.fetch(
                statements, using, generic=SURROUNDINGS, after=(log.sql, log.params)
            )
        except DatabaseError as error:
            if ledger_one_trip.refused(error, log, using):
                raise StoredRowDiffers(f"view log #{log.pk}") from error
            raise
    answers = {}
    for name, (compiler, _sql, _params) in statements.items():
        if name in _INSTANCES or name in ("procedure", "ticks"):
            rows = PrecompiledQuery.instances_of(compiler, fetched[name], using)
            for row in rows if name != "procedure" else ():
                row.incident = incident  # as incident.<related>.all() sets it: not read again
            answers[name] = rows
        elif name in TIMELINE_READS:
            answers[name] = [tuple(row) for row in compiler.results_iter([fetched[name]])]
        else:
            answers[name] = links.surroundings_rows(compiler, fetched[name])
    procedure = (answers.get("procedure") or [None])[0]
    return PageReads(
        persons=answers["persons"],
        vehicles=answers["vehicles"],
        property_items=answers["property_items"],
        sources=answers["sources"],
        attachments=answers["attachments"],
        hold=(answers["hold"] or [None])[0],
        timeline={name: answers[name] for name in TIMELINE_READS},
        surroundings={"door_events": answers["door_events"], "scans": answers["scans"]},
        checklist=(
            (procedure, procedures.checklist(procedure, answers["ticks"]))
            if procedure is not None
            else None
        ),
        view_pk=view_pk,
    )
