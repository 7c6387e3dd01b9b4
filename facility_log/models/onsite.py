"""On site: the guard's panic (duress) button.

What a press records is deliberately little: the site, the guard, the guard's open shift, and
the last checkpoint the guard scanned with its time. No position is read or stored: the last
checkpoint is the only "where" (DESIGN.md, the line we do not cross).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from facility_log.models.base import AppendOnlyModel
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
