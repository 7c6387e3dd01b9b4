"""Notices to people: what was sent to whom, when, by which way, and whether they read it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AuditedModel, audited_history
from facility_log.models.sites import Site


class NotificationKind(models.TextChoices):
    """What a notice is about. Each user chooses, per kind, whether it also comes by email."""

    REPORT_SUBMITTED = "report_submitted", _("A report is waiting for review")
    REPORT_RETURNED = "report_returned", _("My report was returned to me")
    SEVERE_INCIDENT = "severe_incident", _("A high or critical incident was submitted")
    URGENT_ALARM = "urgent_alarm", _("Duress or forced-door alarm")
    ALARM_UNACKNOWLEDGED = "alarm_unacknowledged", _("An alarm was not acknowledged in time")
    MISSED_ROUND = "missed_round", _("Rounds were missed")
    KEY_OVERDUE = "key_overdue", _("A key was not returned in time")


class Notification(AuditedModel):
    """One notice to one person: shown in their in-app list, emailed when they asked for it.
    `emailed_to` is the address it was sent to (empty: in-app only); `email_error` says why
    the email could not be sent. Reading it sets `read_at` (kept in history)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    path = models.CharField(max_length=300, help_text="where the notice leads, in this app")
    created_at = models.DateTimeField(default=timezone.now)
    emailed_to = models.EmailField(blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notice_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_id}: {self.subject}"


class NotificationPreference(AuditedModel):
    """A user's choice for one kind of notice: by email as well, or in the app only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notification_choices"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_choice_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {'email' if self.email else 'in-app'}"
