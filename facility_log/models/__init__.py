"""Models, one module per domain. Import from here: `from facility_log.models import Site`."""

from facility_log.models.accounts import ApiToken, HistoricalUser
from facility_log.models.audit import Disclosure, LedgerEntry, RecordView
from facility_log.models.base import AppendOnlyModel, AuditedHistoryBase, AuditedModel
from facility_log.models.incidents import (
    Attachment,
    Category,
    Incident,
    IncidentCounter,
    InvolvedPerson,
    PropertyItem,
    Review,
    Supplement,
    Vehicle,
)
from facility_log.models.rounds import (
    Checkpoint,
    ExceptionKind,
    RoundException,
    Route,
    RouteStop,
    Run,
    Scan,
    ScanMethod,
    Schedule,
    ScheduleKind,
)
from facility_log.models.sites import Membership, Role, Site, Zone

__all__ = [
    "ApiToken",
    "AppendOnlyModel",
    "AuditedHistoryBase",
    "AuditedModel",
    "Disclosure",
    "Checkpoint",
    "ExceptionKind",
    "HistoricalUser",
    "LedgerEntry",
    "Membership",
    "RecordView",
    "Role",
    "RoundException",
    "Route",
    "RouteStop",
    "Run",
    "Scan",
    "ScanMethod",
    "Schedule",
    "ScheduleKind",
    "Site",
    "Zone",
    "Attachment",
    "Category",
    "Incident",
    "IncidentCounter",
    "InvolvedPerson",
    "PropertyItem",
    "Review",
    "Supplement",
    "Vehicle",
]
