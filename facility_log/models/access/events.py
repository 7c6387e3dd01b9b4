"""What door controllers report: append-only events, the batches and import jobs that bring
them, and how a vendor's event types map onto ours."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.models.access.choices import DenialReason, Direction, EventType, SourceFormat
from facility_log.models.access.doors import Door
from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.sites import Site


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
