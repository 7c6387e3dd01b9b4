"""Guard rounds: setting up checkpoints, routes and schedules; starting runs, recording scans,
finishing runs; the exceptions computed from them; and the periodic check for missed rounds.

One module per part, everything importable from here as before:

* `checkpoints` — checkpoints and their tag codes, routes;
* `schedules` — schedules and their windows in the site's wall time (daylight saving);
* `runs` — starting and finishing a run, its outcome;
* `scans` — recording a scan (trusting device clocks; what a scan costs);
* `findings` — the exceptions a run's scans give, stored once each;
* `checks` — the periodic check for missed rounds and overdue runs;
* `common` — settings knobs, who may walk, the idempotency error.

The compliance report is services/rounds_report.py.
"""

from facility_log.services.rounds.checkpoints import (
    RouteVersionConflict,
    create_checkpoint,
    create_route,
    replace_tag_code,
    update_checkpoint,
    update_route,
)
from facility_log.services.rounds.checks import check_rounds
from facility_log.services.rounds.common import (
    DEFAULTS,
    IdempotencyConflict,
    knob,
    refuse_implausible_time,
)
from facility_log.services.rounds.findings import (
    REPLAYED_KINDS,
    Finding,
    overdue_after,
    record_exception,
    run_findings,
    stop_grace,
    sync_new_scan,
    sync_run_exceptions,
)
from facility_log.services.rounds.runs import RunOutcome, finish_run, run_outcome, start_run
from facility_log.services.rounds.scans import ScanInput, clock_offset, record_scan
from facility_log.services.rounds.schedules import (
    create_schedule,
    local_to_utc,
    schedule_windows,
    validate_schedule,
)
from facility_log.services.rounds.sign_off import open_exceptions, sign_off_exceptions
from facility_log.services.rounds.week import Day, end_schedule, week_view

__all__ = [
    "open_exceptions",
    "sign_off_exceptions",
    "Day",
    "end_schedule",
    "week_view",
    "RouteVersionConflict",
    "update_route",
    "DEFAULTS",
    "REPLAYED_KINDS",
    "Finding",
    "IdempotencyConflict",
    "RunOutcome",
    "ScanInput",
    "check_rounds",
    "clock_offset",
    "create_checkpoint",
    "create_route",
    "create_schedule",
    "finish_run",
    "knob",
    "local_to_utc",
    "overdue_after",
    "record_exception",
    "record_scan",
    "refuse_implausible_time",
    "replace_tag_code",
    "run_findings",
    "run_outcome",
    "schedule_windows",
    "start_run",
    "stop_grace",
    "sync_new_scan",
    "sync_run_exceptions",
    "update_checkpoint",
    "validate_schedule",
]
