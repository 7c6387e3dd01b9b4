"""The vocabularies access control shares: event types, denial reasons, directions, source
formats, alarm states and priority levels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """The neutral vocabulary every vendor's event type is mapped onto."""

    GRANTED = "granted", _("Access granted")
    DENIED = "denied", _("Access denied")
    FORCED_OPEN = "forced_open", _("Forced open")
    HELD_OPEN = "held_open", _("Held open")
    DOOR_OPENED = "door_opened", _("Door opened")
    DOOR_CLOSED = "door_closed", _("Door closed")
    REX = "rex", _("Request to exit")
    TAMPER = "tamper", _("Tamper")
    OFFLINE = "offline", _("Offline")
    ONLINE = "online", _("Online")
    DURESS = "duress", _("Duress")
    POWER_FAIL = "power_fail", _("Power failure")
    # Raised by the lone-worker check (services/lone_worker.py), never reported by a door.
    MISSED_CHECK_IN = "missed_check_in", _("Missed check-in")
    OTHER = "other", _("Other (unmapped)")


class DenialReason(models.TextChoices):
    """Why a credential was refused, in neutral terms (blank when the source does not say)."""

    UNKNOWN_CREDENTIAL = "unknown_credential", _("Unknown credential")
    EXPIRED = "expired", _("Expired")
    INACTIVE = "inactive", _("Inactive")
    OUT_OF_SCHEDULE = "out_of_schedule", _("Out of schedule")
    NO_ACCESS_RIGHTS = "no_access_rights", _("No access rights")
    ANTIPASSBACK = "antipassback", _("Anti-passback")
    INVALID_PIN = "invalid_pin", _("Invalid PIN")
    INVALID_FACILITY_CODE = "invalid_facility_code", _("Invalid facility code")
    CARD_FORMAT = "card_format", _("Card format")


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class SourceFormat(models.TextChoices):
    """The ways events arrive; the vendor formats also key the type mapping table."""

    GENERIC = "generic", _("facility_log generic")
    KISI = "kisi", _("Kisi")
    GALLAGHER = "gallagher", _("Gallagher Command Centre")
    UNIFI = "unifi", _("UniFi Access")
    VERKADA = "verkada", _("Verkada Access Control")


class AlarmState(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class AlarmPriorityLevel(models.IntegerChoices):
    """How urgent an alarm is; 1 comes first on the console."""

    CRITICAL = 1, _("Critical")
    HIGH = 2, _("High")
    ELEVATED = 3, _("Elevated")
    NORMAL = 4, _("Normal")
    LOW = 5, _("Low")
