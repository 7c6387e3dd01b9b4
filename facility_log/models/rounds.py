"""Guard rounds: checkpoints with unguessable tag codes, routes of ordered stops, schedules of
windows in the site's time zone, runs a guard walks, the scans that prove them, and the
exceptions computed from them.

No location of a guard is ever stored: the scan of a checkpoint's tag is the proof.
"""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.sites import Site, Zone

# 32 symbols with no 0/O or 1/I to confuse when typed by hand with gloves on.
TAG_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TAG_LENGTH = 12  # 60 bits from `secrets`: not guessable, not sequential.


def new_tag_code() -> str:
    """A random tag code, the same for the QR label, the NFC tag and manual entry."""
    return "".join(secrets.choice(TAG_ALPHABET) for _ in range(TAG_LENGTH))


def normalize_tag_code(value: str) -> str:
    """What a guard typed or a reader sent, reduced to the stored form (`abcd-efgh` → ABCDEFGH)."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def format_tag_code(code: str) -> str:
    """The code in groups of four, as printed on labels: `ABCD-EFGH-JKLM`."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


class Checkpoint(AuditedModel):
    """A place a guard must visit, marked by a tag (QR label, NFC sticker) carrying `tag_code`.

    The code is random so nobody can forge a scan from the label of another checkpoint; it is
    shown only to members of the site.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="checkpoints")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="checkpoints")
    name = models.CharField(max_length=120)
    instructions = models.TextField(blank=True, help_text="Shown to the guard on scan.")
    tag_code = models.CharField(max_length=32, unique=True, default=new_tag_code, editable=False)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "zone__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="checkpoint_name_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code} / {self.name}"

    @property
    def tag_display(self) -> str:
        return format_tag_code(self.tag_code)

    def clean(self):
        if self.zone_id and self.site_id and self.zone.site_id != self.site_id:
            raise ValidationError({"zone": "The zone belongs to another site."})


class Route(AuditedModel):
    """An ordered list of checkpoints walked as one round. `version` counts its changes: a
    change of stops or order rules makes a new version, and each run keeps the version (and
    the stop list, `Run.plan`) it walked; earlier versions are in the route's history."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="routes")
    name = models.CharField(max_length=120)
    must_follow_order = models.BooleanField(default=False)
    random_order = models.BooleanField(
        default=False, help_text="Shuffle the stops for each run (expected minutes stay)."
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="route_name_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code} / {self.name}"


class RouteStop(AuditedModel):
    """One checkpoint on a route, with its place and the minutes after the run's start by
    which it should be scanned."""

    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="stops")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="stops")
    position = models.PositiveSmallIntegerField()
    expected_minutes = models.PositiveSmallIntegerField(default=0)

    history = audited_history()

    class Meta:
        ordering = ["route", "position"]
        constraints = [
            models.UniqueConstraint(fields=["route", "position"], name="routestop_unique_position"),
            models.UniqueConstraint(
                fields=["route", "checkpoint"], name="routestop_unique_checkpoint"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.route} #{self.position}: {self.checkpoint.name}"


class ScheduleKind(models.TextChoices):
    EVERY = "every", gettext_lazy("Every N hours between two times")
    FIXED = "fixed", gettext_lazy("At fixed times")


class Schedule(AuditedModel):
    """When a route must be walked, in the site's local wall time.

    `every`: a window at `start_time`, then every `every_hours` up to and including
    `end_time`; an end earlier than the start runs overnight (22:00 → 06:00).
    `fixed`: one window at each of `fixed_times` ("HH:MM", local).
    A run must start within `grace_minutes` of a window's start. See
    services/rounds/schedules.py for how daylight-saving changes are handled.
    """

    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="schedules")
    name = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=8, choices=ScheduleKind.choices, default=ScheduleKind.EVERY)
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    every_hours = models.PositiveSmallIntegerField(null=True, blank=True)
    fixed_times = models.JSONField(default=list, blank=True)
    grace_minutes = models.PositiveSmallIntegerField(default=15)
    active_from = models.DateTimeField(default=timezone.now)
    active_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["route", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.route.name} ({self.describe()})"

    def describe(self) -> str:
        if self.kind == ScheduleKind.FIXED:
            return "at " + ", ".join(self.fixed_times)
        return f"every {self.every_hours} h, {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Run(AuditedModel):
    """One walk of a route by a guard, tied to a schedule window when it started in one.

    `plan` is the stop list frozen at the start (shuffled when the route says so):
    `[{"checkpoint": id, "minutes": expected minutes from start}, ...]`.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="runs")
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="runs")
    guard = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="round_runs"
    )
    schedule = models.ForeignKey(
        Schedule, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    window_start = models.DateTimeField(null=True, blank=True)
    route_version = models.PositiveIntegerField(default=1)
    plan = models.JSONField(default=list)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)

    history = audited_history()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "window_start"], name="run_one_per_schedule_window"
            )
        ]
        # The runs list (API) in its order: a page is read from the newest down instead of
        # sorting every run of the caller's sites on each request.
        indexes = [models.Index(fields=["-started_at"], name="run_started_at")]

    def __str__(self) -> str:
        return f"{self.route} run {self.started_at:%Y-%m-%d %H:%M}Z"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class ScanMethod(models.TextChoices):
    QR = "qr", gettext_lazy("QR code")
    NFC = "nfc", gettext_lazy("NFC tag")
    MANUAL = "manual", gettext_lazy("Code typed in")


class Scan(AppendOnlyModel):
    """Proof that a checkpoint was visited. Written once; a repeated upload with the same
    `client_uuid` finds this row instead of writing another.

    `device_time` is when the device says the tag was scanned; `device_sent_at` the device's
    clock when it uploaded; `received_at` the server's clock on arrival. `clock_offset_seconds`
    is the measured difference (server minus device) and `effective_time` the scan time used
    for lateness: the device time, corrected by the offset when the device clock is off.
    """

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="scans")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="scans")
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    method = models.CharField(max_length=8, choices=ScanMethod.choices)
    device_time = models.DateTimeField()
    device_sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    clock_offset_seconds = models.IntegerField(default=0)
    effective_time = models.DateTimeField()
    note = models.TextField(blank=True)
    # A photo is held to the attachment rules (services/uploads.py): stored under a generated
    # name with its real type, size and SHA-256, which the ledger's digest of this row covers.
    photo = models.FileField(upload_to="rounds/scans/%Y/%m/", blank=True)
    photo_content_type = models.CharField(max_length=100, blank=True)
    photo_size = models.PositiveBigIntegerField(null=True, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["effective_time", "pk"]
        # The scan list pages by (time, id) newest first (read backwards); a run's scans come
        # through the run's own index.
        indexes = [models.Index(fields=["effective_time", "id"], name="scan_time")]

    def __str__(self) -> str:
        return f"{self.checkpoint.name} at {self.device_time:%H:%M}Z"


class ExceptionKind(models.TextChoices):
    MISSED_CHECKPOINT = "missed_checkpoint", gettext_lazy("Missed checkpoint")
    LATE = "late", gettext_lazy("Late")
    OUT_OF_ORDER = "out_of_order", gettext_lazy("Out of order")
    NOT_ON_ROUTE = "not_on_route", gettext_lazy("Checkpoint not on route")
    TOO_FAST = "too_fast", gettext_lazy("Implausibly fast")
    DUPLICATE_SCAN = "duplicate_scan", gettext_lazy("Duplicate scan")
    MISSED_ROUND = "missed_round", gettext_lazy("Missed round")
    CLOCK_DRIFT = "clock_drift", gettext_lazy("Device clock drift")
    OVERDUE = "overdue", gettext_lazy("Run overdue")


class RoundException(AuditedModel):
    """Something a supervisor should know about a round, computed by the services and stored.

    `key` names the finding (kind + what it is about) and is unique, so computing the same
    finding again records nothing new. A finding later disproved by data that arrived late
    (a run synced after its window was marked missed) is withdrawn, never deleted. A
    supervisor signs it off with a comment (`signed_off_*`).
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="round_exceptions")
    kind = models.CharField(max_length=20, choices=ExceptionKind.choices)
    key = models.CharField(max_length=200, unique=True)
    run = models.ForeignKey(
        Run, on_delete=models.PROTECT, null=True, blank=True, related_name="exceptions"
    )
    schedule = models.ForeignKey(
        Schedule, on_delete=models.PROTECT, null=True, blank=True, related_name="exceptions"
    )
    window_start = models.DateTimeField(null=True, blank=True)
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scan = models.ForeignKey(
        Scan, on_delete=models.PROTECT, null=True, blank=True, related_name="exceptions"
    )
    detail = models.TextField(blank=True)
    detected_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    # A supervisor has looked at it and says what was done (or why nothing needed doing).
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sign_off_comment = models.TextField(blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-detected_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.detail}"
