"""Alarms raised by door events, the per-site rules that decide which events raise one, and
the priority per alarm type."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.models.access.choices import AlarmPriorityLevel, AlarmState, EventType
from facility_log.models.access.doors import Door
from facility_log.models.access.events import AccessEvent
from facility_log.models.base import AuditedModel, DerivedModel, audited_history
from facility_log.models.sites import Site

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
            # The console's top alarms by live priority: per site and type, the open ones
            # newest first, so each (site, type) is read in order up to the page's limit
            # instead of sorting every open alarm (views/alarm_console.py).
            models.Index(
                fields=["site", "event_type", "-raised_at", "-id"],
                condition=~models.Q(state="resolved"),
                include=["state"],
                name="alarm_open_type",
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


class OpenAlarmCount(DerivedModel):
    """How many alarms of one site and type are open in one state (new or acknowledged).

    Kept by database triggers on the alarm table (migration 0032), in the transaction of every
    write of an alarm, whichever path wrote it (a service's save, an import's bulk insert, a
    purge, a restore): the console reads its counts here instead of counting every open alarm
    on each request. Rows are never removed: a pair whose alarms are all resolved keeps a
    count of 0. `verify_audit` recounts the alarms and names any difference
    (services/alarm_counts.py).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    state = models.CharField(max_length=16, choices=AlarmState.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "event_type", "state"], name="open_alarm_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.state} {self.event_type} at site {self.site_id}"
