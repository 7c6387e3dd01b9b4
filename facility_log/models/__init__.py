"""Models, one module per domain. Import from here: `from facility_log.models import Site`."""

from facility_log.models.access import (
    AccessEvent,
    Alarm,
    AlarmRule,
    AlarmState,
    DenialReason,
    Direction,
    Door,
    DoorExternalId,
    EventType,
    ImportBatch,
    SourceFormat,
    VendorTypeMapping,
    WebhookSecret,
)
from facility_log.models.accounts import ApiToken, HistoricalUser
from facility_log.models.base import AppendOnlyModel, AuditedHistoryBase, AuditedModel
from facility_log.models.sites import Membership, Role, Site, Zone

__all__ = [
    "AccessEvent",
    "Alarm",
    "AlarmRule",
    "AlarmState",
    "DenialReason",
    "Direction",
    "Door",
    "DoorExternalId",
    "EventType",
    "ImportBatch",
    "SourceFormat",
    "VendorTypeMapping",
    "WebhookSecret",
    "ApiToken",
    "AppendOnlyModel",
    "AuditedHistoryBase",
    "AuditedModel",
    "HistoricalUser",
    "Membership",
    "Role",
    "Site",
    "Zone",
]
