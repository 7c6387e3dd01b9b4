"""On site: key control. A site's physical keys and key sets, and who holds which right now.

A key set groups keys that are issued together (a guard-house ring); a key of a set is issued
with its set, never on its own. An issue goes to a member of the site's staff or to a
contractor named for that issue only: the contractor's name and company are typed on each
issue and nothing joins two issues to the same person (DESIGN.md, no profiles of people).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from facility_log.models.base import AuditedModel, audited_history
from facility_log.models.sites import Site


class KeySet(AuditedModel):
    """Keys issued together, under one label (e.g. "Ring 3 – plant room")."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="key_sets")
    label = models.CharField(max_length=64, help_text="The number or tag on the ring.")
    opens = models.CharField(max_length=300, blank=True, help_text="What the set opens.")
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site", "label"]
        constraints = [
            models.UniqueConstraint(fields=["site", "label"], name="key_set_label_per_site")
        ]

    def __str__(self) -> str:
        return f"set {self.label}"


class Key(AuditedModel):
    """One physical key: its label (the number stamped on it) and what it opens. A key in a
    `key_set` is issued only with its set."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="keys")
    label = models.CharField(max_length=64, help_text="The number stamped or tagged on it.")
    opens = models.CharField(max_length=300, help_text="The doors, cabinets or gates it opens.")
    key_set = models.ForeignKey(
        KeySet, on_delete=models.PROTECT, null=True, blank=True, related_name="keys"
    )
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["site", "label"]
        constraints = [models.UniqueConstraint(fields=["site", "label"], name="key_label_per_site")]

    def __str__(self) -> str:
        return f"key {self.label}"


class KeyIssue(AuditedModel):
    """One hand-out of a key or a key set, from issue to return. Exactly one of `key` and
    `key_set`; exactly one of `holder` (a member of the site's staff) and `contractor_name`
    (with `contractor_company`, typed for this issue only). Open while `returned_at` is
    empty; the database refuses a second open issue of the same key or set.

    `overdue_notified_at`: when the site's supervisors and managers were told it was not back
    by `expected_return_at` (once per issue)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey(
        Key, on_delete=models.PROTECT, null=True, blank=True, related_name="issues"
    )
    key_set = models.ForeignKey(
        KeySet, on_delete=models.PROTECT, null=True, blank=True, related_name="issues"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    contractor_name = models.CharField(max_length=150, blank=True)
    contractor_company = models.CharField(max_length=150, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expected_return_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(
                fields=["site", "expected_return_at"],
                condition=Q(returned_at__isnull=True),
                name="key_issue_open_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(key__isnull=True) ^ Q(key_set__isnull=True),
                name="key_issue_key_or_set",
            ),
            models.CheckConstraint(
                condition=Q(holder__isnull=True) ^ Q(contractor_name=""),
                name="key_issue_holder_or_contractor",
            ),
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(returned_at__isnull=True, key__isnull=False),
                name="key_issued_once_at_a_time",
            ),
            models.UniqueConstraint(
                fields=["key_set"],
                condition=Q(returned_at__isnull=True, key_set__isnull=False),
                name="key_set_issued_once_at_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.what} to {self.holder_text}"

    @property
    def what(self):
        """The key or the set this issue handed out."""
        return self.key if self.key_id else self.key_set

    @property
    def holder_text(self) -> str:
        """Who holds it: the staff member's name, or the contractor as typed."""
        if self.holder_id:
            return self.holder.get_full_name() or self.holder.get_username()
        company = f" ({self.contractor_company})" if self.contractor_company else ""
        return f"{self.contractor_name}{company}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.expected_return_at < (now or timezone.now())
