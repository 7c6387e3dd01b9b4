"""Access control: doors, the events their controllers report, and the alarms those raise.

Events are append-only: what a door controller said is never edited. Everything a person
configures (doors, their external ids, vendor type mappings, alarm rules, webhook secrets) and
every alarm (which moves new → acknowledged → resolved) is audited.

`choices` holds the shared vocabularies, `doors` the doors and what door systems call them,
`events` the imported events (batches, jobs, vendor type mappings) and `alarms` the rules,
priorities and alarms. Everything is re-exported here, so
`from facility_log.models.access import Alarm` keeps working.
"""

from facility_log.models.access.alarms import (
    DEFAULT_ALARM_PRIORITIES,
    DEFAULT_ALARM_TYPES,
    DEFAULT_OTHER_PRIORITY,
    Alarm,
    AlarmPriority,
    AlarmRule,
    OpenAlarmCount,
)
from facility_log.models.access.choices import (
    AlarmPriorityLevel,
    AlarmState,
    DenialReason,
    Direction,
    EventType,
    SourceFormat,
)
from facility_log.models.access.doors import Door, DoorExternalId, WebhookSecret
from facility_log.models.access.events import AccessEvent, ImportBatch, ImportJob, VendorTypeMapping

__all__ = [
    "AccessEvent",
    "Alarm",
    "AlarmPriority",
    "AlarmPriorityLevel",
    "AlarmRule",
    "AlarmState",
    "DEFAULT_ALARM_PRIORITIES",
    "DEFAULT_ALARM_TYPES",
    "OpenAlarmCount",
    "DEFAULT_OTHER_PRIORITY",
    "DenialReason",
    "Direction",
    "Door",
    "DoorExternalId",
    "EventType",
    "ImportBatch",
    "ImportJob",
    "SourceFormat",
    "VendorTypeMapping",
    "WebhookSecret",
]
