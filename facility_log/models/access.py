"""Access control: doors, the events their controllers report, and the alarms those raise.

Events are append-only: what a door controller said is never edited. Everything a person
configures (doors, their external ids, vendor type mappings, alarm rules, webhook secrets) and
every alarm (which moves new → acknowledged → resolved) is audited.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.sites import Site, Zone


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


class Door(AuditedModel):
    """A door (or gate, hatch) of a site, in one of its zones. `code` is how files and people
    name it (`D-MAIN`); source systems may name it by their own ids (`DoorExternalId`)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="doors")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="doors")
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="door_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class DoorExternalId(AuditedModel):
    """The id one source system uses for a door (a Gallagher door id, a Kisi lock id)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="external_ids")
    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)

    history = audited_history()

    class Meta:
        ordering = ["source", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "source", "external_id"], name="door_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} → {self.door_id}"


class VendorTypeMapping(AuditedModel):
    """How one vendor's event type (by name) maps onto the neutral vocabulary: for every site
    (`site` empty, set by administrators) or for one site (set by its managers on the unmapped
    types page; wins over the global row). Below both lie the vendors' published defaults
    (services/access_mapping.py); a type nothing maps is stored as `other`, never dropped.
    `neutral_type_if_failed` covers vendors (Kisi, UniFi) that flag failure beside the type;
    `reason` is the denial reason a `denied` mapping implies."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    vendor = models.CharField(max_length=16, choices=SourceFormat.choices)
    vendor_type = models.CharField(max_length=128)
    neutral_type = models.CharField(max_length=16, choices=EventType.choices)
    neutral_type_if_failed = models.CharField(max_length=16, choices=EventType.choices, blank=True)
    reason = models.CharField(max_length=32, choices=DenialReason.choices, blank=True)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["vendor", "vendor_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "vendor_type"],
                condition=models.Q(site__isnull=True),
                name="vendor_type_unique",
            ),
            models.UniqueConstraint(
                fields=["site", "vendor", "vendor_type"],
                condition=models.Q(site__isnull=False),
                name="vendor_type_unique_per_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor}: {self.vendor_type} → {self.neutral_type}"


class ImportBatch(AppendOnlyModel):
    """One accepted ingestion call (a file, an API batch, a webhook body) and what it added.
    Written once, after validation passed; refused calls leave no row (and no event)."""

    class Channel(models.TextChoices):
        FILE = "file", _("File import")
        API = "api", _("Batch API")
        WEBHOOK = "webhook", _("Webhook")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    source_format = models.CharField(max_length=16, choices=SourceFormat.choices)
    file_name = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField()
    created = models.PositiveIntegerField()
    duplicates = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.created_at:%Y-%m-%d %H:%M} ({self.created})"


class ImportJob(AuditedModel):
    """A file uploaded on the import page, and its import: run in the request for a small
    file, by the task worker (`manage.py db_worker`) for a large one. Holds the progress the
    page shows as a percentage, and what the import stored (over all its batches, one per
    chunk; they carry the job's request id). The uploaded file is deleted when the import
    ends: it holds credential numbers, which are never stored."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        CHECKING = "checking", _("Checking every line")
        STORING = "storing", _("Storing")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused: nothing stored")
        FAILED = "failed", _("Stopped: import the same file again to complete it")

    RUNNING = (Status.QUEUED, Status.CHECKING, Status.STORING)

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    upload = models.FileField(upload_to="access-imports/", blank=True)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=32)
    size = models.PositiveBigIntegerField(default=0)
    request_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    alarms = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    # The first bad lines of a refused file ({line, column, message}), and how many there were.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # Times without an offset are read in the site's zone only when the uploader said so.
    site_time = models.BooleanField(default=False)
    # Events skipped because their source is no door: {source name: count}.
    skipped = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()}, {self.percent} %)"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING


class AccessEvent(AppendOnlyModel):
    """What a door controller reported, exactly once per (site, source, external id).

    Immutable: there is no edit path in pages, API or admin. The credential number is never
    stored: only a keyed hash (HMAC-SHA256 with the server's credential key, so equal numbers
    can be matched without being readable) and, for display, its last 2 characters when it has
    8 or more (services/credentials.py).
    Written in bulk, so chained into the ledger per import batch, not per row.
    """

    ledger_per_row = False

    # No single-column indexes on site and door: the index below starts with site, and every
    # index is paid for on each of the many inserts.
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="access_events", db_index=False
    )
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="events", db_index=False)
    # Indexed: the ledger digests and verifies events batch by batch.
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="events")
    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    reason = models.CharField(max_length=32, choices=DenialReason.choices, blank=True)
    vendor_type = models.CharField(max_length=128, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    direction = models.CharField(max_length=3, choices=Direction.choices, blank=True)
    cardholder = models.CharField(
        max_length=200, blank=True, help_text="the badge holder's name as the source gives it"
    )
    credential_hash = models.CharField(max_length=64, blank=True)
    credential_hint = models.CharField(
        max_length=2,
        blank=True,
        help_text="last 2 characters of a credential of 8 or more; empty for a shorter one",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "source", "external_id"], name="access_event_unique_source_id"
            )
        ]
        # Each index slows every insert, so only what the lists read (docs/performance.md):
        # every list is per site, newest first, with the id breaking ties (keyset pages read
        # `(site, time, id)` ranges, facility_log/paging.py); a door narrows that range; the
        # "vendor types to map" box reads the few `other` events only.
        indexes = [
            models.Index(fields=["site", "-occurred_at", "-id"], name="access_event_site_time"),
            models.Index(
                fields=["site", "door", "-occurred_at", "-id"], name="access_event_door_time"
            ),
            models.Index(
                fields=["site", "source", "vendor_type"],
                condition=models.Q(event_type="other"),
                name="access_event_unmapped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.door_id} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


DEFAULT_ALARM_TYPES = (
    EventType.FORCED_OPEN,
    EventType.HELD_OPEN,
    EventType.TAMPER,
    EventType.DURESS,
    EventType.OFFLINE,
)


class AlarmRule(AuditedModel):
    """Which event types raise an alarm, for one door or (door empty) every door of the site.

    Without any rule a site uses the defaults (forced open, held open, tamper, duress,
    offline). A door rule wins over a site rule; `is_active=False` switches a type off.
    Held open: controllers report it once the door has stood open beyond their own threshold
    (`held_open_seconds` documents that threshold for the people reading the alarm).
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="alarm_rules")
    door = models.ForeignKey(
        Door, on_delete=models.PROTECT, null=True, blank=True, related_name="alarm_rules"
    )
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    is_active = models.BooleanField(default=True)
    held_open_seconds = models.PositiveIntegerField(null=True, blank=True)
    escalate_after_minutes = models.PositiveIntegerField(default=10)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "event_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "door", "event_type"],
                condition=models.Q(door__isnull=False),
                name="alarm_rule_unique_per_door",
            ),
            models.UniqueConstraint(
                fields=["site", "event_type"],
                condition=models.Q(door__isnull=True),
                name="alarm_rule_unique_per_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.door_id or 'every door'}"


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


# duress > forced > tamper > held open > everything else, unless a site says otherwise.
DEFAULT_ALARM_PRIORITIES = {
    EventType.DURESS: AlarmPriorityLevel.CRITICAL,
    EventType.MISSED_CHECK_IN: AlarmPriorityLevel.HIGH,
    EventType.FORCED_OPEN: AlarmPriorityLevel.HIGH,
    EventType.TAMPER: AlarmPriorityLevel.ELEVATED,
    EventType.HELD_OPEN: AlarmPriorityLevel.NORMAL,
}
DEFAULT_OTHER_PRIORITY = AlarmPriorityLevel.LOW


class AlarmPriority(AuditedModel):
    """A site's own priority for one alarm type, set by its managers with a reason; types
    without a row keep DEFAULT_ALARM_PRIORITIES. Read live: changing it re-sorts the open
    alarms of the site too."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="alarm_priorities")
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    priority = models.PositiveSmallIntegerField(choices=AlarmPriorityLevel.choices)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "event_type"]
        verbose_name_plural = "alarm priorities"
        constraints = [
            models.UniqueConstraint(
                fields=["site", "event_type"], name="alarm_priority_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type}: {self.get_priority_display()} at site {self.site_id}"


class Alarm(AuditedModel):
    """An event that needs a person: new → acknowledged → resolved, each step with who, when
    and a note. Exactly one alarm per triggering record: a door's event (`event`, with its
    door), a guard's panic button (`panic`, no door) or a lone worker's missed check-in
    (`missed_check_in`, no door)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="alarms")
    door = models.ForeignKey(
        Door, on_delete=models.PROTECT, null=True, blank=True, related_name="alarms"
    )
    event = models.OneToOneField(
        AccessEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="alarm"
    )
    panic = models.OneToOneField(
        "facility_log.PanicAlert",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alarm",
    )
    missed_check_in = models.OneToOneField(
        "facility_log.MissedCheckIn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alarm",
    )
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    raised_at = models.DateTimeField()
    escalate_after_minutes = models.PositiveIntegerField(default=10)
    state = models.CharField(max_length=16, choices=AlarmState.choices, default=AlarmState.NEW)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            # Alarms of a site in a state, newest first; the open ones (the console) apart.
            models.Index(fields=["site", "state", "-raised_at", "-id"], name="alarm_site_state"),
            models.Index(
                fields=["site", "-raised_at", "-id"],
                condition=~models.Q(state="resolved"),
                name="alarm_open",
            ),
        ]
        constraints = [
            # A door's event, a panic button or a missed check-in: exactly one.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        event__isnull=False,
                        door__isnull=False,
                        panic__isnull=True,
                        missed_check_in__isnull=True,
                    )
                    | models.Q(
                        event__isnull=True,
                        door__isnull=True,
                        panic__isnull=False,
                        missed_check_in__isnull=True,
                    )
                    | models.Q(
                        event__isnull=True,
                        door__isnull=True,
                        panic__isnull=True,
                        missed_check_in__isnull=False,
                    )
                ),
                name="alarm_has_one_source",
            )
        ]

    @property
    def occurred_at(self):
        """When it happened: the door's event time, when the button was pressed, or when the
        missed check-in was due."""
        if self.event_id:
            return self.event.occurred_at
        if self.missed_check_in_id:
            return self.missed_check_in.due_at
        return self.panic.pressed_at

    @property
    def where(self) -> str:
        """The door, for a panic button the last checkpoint the guard scanned, for a missed
        check-in who has not checked in since when (the shift's context, no place)."""
        if self.door_id:
            return self.door.name
        if self.missed_check_in_id:
            return self._missed_check_in_text()
        checkpoint = self.panic.last_checkpoint
        return (
            f"Panic button (last checkpoint: {checkpoint.name})"
            if checkpoint
            else ("Panic button (no checkpoint scanned yet)")
        )

    def _missed_check_in_text(self) -> str:
        missed = self.missed_check_in
        guard = missed.shift.guard
        since = missed.since.astimezone(self.site.tzinfo)
        return _("No check-in from %(guard)s since %(time)s") % {
            "guard": guard.get_full_name() or guard.get_username(),
            "time": f"{since:%H:%M}",
        }

    @property
    def source_label(self) -> str:
        """A short name of what raised it, for notices and command output."""
        if self.door_id:
            return self.door.code
        return "missed check-in" if self.missed_check_in_id else "panic button"

    def __str__(self) -> str:
        where = self.door_id or (
            f"missed check-in {self.missed_check_in_id}"
            if self.missed_check_in_id
            else f"panic {self.panic_id}"
        )
        return f"{self.get_event_type_display()} at {where} ({self.state})"


class WebhookSecret(AuditedModel):
    """The shared secret a site's webhook bodies are signed with, one per vendor (`source`):
    Kisi (HMAC-SHA256 of the raw body in `X-Signature`), UniFi Access (`Signature: t=…,v1=…`)
    and Verkada (`Verkada-Signature: t|sig`), see docs/integrations.md. Kept in clear because
    verifying needs it; left out of the history rows."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=SourceFormat.choices, default="kisi")
    secret = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    history = audited_history(excluded_fields=["secret"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "source"], name="webhook_secret_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} webhook secret for site {self.site_id}"
