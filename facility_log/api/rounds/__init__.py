"""Guard rounds over the API: checkpoints, routes, schedules, runs, scans and exceptions, for
the tablet app and integrations. Every write goes through services/rounds/.

Tag codes are returned only to the site's managers: a guard proves a visit by scanning the
tag, so the code is not handed out to be typed in from elsewhere.

One module per resource, as in services/rounds/; `common` holds the fields and errors they
share. Everything is re-exported here, so api/urls.py and api/post_orders.py keep using
`facility_log.api.rounds`.
"""

from facility_log.api.rounds.checkpoints import CheckpointSerializer, CheckpointViewSet
from facility_log.api.rounds.common import Conflict422, ReachableField
from facility_log.api.rounds.round_exceptions import RoundExceptionSerializer, RoundExceptionViewSet
from facility_log.api.rounds.routes import (
    RouteChangeSerializer,
    RouteSerializer,
    RouteViewSet,
    StopSerializer,
)
from facility_log.api.rounds.runs import REPLAYED, FinishSerializer, RunSerializer, RunViewSet
from facility_log.api.rounds.scans import (
    SCAN_LIST_COLUMNS,
    RunIdField,
    ScanJsonSerializer,
    ScanSerializer,
    ScanViewSet,
)
from facility_log.api.rounds.schedules import ScheduleSerializer, ScheduleViewSet

__all__ = [
    "CheckpointSerializer",
    "CheckpointViewSet",
    "Conflict422",
    "FinishSerializer",
    "REPLAYED",
    "ReachableField",
    "RoundExceptionSerializer",
    "RoundExceptionViewSet",
    "RouteChangeSerializer",
    "RouteSerializer",
    "RouteViewSet",
    "RunIdField",
    "RunSerializer",
    "RunViewSet",
    "SCAN_LIST_COLUMNS",
    "ScanJsonSerializer",
    "ScanSerializer",
    "ScanViewSet",
    "ScheduleSerializer",
    "ScheduleViewSet",
    "StopSerializer",
]
