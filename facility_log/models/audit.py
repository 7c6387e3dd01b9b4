"""The tamper-evident ledger: one hash-chained entry per history row and per append-only
record, written in the same transaction as the change it proves."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history


class LedgerEntry(AppendOnlyModel):
    """One link of the chain. `hash` = SHA-256 over the previous entry's hash and this entry's
    canonical content (which includes `digest`, the SHA-256 of the record it covers). Changing,
    inserting or removing any history row or entry breaks the chain or a digest, and
    `manage.py verify_audit` names where."""

    class Kind(models.TextChoices):
        HISTORY = "history", _("history row")
        RECORD = "record", _("append-only record")
        BATCH = "batch", _("batch of records")
        TOMBSTONE = "tombstone", _("purged by retention")

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the row")
    object_pk = models.CharField(max_length=64)
    record_label = models.CharField(
        max_length=200, blank=True, help_text="the audited record, e.g. 'site #3'"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_pk"])]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.object_type}:{self.object_pk}"


class Disclosure(AppendOnlyModel):
    """One export of a record to someone outside the system (police, insurer): who, when,
    to whom, why, what was left out, and the SHA-256 of exactly what was handed over."""

    site = models.ForeignKey("facility_log.Site", on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(max_length=100)
    object_pk = models.CharField(max_length=64)
    object_label = models.CharField(max_length=200, help_text="e.g. the incident number")
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_by_name = models.CharField(max_length=150)
    disclosed_at = models.DateTimeField(auto_now_add=True)
    recipient = models.CharField(max_length=200, help_text="agency or organisation")
    case_number = models.CharField(max_length=100, blank=True)
    reason = models.TextField()
    redactions = models.JSONField(default=list, blank=True)
    package_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-disclosed_at"]

    def __str__(self) -> str:
        return f"{self.object_label} to {self.recipient} by {self.disclosed_by_name}"


class RecordView(AppendOnlyModel):
    """Someone read personal data: one record (an incident, an attachment, a daily activity
    report) or a list of `row_count` records (a CSV export, a cardholder search), through
    the route named by `via`. The answer to "who has seen this, and how?" for an auditor.
    Written by `services/view_log.py` only."""

    class Via(models.TextChoices):
        PAGE = "page", _("page")
        API = "api", _("API")
        HISTORY = "history", _("history page")
        ATTACHMENT = "attachment", _("attachment download")
        CSV = "csv", _("CSV export")
        POLICE_EXPORT = "police-export", _("police export")
        ACTIVITY_REPORT = "activity-report", _("daily activity report")
        CARDHOLDER_SEARCH = "cardholder-search", _("cardholder search")

    site = models.ForeignKey("facility_log.Site", on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(max_length=100)
    object_pk = models.CharField(max_length=64, blank=True, help_text="empty for a list")
    object_label = models.CharField(max_length=200)
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    viewer_name = models.CharField(max_length=150)
    viewed_at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=20, choices=Via.choices, default=Via.PAGE)
    row_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="records of this site in a list read; empty for one"
    )

    class Meta:
        ordering = ["-viewed_at"]
        indexes = [
            models.Index(fields=["object_type", "object_pk"]),
            # The auditors' search pages by id, newest first, often within one site.
            models.Index(fields=["site", "-id"], name="record_view_site_id"),
        ]

    def __str__(self) -> str:
        return f"{self.object_label} read by {self.viewer_name} ({self.via})"


class LedgerCheckpoint(AppendOnlyModel):
    """A point up to which `verify_audit` found the chain and every row intact, signed by the
    server, so that the next check (`verify_audit --since-checkpoint`) reads only what came
    after it. `high_water` holds, per covered table, the largest primary key that existed in
    the snapshot the check read: rows above it are new and are checked next time."""

    seq = models.BigIntegerField(help_text="the last ledger entry covered")
    hash = models.CharField(max_length=64, help_text="that entry's hash")
    created_at = models.DateTimeField()
    high_water = models.JSONField(default=dict)
    full = models.BooleanField(help_text="made by a full check (else by a checkpointed one)")
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq", "-pk"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.seq} ({self.created_at:%Y-%m-%d %H:%M})"


class AuditCheck(AuditedModel):
    """A verification of the ledger asked for on the audit page, run by the task worker
    (`manage.py db_worker`) rather than in the request: it may read the whole ledger. Holds
    the progress the page shows and the outcome (the first problems, their count, the head
    it reached). One runs at a time, and a new one only after AUDIT_CHECK_INTERVAL."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Checking")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped before the end")

    class Scope(models.TextChoices):
        SINCE = "since", _("What is new since the last checkpoint")
        FULL = "full", _("The whole ledger")

    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.SINCE)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.QUEUED)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Progress: entries read so far of the entries to read when the check started.
    entries_checked = models.PositiveBigIntegerField(default=0)
    entries_total = models.PositiveBigIntegerField(default=0)
    since_seq = models.BigIntegerField(null=True, blank=True)
    intact = models.BooleanField(null=True)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"audit check {self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, 100 * self.entries_checked // max(self.entries_total, 1))
