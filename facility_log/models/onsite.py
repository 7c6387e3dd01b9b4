"""On site: the guard's panic (duress) button and the lone-worker check-ins.

What a press records is deliberately little: the site, the guard, the guard's open shift, and
the last checkpoint the guard scanned with its time. No position is read or stored: the last
checkpoint is the only "where" (DESIGN.md, the line we do not cross).

A check-in ("I'm OK") records less still: its time and the shift, nothing else. The guard is
the shift's guard and the site the shift's site; no position, no device, no checkpoint.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.rounds import Checkpoint
from facility_log.models.shifts import Shift
from facility_log.models.sites import Site


class PanicAlert(AppendOnlyModel):
    """One press of a tablet's panic button, as the tablet sent it; it raises one duress
    alarm (`alarm`). Written once: `client_uuid` is generated on the tablet, so a press sent
    again (offline retries, a restored outbox) finds this row instead of writing another.

    `pressed_at` is the tablet's clock at the press, `received_at` the server's on arrival
    (the gap is how long the press waited for a network). `silent`: the guard chose the
    mode that shows nothing on the screen (the console still shows it first)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    guard = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, null=True, blank=True, related_name="panic_alerts"
    )
    client_uuid = models.UUIDField(unique=True)
    pressed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    last_checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_scanned_at = models.DateTimeField(null=True, blank=True)
    silent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-pressed_at", "-pk"]

    def __str__(self) -> str:
        return f"panic at site {self.site_id} {self.pressed_at:%Y-%m-%d %H:%M:%S}"


class LoneWorkerPolicy(AuditedModel):
    """A site's lone-worker rule, set by its managers with a reason (history kept): while a
    guard is the only one on duty at the site, the tablet asks "I'm OK" every
    `interval_minutes`; a check-in not made within `grace_minutes` after it was due raises an
    alarm. `changed_at` is when the rule last changed: no check-in is due from before it."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="lone_worker_policy")
    enabled = models.BooleanField(default=False)
    interval_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    grace_minutes = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    changed_at = models.DateTimeField(default=timezone.now)

    history = audited_history()

    class Meta:
        verbose_name_plural = "lone-worker policies"

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"lone-worker policy of site {self.site_id} ({state})"


class CheckIn(AppendOnlyModel):
    """One "I'm OK" of a guard working alone: the shift and the time, nothing more (PRIVACY.md).
    `client_uuid` is the tablet's, so a check-in sent again is stored once; `checked_in_at`
    is the tablet's clock at the tap, `received_at` the server's on arrival."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="check_ins")
    client_uuid = models.UUIDField(unique=True)
    checked_in_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-checked_in_at", "-pk"]
        indexes = [models.Index(fields=["shift", "-checked_in_at"], name="check_in_shift_time")]

    def __str__(self) -> str:
        return f"check-in of shift {self.shift_id} {self.checked_in_at:%Y-%m-%d %H:%M:%S}"


class MissedCheckIn(AppendOnlyModel):
    """A check-in that was due at `due_at` and not made by `due_at` + grace, while the shift's
    guard was alone at the site; it raises one alarm (`alarm`). `since` is the guard's last
    sign of life the rule counted from (the last check-in, the shift's start, or when the
    guard came to be alone). One row per shift and due time: a second run finds it."""

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="missed_check_ins")
    since = models.DateTimeField()
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "due_at"], name="missed_check_in_once")
        ]

    def __str__(self) -> str:
        return f"missed check-in of shift {self.shift_id} due {self.due_at:%Y-%m-%d %H:%M}"
