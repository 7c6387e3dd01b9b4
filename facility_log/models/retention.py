"""Retention: how long each kind of record is kept per site, legal holds that keep an
incident past its period, and the record of every purge run.

The periods' defaults live in settings (`FACILITY_LOG["RETENTION_DAYS"]`); a site's managers
override them per kind (`RetentionPolicy`, audited: every change with its reason). What the
purge removes, and how it keeps the audit ledger whole, is in services/retention.py and
docs/retention.md.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.sites import Site

# A hundred years: long enough for any legal period, short enough to catch a typo.
MAX_RETENTION_DAYS = 36500


class RecordKind(models.TextChoices):
    """The kinds of record a retention period applies to (one period per kind and site)."""

    ACCESS_EVENTS = "access_events", _("Access events and their alarms")
    ROUNDS = "rounds", _("Round data (runs, scans, round exceptions)")
    SHIFTS = "shifts", _("Shift logs (shifts, log entries, pass-down notes)")
    INCIDENTS = "incidents", _("Closed and void incidents")
    VIEW_LOG = "view_log", _("Record-view log")
    VISITORS = "visitors", _("Visitor day sheets")


class RetentionPolicy(AuditedModel):
    """A site's own period for one kind of record, overriding the default in settings.
    Changed only through `services.retention.set_retention_period`, with a reason."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="retention_policies")
    kind = models.CharField(max_length=16, choices=RecordKind.choices)
    days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)]
    )

    history = audited_history()

    class Meta:
        ordering = ["site__code", "kind"]
        verbose_name_plural = "retention policies"
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="retention_policy_site_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} at site {self.site_id}: {self.days} days"


class LegalHold(AuditedModel):
    """An incident kept beyond its retention period (litigation, a police request): placed
    with a reason, released with a reason, both in the history. While a hold is active
    (`released_at` empty) the purge leaves the incident and everything of it alone."""

    incident = models.ForeignKey(
        "facility_log.Incident", on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=models.Q(released_at__isnull=True),
                name="legal_hold_one_active_per_incident",
            )
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "active"
        return f"legal hold on incident {self.incident_id} ({state})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class PurgeRun(AppendOnlyModel):
    """One run of `purge_expired`: when, by whom, dry run or applied, and how it ended.
    What it removed (or would have) per site and kind is in its `PurgeCount` rows."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    applied = models.BooleanField(help_text="false: a dry run that removed nothing")
    outcome = models.TextField(help_text="'completed', or the error that stopped the run")

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        mode = "purge" if self.applied else "dry run"
        return f"{mode} {self.started_at:%Y-%m-%d %H:%M}Z by {self.actor_name}"


class PurgeCount(AppendOnlyModel):
    """What one purge run removed (or, dry, would remove) of one kind at one site, under
    which period. `records` counts whole records (an incident, an event, a run, a shift, a
    round exception, a view); `rows` every row removed with them (parts, history rows);
    `held` the expired incidents kept by a legal hold; `kept` expired records kept because
    an incident still needs them (an alarm or scan it was opened from)."""

    run = models.ForeignKey(PurgeRun, on_delete=models.PROTECT, related_name="counts")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=RecordKind.choices)
    days = models.PositiveIntegerField()
    cutoff = models.DateTimeField(help_text="records older than this were expired")
    records = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "site__code", "kind"]

    def __str__(self) -> str:
        return f"{self.kind} at site {self.site_id}: {self.records}"
