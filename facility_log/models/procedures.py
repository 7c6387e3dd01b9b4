"""On site: guided procedures. A site's managers write the steps to follow for one alarm type
(door forced, held open, duress, tamper, ...) or one incident category; whoever handles such
an alarm or incident ticks the steps, and each tick is a record of its own (who, when).

A procedure is edited in place with history (each edit raises `version`, with the reason);
a tick copies the step's text and the procedure's version, so it still says what was ticked
after the procedure changed. Ticks are append-only: taking one back is a new record
(`undone`, with a reason), never an edit.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from facility_log.models.access import Alarm, EventType
from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.incidents import Category, Incident
from facility_log.models.sites import Site


class Procedure(AuditedModel):
    """The ordered steps to follow at one site for one alarm type or one incident category
    (exactly one of the two). At most one active procedure per site and type/category;
    retired ones (`is_active=False`) stay, because ticks point at them."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="procedures")
    title = models.CharField(max_length=120)
    alarm_type = models.CharField(max_length=16, choices=EventType.choices, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="procedures"
    )
    # The steps' texts in order; step numbers are positions (1-based).
    steps = models.JSONField(default=list)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "alarm_type", "category__name", "pk"]
        constraints = [
            # An alarm type or an incident category, never both, never neither.
            models.CheckConstraint(
                condition=(models.Q(alarm_type="") & models.Q(category__isnull=False))
                | (~models.Q(alarm_type="") & models.Q(category__isnull=True)),
                name="procedure_alarm_type_xor_category",
            ),
            models.UniqueConstraint(
                fields=["site", "alarm_type"],
                condition=models.Q(is_active=True) & ~models.Q(alarm_type=""),
                name="procedure_one_active_per_alarm_type",
            ),
            models.UniqueConstraint(
                fields=["site", "category"],
                condition=models.Q(is_active=True, category__isnull=False),
                name="procedure_one_active_per_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ProcedureTick(AppendOnlyModel):
    """One step of a procedure ticked for one alarm or one incident (exactly one of the two):
    by whom and when (server time). `undone` marks a record that takes an earlier tick of the
    same step back, with the reason; the latest record of a step says whether it is done.
    `client_uuid` lets a retried send (the tablet's outbox) find its tick instead of adding one."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="ticks")
    procedure_version = models.PositiveIntegerField()
    step_number = models.PositiveSmallIntegerField()
    step_text = models.TextField()
    alarm = models.ForeignKey(
        Alarm, on_delete=models.PROTECT, null=True, blank=True, related_name="procedure_ticks"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="procedure_ticks"
    )
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ticked_at = models.DateTimeField(default=timezone.now)
    undone = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    client_uuid = models.UUIDField(unique=True, null=True, blank=True)

    class Meta:
        ordering = ["ticked_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(alarm__isnull=False) & models.Q(incident__isnull=True))
                | (models.Q(alarm__isnull=True) & models.Q(incident__isnull=False)),
                name="procedure_tick_alarm_xor_incident",
            ),
        ]

    def __str__(self) -> str:
        action = "undone" if self.undone else "ticked"
        return f"step {self.step_number} {action} {self.ticked_at:%Y-%m-%d %H:%M:%S}"
