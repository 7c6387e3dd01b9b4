"""The run page's reads of one run, sent to the database together.

Once the run is read (with its site, route, guard and schedule), the page reads its scans
(with their checkpoints), its active exceptions and the checkpoints of its plan (with their
zones): three round trips sent one by one. Here the scans and exceptions are compiled once per
process (services/precompiled.py) and the three go in one round trip on PostgreSQL
(services/read_together.py); the rows are read exactly as each query alone read them.
"""

from facility_log.models import Checkpoint, RoundException, Run, Scan
from facility_log.services import read_together
from facility_log.services.incident_page import ID_SENTINEL
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

# What run.scans.select_related("checkpoint") reads: in the scans' own order.
_SCANS = PreparedQuery(
    lambda key, run_id: Scan.objects.filter(run_id=run_id).select_related("checkpoint"),
    {"run_id": Slot(ID_SENTINEL, Scan._meta.get_field("run"))},
)
# run.exceptions.filter(withdrawn_at__isnull=True).order_by("detected_at")
_ACTIVE_EXCEPTIONS = PreparedQuery(
    lambda key, run_id: RoundException.objects.filter(
        run_id=run_id, withdrawn_at__isnull=True
    ).order_by("detected_at"),
    {"run_id": Slot(ID_SENTINEL, RoundException._meta.get_field("run"))},
)
# Beyond this many stops the checkpoints are read by in_bulk (which splits a long list).
_MAX_STOPS = 500


def read_run(run: Run, using: str = "default") -> tuple[list, list, dict]:
    """The run's scans (with their checkpoints), its active exceptions, and the checkpoints
    of its plan by id (with their zones, as `in_bulk` gives them)."""
    statements = {
        "scans": _SCANS.statement(None, using=using, run_id=run.pk),
        "exceptions": _ACTIVE_EXCEPTIONS.statement(None, using=using, run_id=run.pk),
    }
    ids = tuple(stop["checkpoint"] for stop in run.plan)
    in_batch = 0 < len(ids) <= _MAX_STOPS
    if in_batch:
        # in_bulk's query for these ids (its shape varies with their number: built here).
        checkpoints = Checkpoint.objects.select_related("zone").filter(pk__in=ids).order_by()
        compiler = checkpoints.query.get_compiler(using=using)
        statements["checkpoints"] = (compiler, *compiler.as_sql())
    fetched, _none = read_together.fetch(statements, using)
    scans = PrecompiledQuery.instances_of(statements["scans"][0], fetched["scans"], using)
    exceptions = PrecompiledQuery.instances_of(
        statements["exceptions"][0], fetched["exceptions"], using
    )
    for row in (*scans, *exceptions):
        row.run = run  # as run.scans / run.exceptions set it: not read again
    if in_batch:
        rows = PrecompiledQuery.instances_of(compiler, fetched["checkpoints"], using)
        by_id = {checkpoint.pk: checkpoint for checkpoint in rows}
    else:
        by_id = Checkpoint.objects.using(using).select_related("zone").in_bulk(ids)
    return scans, exceptions, by_id
