"""Post orders: the standing instructions for a site (or one zone of it) that a guard must
have read before going on duty ("gate closes at 22:00; deliveries only through dock 2").

Each edit is a new numbered version with its reason; the post order row holds the current
one. A guard acknowledges a version when starting a shift; the acknowledgement names the
shift, so the shift's activity report shows what the guard confirmed reading.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.shifts import Shift
from facility_log.models.sites import Site, Zone

TITLE_MAX = 200
BODY_MAX = 20000


class PostOrder(AuditedModel):
    """One standing instruction of a site, optionally for one zone. `title`, `body` and
    `version` are the current version's (each version is kept as a PostOrderVersion).
    A retired post order (`retired_at`, by whom and why) is no longer in force."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="post_orders")
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="post_orders"
    )
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Retired: no longer in force. Kept with its versions; not asked for at a shift start,
    # not on the tablet (services/post_orders.retire_post_order).
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retire_reason = models.CharField(max_length=500, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["site__code", "title", "pk"]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"


class PostOrderVersion(AppendOnlyModel):
    """One version of a post order as written: text, author, time and why it changed."""

    post_order = models.ForeignKey(PostOrder, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX)
    reason = models.CharField(max_length=500)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post_order", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["post_order", "number"], name="post_order_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.number})"


def post_order_file_path(instance: "PostOrderAttachment", filename: str) -> str:
    """Generated names only: the uploader's file name is kept as data, never as a path."""
    return filename


class PostOrderAttachment(AppendOnlyModel):
    """A file (a plan of the site, a contact sheet) given with a version of a post order,
    its type checked from its content, stored under a generated name with its SHA-256."""

    post_order = models.ForeignKey(PostOrder, on_delete=models.PROTECT, related_name="attachments")
    version = models.ForeignKey(
        PostOrderVersion, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=post_order_file_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class PostOrderAck(AppendOnlyModel):
    """A guard's confirmation, at the start of `shift`, of having read `version`."""

    version = models.ForeignKey(PostOrderVersion, on_delete=models.PROTECT, related_name="acks")
    guard = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, null=True, blank=True, related_name="post_order_acks"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["acknowledged_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "guard"], name="post_order_ack_once")
        ]

    def __str__(self) -> str:
        return f"ack of post order version {self.version_id} by {self.guard_id}"
