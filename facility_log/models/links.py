"""Links between domains: where an incident came from."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from facility_log.models.base import AppendOnlyModel


class IncidentSource(AppendOnlyModel):
    """An incident opened from an alarm at a door or from an observation at a checkpoint.
    Written once with the incident; an alarm or a scan opens at most one incident."""

    incident = models.ForeignKey(
        "facility_log.Incident", on_delete=models.PROTECT, related_name="sources"
    )
    alarm = models.OneToOneField(
        "facility_log.Alarm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_source",
    )
    scan = models.OneToOneField(
        "facility_log.Scan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_source",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(alarm__isnull=False, scan__isnull=True)
                | models.Q(alarm__isnull=True, scan__isnull=False),
                name="incident_source_alarm_xor_scan",
            )
        ]

    def __str__(self) -> str:
        origin = f"alarm {self.alarm_id}" if self.alarm_id else f"scan {self.scan_id}"
        return f"incident {self.incident_id} from {origin}"
