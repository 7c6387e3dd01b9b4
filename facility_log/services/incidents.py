"""Incidents: reporting, the review workflow, supplements, corrections and attachments.

Guards write, supervisors review, managers close. A draft is edited freely (each edit names
the version it was made on); after submission nothing is edited in place: additions are
supplements, a field correction needs a reason, and nothing is deleted.

    draft ──submit──▶ submitted ──approve──▶ approved ──close──▶ closed
                         │  ▲
                  return │  │ submit (after a supplement or correction)
                         ▼  │
                       returned            any open state ──void (reason)──▶ void
"""

import hashlib
import json
import uuid
from datetime import date, datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import IntegrityError
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from facility_log.models import (
    Attachment,
    Category,
    Incident,
    IncidentCounter,
    InvolvedPerson,
    PropertyItem,
    Review,
    Site,
    Supplement,
    Vehicle,
)
from facility_log.models.incidents import REPORT_FIELDS, ReviewDecision, Status
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    REVIEW_ROLES,
    VIEW_ROLES,
    has_role,
    require_role,
    scoped,
    scoped_to_ids,
)
from facility_log.services import filetypes, notifications, uploads
from facility_log.services.audit import audited_change
from facility_log.services.incident_timeline import (  # noqa: F401 (part of this API)
    TimelineEvent,
    incident_timeline,
    user_label,
)
from facility_log.services.staged_files import staged_files

# Marked for the catalogue: Category shows these names translated (models/incidents.py).
DEFAULT_CATEGORIES = [
    gettext_noop("Trespass"),
    gettext_noop("Theft"),
    gettext_noop("Vandalism"),
    gettext_noop("Threat received"),
    gettext_noop("Suspicious activity"),
    gettext_noop("Access violation"),
    gettext_noop("Alarm"),
    gettext_noop("Fire"),
    gettext_noop("Injury / medical"),
    gettext_noop("Safety hazard"),
    gettext_noop("Property damage"),
    gettext_noop("Lost / found"),
    gettext_noop("Other"),
]

# What a draft may contain; after submission only CORRECTABLE fields change, with a reason.
DRAFT_FIELDS = frozenset(REPORT_FIELDS)
# The author's account of events is never rewritten: additions go into supplements.
NEVER_CORRECTED = frozenset({"narrative", "actions_taken"})
CORRECTABLE_FIELDS = DRAFT_FIELDS - NEVER_CORRECTED
REQUIRED_TO_SUBMIT = ("category", "severity", "occurred_from", "narrative")
NOT_IN_PLACE = (
    "A submitted incident is not edited in place: add a supplement, or correct a field "
    "with a reason."
)
OPEN_AFTER_SUBMISSION = (Status.SUBMITTED, Status.RETURNED, Status.APPROVED)


class EditConflict(Exception):
    """An edit was made on an older version than the one stored (HTTP 409)."""

    def __init__(self, current: Incident, expected_version: int):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            f"{current.label} was changed by someone else: you edited version "
            f"{expected_version}, the stored version is {current.version}."
        )


class StateConflict(ValidationError):
    """The incident is not in a state that allows the action, usually because someone else
    moved it on meanwhile (two supervisors approving at once): a clash with its state (HTTP
    409 with the incident as it is now), still a ValidationError for pages and forms."""

    def __init__(self, current: Incident, message: str):
        self.current = current
        super().__init__({"status": message})


class IdempotencyConflict(Exception):
    """A client UUID was sent again with a different payload (HTTP 422)."""


def ensure_default_categories(actor: AbstractBaseUser | None) -> None:
    """Create the seeded categories that do not exist yet (idempotent)."""
    existing = set(Category.objects.values_list("name", flat=True))
    missing = [name for name in DEFAULT_CATEGORIES if name not in existing]
    if not missing:
        return
    with audited_change(actor, "default incident categories"):
        for name in missing:
            Category.objects.create(name=name, sort_order=DEFAULT_CATEGORIES.index(name) * 10)


# --- helpers ----------------------------------------------------------------------------


def _locked(incident: Incident) -> Incident:
    """The stored row, locked until the end of the transaction (only this row: the site is
    not locked, so work at the same site is not serialised needlessly)."""
    return (
        Incident.objects.select_for_update(of=("self",)).select_related("site").get(pk=incident.pk)
    )


def _check_version(incident: Incident, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != incident.version:
        raise EditConflict(incident, int(expected_version))


def _require_status(incident: Incident, allowed, action: str) -> None:
    if incident.status not in allowed:
        state = incident.status  # "returned", not the display "Returned to author"
        article = "An" if state[:1] in "aeiou" else "A"
        raise StateConflict(incident, f"{article} {state} incident cannot be {action}.")


def _require_author_or_reviewer(incident: Incident, actor: AbstractBaseUser) -> None:
    require_role(actor, incident.site, REPORT_ROLES)
    if incident.author_id != actor.pk and not has_role(actor, incident.site, REVIEW_ROLES):
        raise PermissionDenied("Only the author or a supervisor can change this incident.")


def _require_other_reviewer(incident: Incident, actor: AbstractBaseUser) -> None:
    require_role(actor, incident.site, REVIEW_ROLES)
    if incident.author_id == actor.pk:
        raise PermissionDenied("A report is reviewed by someone other than its author.")


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _apply(incident: Incident, changes: dict, allowed: frozenset) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    for name, value in changes.items():
        setattr(incident, name, value)
    _validate(incident)
    incident.save()


def _validate(incident: Incident) -> None:
    errors: dict[str, list[str]] = {}
    if incident.zone_id and incident.zone.site_id != incident.site_id:
        errors["zone"] = [gettext("This zone is not at %(site)s.") % {"site": incident.site.code}]
    if incident.category_id and not incident.category.is_active:
        errors["category"] = [gettext("This category is no longer in use.")]
    try:
        incident.full_clean(exclude=["author"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _payload_hash(site: Site, fields: dict, children: dict) -> str:
    """A stable fingerprint of what a client sent, to tell a retry from a different report."""

    def plain(value):
        if hasattr(value, "pk"):
            return value.pk
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    body = {
        "site": site.pk,
        "fields": {k: plain(v) for k, v in sorted(fields.items())},
        **{
            kind: [{k: plain(v) for k, v in sorted(row.items())} for row in rows]
            for kind, rows in children.items()
        },
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _next_number(site: Site) -> str:
    """The next number of the site's year. The counter row is locked (FOR UPDATE) until the
    submitting transaction ends, so concurrent submissions queue and numbers have no gaps."""
    year = timezone.now().astimezone(site.tzinfo).year
    counter, _ = IncidentCounter.objects.select_for_update().get_or_create(site=site, year=year)
    counter.last_number += 1
    counter.save()
    return f"{site.code}-{year}-{counter.last_number:04d}"


# --- reporting ----------------------------------------------------------------------------


def create_incident(
    actor: AbstractBaseUser,
    *,
    site: Site,
    client_uuid: uuid.UUID | str | None = None,
    reason: str = "incident reported",
    persons: list[dict] | tuple = (),
    vehicles: list[dict] | tuple = (),
    property_items: list[dict] | tuple = (),
    **fields,
) -> tuple[Incident, bool]:
    """Create a draft incident with its persons, vehicles and property in one go, and return
    `(incident, created)`.

    Idempotent on `client_uuid`: the same payload again returns the stored incident with
    `created=False`; the same UUID with a different payload raises IdempotencyConflict."""
    require_role(actor, site, REPORT_ROLES)
    client_uuid = uuid.UUID(str(client_uuid)) if client_uuid else uuid.uuid4()
    children = {"persons": persons, "vehicles": vehicles, "property_items": property_items}
    fingerprint = _payload_hash(site, fields, children)
    existing = Incident.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _same_or_conflict(existing, fingerprint), False
    try:
        return _create(actor, site, client_uuid, fingerprint, reason, children, fields), True
    except IntegrityError:
        # A retry raced this one and won: answer like a retry.
        existing = Incident.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, fingerprint), False


def _same_or_conflict(existing: Incident, fingerprint: str) -> Incident:
    if existing.client_payload_sha256 != fingerprint:
        raise IdempotencyConflict(
            "This client_uuid was already used for a different incident; send a new UUID for a "
            "new report."
        )
    return existing


CHILD_MODELS = {"persons": InvolvedPerson, "vehicles": Vehicle, "property_items": PropertyItem}


def _create(actor, site, client_uuid, fingerprint, reason, children, fields) -> Incident:
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    with audited_change(actor, reason):
        incident = Incident(
            site=site,
            author=actor,
            client_uuid=client_uuid,
            client_payload_sha256=fingerprint,
            **fields,
        )
        _validate(incident)
        incident.save()
        for kind, rows in children.items():
            for index, row in enumerate(rows):
                _save_child(CHILD_MODELS[kind](incident=incident, **row), f"{kind}[{index}]")
    return incident


def _save_child(record, prefix: str = "") -> None:
    try:
        record.full_clean(exclude=["incident"])
    except ValidationError as error:
        if prefix:
            raise ValidationError(
                {f"{prefix}.{k}": v for k, v in error.message_dict.items()}
            ) from error
        raise
    record.save()


def update_draft(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    expected_version: int,
    reason: str = "draft edited",
    **changes,
) -> Incident:
    """Change a draft. Refused once submitted (NOT_IN_PLACE); refused with EditConflict when
    `expected_version` is not the stored version."""
    with audited_change(actor, reason):
        current = _locked(incident)
        if not current.is_draft:
            fields = sorted(changes) or ["status"]
            raise ValidationError(dict.fromkeys(fields, NOT_IN_PLACE))
        _require_author_or_reviewer(current, actor)
        _check_version(current, expected_version)
        _apply(current, changes, DRAFT_FIELDS)
    return current


def add_person(incident: Incident, actor: AbstractBaseUser, **fields) -> InvolvedPerson:
    """Add a person (their role in this incident only) to a draft."""
    return _add_to_draft(incident, actor, InvolvedPerson, fields, "person added")


def add_vehicle(incident: Incident, actor: AbstractBaseUser, **fields) -> Vehicle:
    """Add a vehicle to a draft."""
    return _add_to_draft(incident, actor, Vehicle, fields, "vehicle added")


def add_property_item(incident: Incident, actor: AbstractBaseUser, **fields) -> PropertyItem:
    """Add stolen, damaged, recovered or found property to a draft."""
    return _add_to_draft(incident, actor, PropertyItem, fields, "property added")


def _add_to_draft(incident, actor, model, fields, reason):
    with audited_change(actor, fields.pop("reason", "") or reason):
        current = _locked(incident)
        _require_author_or_reviewer(current, actor)
        if not current.is_draft:
            raise ValidationError({"status": NOT_IN_PLACE})
        record = model(incident=current, **fields)
        _save_child(record)
    return record


# --- workflow -----------------------------------------------------------------------------


def missing_to_submit(incident: Incident) -> list[str]:
    """The fields of REQUIRED_TO_SUBMIT that `incident` leaves empty (none: it can be
    submitted as far as its content goes)."""
    fields = [Incident._meta.get_field(name) for name in REQUIRED_TO_SUBMIT]
    return [f.name for f in fields if getattr(incident, f.attname) in (None, "")]


def submit_incident(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    reason: str = "submitted for review",
    expected_version: int | None = None,
) -> Incident:
    """Submit a draft (or resubmit a returned incident) for review. The first submission
    issues the site's next number (SITE-YEAR-NNNN)."""
    with audited_change(actor, reason):
        current = _locked(incident)
        _require_author_or_reviewer(current, actor)
        _require_status(current, (Status.DRAFT, Status.RETURNED), "submitted")
        _check_version(current, expected_version)
        missing = missing_to_submit(current)
        if missing:
            raise ValidationError(dict.fromkeys(missing, "Required before submitting."))
        if not current.number:
            current.number = _next_number(current.site)
        current.status = Status.SUBMITTED
        current.submitted_at = timezone.now()
        current.save()
        notifications.report_submitted(current)
    return current


def return_incident(incident: Incident, actor: AbstractBaseUser, *, comment: str) -> Incident:
    """Send a submitted incident back to its author with a comment saying what is missing."""
    comment = _require_text(comment, "comment", "Say what the author should add or correct.")
    return _review(incident, actor, ReviewDecision.RETURNED, Status.RETURNED, comment)


def approve_incident(incident: Incident, actor: AbstractBaseUser, *, comment: str = "") -> Incident:
    """Accept a submitted incident as the site's record of what happened."""
    return _review(incident, actor, ReviewDecision.APPROVED, Status.APPROVED, comment)


def _review(incident, actor, decision, new_status, comment) -> Incident:
    reason = f"{decision}: {comment}" if comment else str(decision)
    with audited_change(actor, reason):
        current = _locked(incident)
        _require_other_reviewer(current, actor)
        _require_status(current, (Status.SUBMITTED,), str(decision))
        Review.objects.create(incident=current, reviewer=actor, decision=decision, comment=comment)
        current.status = new_status
        current.save()
        if decision == ReviewDecision.RETURNED:
            notifications.report_returned(current, comment)
    return current


def close_incident(incident: Incident, actor: AbstractBaseUser, *, reason: str) -> Incident:
    """Close an approved incident (managers): nothing more is expected on it."""
    reason = _require_text(reason, "reason", "Say why the incident is closed.")
    with audited_change(actor, reason):
        current = _locked(incident)
        require_role(actor, current.site, MANAGE_ROLES)
        _require_status(current, (Status.APPROVED,), "closed")
        current.status = Status.CLOSED
        current.save()
    return current


def void_incident(incident: Incident, actor: AbstractBaseUser, *, reason: str) -> Incident:
    """Mark an incident as void (e.g. a duplicate or made in error). It is kept, with its
    number, so numbering stays gap-free; the author may void their own draft, supervisors and
    managers any open incident."""
    reason = _require_text(reason, "reason", "Say why the incident is void.")
    with audited_change(actor, f"void: {reason}"):
        current = _locked(incident)
        _require_status(current, (Status.DRAFT, *OPEN_AFTER_SUBMISSION), "voided")
        if current.is_draft:
            _require_author_or_reviewer(current, actor)
        else:
            require_role(actor, current.site, REVIEW_ROLES)
        current.status = Status.VOID
        current.void_reason = reason
        current.save()
    return current


def correct_field(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    field: str,
    value,
    reason: str,
    expected_version: int | None = None,
) -> Incident:
    """Correct one field of a submitted incident; the reason is kept in its history. The
    narrative and actions taken are never corrected: add a supplement instead."""
    reason = _require_text(reason, "reason", "A correction needs a reason.")
    if field in NEVER_CORRECTED:
        raise ValidationError({field: NOT_IN_PLACE})
    if field not in CORRECTABLE_FIELDS:
        raise ValidationError({"field": f"{field!r} cannot be corrected."})
    with audited_change(actor, f"correction: {reason}"):
        current = _locked(incident)
        _require_author_or_reviewer(current, actor)
        _require_status(current, OPEN_AFTER_SUBMISSION, "corrected")
        _check_version(current, expected_version)
        _apply(current, {field: value}, CORRECTABLE_FIELDS)
    return current


def add_supplement(
    incident: Incident, actor: AbstractBaseUser, *, text: str, reason: str
) -> Supplement:
    """Add to a submitted incident without changing what was written: an append-only note
    with its author, time and reason."""
    text = _require_text(text, "text", "Write what you are adding.")
    reason = _require_text(reason, "reason", "Say why you are adding it.")
    with audited_change(actor, reason):
        current = _locked(incident)
        require_role(actor, current.site, REPORT_ROLES)
        _require_status(current, OPEN_AFTER_SUBMISSION, "supplemented")
        return Supplement.objects.create(incident=current, author=actor, text=text, reason=reason)


# --- attachments --------------------------------------------------------------------------


def add_attachment(incident: Incident, actor: AbstractBaseUser, **options) -> Attachment:
    """Store a file on the incident and return its attachment; see `store_attachment`."""
    return store_attachment(incident, actor, **options)[0]


def store_attachment(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    upload: File,
    description: str = "",
    redacted_from: Attachment | None = None,
    reason: str = "attachment added",
) -> tuple[Attachment, bool]:
    """Store a photo, video, audio or document under a generated name with its SHA-256, and
    return `(attachment, created)`.

    The type comes from the content (magic bytes), never from the name or the browser; a file
    whose name claims another type, or larger than FACILITY_LOG["MAX_UPLOAD_BYTES"], is
    refused and nothing is stored. An incident holds the same bytes once: uploading them
    again (a tablet's outbox retrying after a lost answer) returns the stored attachment with
    `created=False`."""
    file_type = check_upload(upload)
    digest = uploads.upload_sha256(upload)
    # The file is written under a temporary name and moved to its own when the row commits
    # (services/staged_files.py): a failed write leaves no file without its record.
    with staged_files() as staging, audited_change(actor, reason):
        current = _locked(incident)
        require_role(actor, current.site, REPORT_ROLES)
        _require_status(current, (Status.DRAFT, *OPEN_AFTER_SUBMISSION), "given attachments")
        if redacted_from is not None and redacted_from.incident_id != current.pk:
            raise ValidationError({"redacted_from": "The original belongs to another incident."})
        existing = current.attachments.filter(sha256=digest).first()
        if existing is not None:
            return existing, False
        attachment = Attachment(
            incident=current,
            original_name=(getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:255],
            content_type=file_type.content_type,
            size=upload.size,
            sha256=digest,
            description=description,
            redacted_from=redacted_from,
            uploaded_by=actor,
        )
        year = timezone.now().year
        name = uploads.generated_name(file_type, f"incidents/{current.site.code}/{year}")
        upload.seek(0)
        staging.save(attachment, "file", name, upload)
        attachment.save()
    return attachment, True


def check_upload(upload: File) -> filetypes.FileType:
    """The file's real type; ValidationError on `file` when too large, unknown or misnamed
    (services/uploads.py)."""
    return uploads.check_upload(upload)


# --- reading ------------------------------------------------------------------------------


def visible_incidents(user, roles=VIEW_ROLES) -> QuerySet[Incident]:
    """The incidents of the sites where `user` holds one of `roles`, ready for a list."""
    return scoped(
        Incident.objects.select_related("site", "zone", "category", "author"), user, roles
    )


def search_incidents(user, filters: dict) -> QuerySet[Incident]:
    """Visible incidents narrowed by the list filters: site (code), status, severity,
    category (id), date_from / date_to (dates, on `occurred_from`; local days of `tz` when
    given, as the list does for a chosen site) and text (number, title,
    narrative, location). Persons are deliberately not searchable across incidents."""
    qs = visible_incidents(user)
    exact = {
        "site": "site__code",
        "status": "status",
        "severity": "severity",
        "category": "category_id",
    }
    for key, lookup in exact.items():
        if filters.get(key):
            qs = qs.filter(**{lookup: filters[key]})
    zone = filters.get("tz")
    if filters.get("date_from"):
        qs = qs.filter(occurred_from__gte=_day_start(filters["date_from"], zone=zone))
    if filters.get("date_to"):
        qs = qs.filter(occurred_from__lt=_day_start(filters["date_to"], next_day=True, zone=zone))
    if filters.get("text"):
        qs = qs.alias(search_text=search_document()).filter(search_text__icontains=filters["text"])
    return qs


# What the text search looks in, in this order (migration 0011 indexes the same expression).
SEARCHED_FIELDS = ("number", "title", "location_text", "narrative")


def search_document() -> Concat:
    """An incident's number, title, location and narrative as one text: what the search
    looks in, case-insensitively, for any part of a word (`icontains`).

    On PostgreSQL a trigram index (pg_trgm, migration 0011) holds exactly this expression
    upper-cased, so `UPPER(...) LIKE UPPER('%word%')` is answered from the index instead of
    reading every incident; on SQLite it is a plain LIKE over the same text. Change it only
    together with a migration that rebuilds the index (tests/services/test_incident_search.py
    checks that PostgreSQL uses it)."""
    parts = []
    for name in SEARCHED_FIELDS:
        parts += [F(name), Value(" ")]
    return Concat(*parts[:-1], output_field=TextField())


def _day_start(day: date, next_day: bool = False, zone=None) -> datetime:
    """Midnight starting `day` in `zone` (a site's, from the list's filter form), else in the
    current time zone (UTC)."""
    if next_day:
        day = date.fromordinal(day.toordinal() + 1)
    zone = zone or timezone.get_current_timezone()
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def review_queue(user, site_ids: list[int] | None = None) -> QuerySet[Incident]:
    """Submitted incidents waiting for a review at the sites where `user` reviews, oldest
    submission first. Pass `site_ids` (scoping.site_id_list with REVIEW_ROLES) to narrow to
    that literal list, which lets a keyset page walk each site's index (the review queue page);
    without it the queryset is scoped by the usual subquery."""
    if site_ids is None:
        incidents = visible_incidents(user, REVIEW_ROLES)
    else:
        incidents = scoped_to_ids(
            Incident.objects.select_related("site", "category", "author"), site_ids
        )
    return incidents.filter(status=Status.SUBMITTED, submitted_at__isnull=False).order_by(
        "submitted_at", "id"
    )
