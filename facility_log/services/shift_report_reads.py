"""The shift report page's reads of one shift, compiled once and sent to the database
together.

`activity_report.shift_report` reads seven lists for a shift: the handover it received, its
log entries, its post-order acknowledgements, the runs its guard walked, their scans and
active exceptions, the site's incidents. Each has the same shape on every request (only the
shift's site, guard and times vary), and building and compiling each cost more Python time
than the database takes to answer; sent one by one they are seven round trips. Here each is
compiled once per process (services/precompiled.py) and all seven go in one round trip on
PostgreSQL with the view log's next id (`view_log.read_with_next_id`), so that the report's
view-log row goes with its ledger entry in one more. The scans and exceptions are read by the
runs' own conditions rather than by the list of run ids read first: the same rows. The
report is built from them by `activity_report`'s own line builders: the same report. The
runs are read as rows of the columns their lines show, not as runs with their routes and
guards (`RunLine.run` is None then: nothing the page writes reads it).
"""

import json
from datetime import datetime

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from facility_log.models import (
    Incident,
    PostOrderAck,
    RoundException,
    Run,
    Scan,
    Shift,
    ShiftEntry,
)
from facility_log.services import activity_report as dar
from facility_log.services import view_log
from facility_log.services.incident_page import ID_SENTINEL, TIME_SENTINELS
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

_RUN = Run._meta
_SLOTS = {
    "shift_id": Slot(ID_SENTINEL, Shift._meta.pk),
    "site_id": Slot(ID_SENTINEL + 1, _RUN.get_field("site")),
    "guard_id": Slot(ID_SENTINEL + 2, _RUN.get_field("guard")),
    "start": Slot(TIME_SENTINELS[0], _RUN.get_field("started_at")),
    "end": Slot(TIME_SENTINELS[1], _RUN.get_field("started_at")),
}


def _query(build) -> PreparedQuery:
    return PreparedQuery(lambda key, **values: build(**values), _SLOTS)


def _runs(site_id, guard_id, start, end, **_):
    return Run.objects.filter(site_id=site_id, guard_id=guard_id, started_at__range=(start, end))


_READS = {
    # services/shifts.previous_handover(site, before=shift.started_at, excluding=shift): the
    # window starts when the shift started (activity_report.shift_window).
    "received": _query(
        lambda shift_id, site_id, start, **_: (
            Shift.objects.filter(site_id=site_id, ended_at__isnull=False)
            .select_related("guard")
            .filter(ended_at__lte=start)
            .exclude(pk=shift_id)
            .order_by("-ended_at", "-pk")[:1]
        )
    ),
    "entries": _query(
        lambda shift_id, **_: ShiftEntry.objects.filter(shift_id=shift_id).order_by(
            "occurred_at", "pk"
        )
    ),
    "acks": _query(
        lambda shift_id, **_: (
            PostOrderAck.objects.filter(shift_id=shift_id).select_related("version").order_by("pk")
        )
    ),
    # The columns a run's line shows, not runs with their routes and guards (three model
    # instances a run); the plan as its text, decoded once per distinct text (_run_lines).
    "runs": _query(
        lambda **values: (
            _runs(**values)
            .order_by("started_at", "pk")
            .values_list(
                "pk",
                "route__name",
                "guard__first_name",
                "guard__last_name",
                "guard__username",
                "started_at",
                "finished_at",
                Cast("plan", TextField()),
            )
        )
    ),
    "scans": _query(
        lambda **values: Scan.objects.filter(run__in=_runs(**values)).values_list(
            "run_id", "checkpoint_id"
        )
    ),
    "exceptions": _query(
        lambda **values: (
            RoundException.objects.filter(run__in=_runs(**values), withdrawn_at__isnull=True)
            .order_by("detected_at", "pk")
            .values_list("run_id", "kind", "detail")
        )
    ),
    "incidents": _query(
        lambda site_id, guard_id, start, end, **_: (
            Incident.objects.filter(site_id=site_id)
            .filter(
                Q(author_id=guard_id, created_at__range=(start, end))
                | Q(occurred_from__range=(start, end))
            )
            .select_related("category")
            .order_by("occurred_from", "pk")
        )
    ),
}
_INSTANCES = ("received", "entries", "acks", "incidents")


def shift_report(shift: Shift, *, now: datetime | None = None):
    """`activity_report.shift_report(shift)` and the id for its view-log row (None on
    SQLite), its reads in one round trip on PostgreSQL. Pass a shift fetched with
    `select_related("site", "guard")`."""
    now = now or timezone.now()
    start, end = dar.shift_window(shift, now)
    values = {
        "shift_id": shift.pk,
        "site_id": shift.site_id,
        "guard_id": shift.guard_id,
        "start": start,
        "end": end,
    }
    statements = {name: query.statement(None, **values) for name, query in _READS.items()}
    fetched, view_pk = view_log.read_with_next_id(statements)
    read = {}
    for name, (compiler, _sql, _params) in statements.items():
        if name in _INSTANCES:
            read[name] = PrecompiledQuery.instances_of(compiler, fetched[name])
        else:
            read[name] = [tuple(row) for row in compiler.results_iter([fetched[name]])]
    for row in (*read["entries"], *read["acks"]):
        row.shift = shift  # as shift.entries / shift.post_order_acks set it: not read again
    block = dar.ShiftBlock(
        shift=shift,
        guard_name=dar.user_name(shift.guard),
        received=read["received"][0] if read["received"] else None,
        entries=read["entries"],
        acks=read["acks"],
        runs=_run_lines(read["runs"], read["scans"], read["exceptions"]),
        incidents=dar.incident_lines(read["incidents"]),
    )
    return dar.ShiftReport(site=shift.site, block=block, generated_at=now), view_pk


def _run_lines(rows, scans, exceptions) -> list:
    """`activity_report.run_lines` of the runs read as rows: (id, route name, guard's first,
    last and user name, started_at, finished_at, plan text). The guard's name as `user_name`
    gives it (`get_full_name()`, else the user name)."""
    shown = [
        (None, pk, route, f"{first} {last}".strip() or username, started, finished)
        for pk, route, first, last, username, started, finished, _plan in rows
    ]
    # Decoded as JSONField.from_db_value decodes it, once per distinct text (a route's runs
    # share their plan unless it shuffles its stops).
    texts: dict[str, object] = {}
    for row in rows:
        if row[7] not in texts:
            try:
                texts[row[7]] = json.loads(row[7])
            except json.JSONDecodeError:
                texts[row[7]] = row[7]
    plans = [texts[row[7]] for row in rows]
    return dar.run_lines_of(shown, plans, scans, exceptions)
