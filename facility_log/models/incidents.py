"""Incidents: what happened on site, who and what was involved, the evidence, and the review.

A draft is the author's to change. Once submitted nothing is edited in place: additions are
supplements (append-only), a correction of a field needs a reason and shows in history, and
nothing is deleted. Persons exist only inside one incident: there is no index of people.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from facility_log.models.base import AppendOnlyModel, AuditedModel, audited_history
from facility_log.models.sites import Site, Zone


class Category(AuditedModel):
    """A kind of incident (trespass, theft, ...). A seeded list that managers can edit in the
    admin; categories are deactivated, never deleted, because incidents point at them."""

    name = models.CharField(max_length=80, unique=True)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    history = audited_history()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        # The seeded names are in the catalogue (services.incidents.DEFAULT_CATEGORIES);
        # names a manager adds are shown as typed.
        return gettext(self.name)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned to author")
    APPROVED = "approved", _("Approved")
    CLOSED = "closed", _("Closed")
    VOID = "void", _("Void")


class ThreatChannel(models.TextChoices):
    """How a threat reached the facility. Nothing here describes watching the sender."""

    PHONE = "phone", _("Phone call")
    LETTER = "letter", _("Letter or parcel")
    IN_PERSON = "in_person", _("In person")
    EMAIL = "email", _("Email to the facility")
    OTHER = "other", _("Other")


class IncidentCounter(AuditedModel):
    """The last number issued per site and year. Submission locks this row
    (`select_for_update`) so concurrent submissions get consecutive numbers, without gaps."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="incident_counters")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    history = audited_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "year"], name="incident_counter_site_year")
        ]

    def __str__(self) -> str:
        return f"{self.site_id}/{self.year}: {self.last_number}"


# The fields of the report itself, in the order forms and the admin show them. The rules on
# which may change when live in services/incidents/rules.py (DRAFT_FIELDS, CORRECTABLE_FIELDS).
REPORT_FIELDS = (
    "zone",
    "location_text",
    "category",
    "severity",
    "occurred_from",
    "occurred_to",
    "discovered_at",
    "reported_at",
    "title",
    "narrative",
    "actions_taken",
    "police_notified",
    "police_agency",
    "police_case_number",
    "police_officer",
    "police_notified_at",
    "threat_channel",
    "threat_words",
    "threat_target",
)


class Incident(AuditedModel):
    """One thing that happened at a site, as reported by a guard and reviewed by a supervisor.

    `number` (e.g. HQ-2026-0042) is issued at first submission. `version` goes up on every
    save, so an edit made on an older version is refused instead of overwriting. `client_uuid`
    makes creation idempotent for tablets that retry.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="incidents")
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, related_name="incidents", null=True, blank=True
    )
    location_text = models.CharField("Where exactly", max_length=200, blank=True)
    number = models.CharField(max_length=40, unique=True, null=True, blank=True, editable=False)
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    client_payload_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="incidents", null=True, blank=True
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.LOW)
    occurred_from = models.DateTimeField("Occurred from", default=timezone.now)
    occurred_to = models.DateTimeField("Occurred until", null=True, blank=True)
    discovered_at = models.DateTimeField("Discovered at", null=True, blank=True)
    reported_at = models.DateTimeField("Reported at", default=timezone.now)
    title = models.CharField("Short title", max_length=200, blank=True)
    narrative = models.TextField("What happened", blank=True)
    actions_taken = models.TextField("Actions taken", blank=True)

    police_notified = models.BooleanField("Police notified", default=False)
    police_agency = models.CharField("Police agency", max_length=120, blank=True)
    police_case_number = models.CharField("Police case number", max_length=80, blank=True)
    police_officer = models.CharField("Police officer", max_length=120, blank=True)
    police_notified_at = models.DateTimeField("Police notified at", null=True, blank=True)

    threat_channel = models.CharField(
        "Threat arrived by", max_length=12, choices=ThreatChannel.choices, blank=True
    )
    threat_words = models.TextField("Words used", blank=True)
    threat_target = models.CharField("Who or what was targeted", max_length=200, blank=True)

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="authored_incidents",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    void_reason = models.TextField(blank=True, editable=False)

    history = audited_history()

    class Meta:
        ordering = ["-occurred_from", "-id"]
        indexes = [
            # The list's default order, all statuses or one, per site (docs/performance.md).
            models.Index(fields=["site", "-occurred_from", "-id"], name="incident_site_time"),
            models.Index(
                fields=["site", "status", "-occurred_from", "-id"], name="incident_site_status_time"
            ),
            # The review queue: each site's submitted incidents, oldest submission first.
            models.Index(
                fields=["site", "submitted_at", "id"],
                condition=Q(status="submitted"),
                name="incident_review_queue",
            ),
            # A shift's report: the incidents its guard reported during it (or that occurred
            # then: incident_site_time), one bitmap OR instead of reading the site's incidents.
            models.Index(fields=["site", "author", "created_at"], name="incident_site_author_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_to__isnull=True) | Q(occurred_to__gte=F("occurred_from")),
                name="incident_occurred_to_after_from",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    def clean(self) -> None:
        if self.occurred_to and self.occurred_from and self.occurred_to < self.occurred_from:
            raise ValidationError({"occurred_to": "The end is before the start."})
        if self.police_notified_at and not self.police_notified:
            raise ValidationError({"police_notified": "Tick this when police were notified."})

    @property
    def label(self) -> str:
        """The label shown on pages, in the reader's language."""
        return self.number or gettext("Draft %(pk)s") % {"pk": self.pk}

    @property
    def record_label(self) -> str:
        """The label written into logs (the view log): the same whoever's language."""
        return self.number or f"Draft {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == Status.DRAFT

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version += 1
        super().save(*args, **kwargs)


class PersonRole(models.TextChoices):
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")
    SUSPECT = "suspect", _("Suspect")
    REPORTING_PARTY = "reporting_party", _("Reporting party")
    EMPLOYEE = "employee", _("Employee")
    CONTRACTOR = "contractor", _("Contractor")
    VISITOR = "visitor", _("Visitor")
    OTHER = "other", _("Other")


class InvolvedPerson(AuditedModel):
    """A person as they appear in ONE incident: their role here and what they said. There is
    deliberately no link between persons of different incidents (see PRIVACY.md)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="persons")
    role = models.CharField(max_length=20, choices=PersonRole.choices)
    name = models.CharField("Name (optional)", max_length=150, blank=True)
    description = models.TextField("Description", blank=True)
    contact = models.CharField("Contact", max_length=200, blank=True)
    statement = models.TextField("Statement", blank=True)

    history = audited_history()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name or 'unnamed'}"


class Vehicle(AuditedModel):
    """A vehicle seen or involved in one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="vehicles")
    registration = models.CharField("Registration plate", max_length=20, blank=True)
    make_model = models.CharField("Make and model", max_length=100, blank=True)
    colour = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)

    history = audited_history()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.registration or self.make_model or "vehicle"


class PropertyKind(models.TextChoices):
    STOLEN = "stolen", _("Stolen")
    DAMAGED = "damaged", _("Damaged")
    RECOVERED = "recovered", _("Recovered")
    FOUND = "found", _("Found")


class PropertyItem(AuditedModel):
    """Property stolen, damaged, recovered or found in one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="property_items")
    kind = models.CharField(max_length=12, choices=PropertyKind.choices)
    description = models.TextField()
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:40]}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Generated names only: the uploader's file name is kept as data, never as a path."""
    return filename


class Attachment(AppendOnlyModel):
    """A photo, video, audio or document, stored under a generated name with its SHA-256.
    Never modified; a redacted copy is a new attachment pointing at its original."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=300, blank=True)
    redacted_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="redactions"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class AttachmentThumbnail(AppendOnlyModel):
    """The small JPEG of an image attachment that the police package's report shows, made
    once from the original's bytes (at upload, or at the first export of an attachment stored
    before thumbnails were kept). Append-only and chained in the ledger like the attachment
    itself, so its bytes are covered by the ledger's digest: the export uses it only while its
    row still matches its entry (services/thumbnails.py). Goes with its attachment in a purge.
    """

    attachment = models.OneToOneField(
        Attachment, on_delete=models.PROTECT, related_name="thumbnail"
    )
    jpeg = models.BinaryField()
    # How it was made (size and quality): the export uses a stored thumbnail only when it is
    # what the export would make today, so a report never depends on when a photo came in.
    recipe = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Thumbnail of attachment {self.attachment_id}"


class Supplement(AppendOnlyModel):
    """An addition to an incident after submission: who, when, what and why. Never edited."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="supplements")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField()
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Supplement {self.pk} to {self.incident_id}"


class ReviewDecision(models.TextChoices):
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")


class Review(AppendOnlyModel):
    """A supervisor's decision on a submitted incident, with the comment. Never edited."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer_id}"
