"""On site: lost and found. An item found at the site, where it is kept, and how it left:
handed over to its owner (whose name is typed for that handover only) or disposed of after
the retention period. Nothing here is a register of people: an owner's name belongs to one
handover, and owners are not searched across items."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AuditedModel, audited_history
from facility_log.models.incidents import Incident
from facility_log.models.sites import Site, Zone


class FoundItemState(models.TextChoices):
    STORED = "stored", _("Stored")
    HANDED_OVER = "handed_over", _("Handed over to its owner")
    DISPOSED = "disposed", _("Disposed of")


class FoundItem(AuditedModel):
    """One item found at the site. `found_by` is who found it as told (a guard, a cleaner, a
    visitor at the desk); `recorded_by` the account that recorded it. The photo is held to the
    upload rules (services/uploads.py) and stored under a generated name with its SHA-256.

    Handed over: `owner_name` as typed for this handover, and `owner_confirmed` (the owner
    ticked "I confirm receipt"). Disposed: who, when and why, once the retention period ran.
    `client_uuid` is the guard tablet's for an item recorded through its outbox: the same
    record sent again finds this row instead of adding one."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.TextField()
    found_at = models.DateTimeField()
    found_by = models.CharField(max_length=150)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    storage_location = models.CharField(max_length=200)
    photo = models.FileField(upload_to="lost_found/%Y/%m/", blank=True)
    photo_content_type = models.CharField(max_length=100, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="found_items"
    )
    state = models.CharField(
        max_length=16, choices=FoundItemState.choices, default=FoundItemState.STORED
    )
    owner_name = models.CharField(max_length=150, blank=True)
    owner_confirmed = models.BooleanField(default=False)
    left_at = models.DateTimeField(null=True, blank=True, help_text="handed over or disposed")
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disposal_reason = models.CharField(max_length=500, blank=True)
    client_uuid = models.UUIDField(unique=True, null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-found_at", "-id"]
        indexes = [models.Index(fields=["site", "state", "found_at"], name="found_item_site_state")]

    def __str__(self) -> str:
        return f"found item #{self.pk}"
