"""After submission nothing is edited in place: field corrections with a reason,
supplements and attachments."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils import timezone

from facility_log.models import Attachment, Incident, Supplement
from facility_log.models.incidents import Status
from facility_log.scoping import REPORT_ROLES, require_role
from facility_log.services import filetypes, thumbnails, uploads
from facility_log.services.audit import audited_change
from facility_log.services.incidents.rules import (
    CORRECTABLE_FIELDS,
    NEVER_CORRECTED,
    NOT_IN_PLACE,
    OPEN_AFTER_SUBMISSION,
    _apply,
    _check_version,
    _locked,
    _require_author_or_reviewer,
    _require_status,
    _require_text,
)
from facility_log.services.staged_files import staged_files


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
    `created=False`. An image gets its report thumbnail (`AttachmentThumbnail`) in the same
    transaction; one Pillow cannot read is stored all the same, without."""
    file_type = check_upload(upload)
    digest = uploads.upload_sha256(upload)
    # The report's thumbnail, made once here rather than at every export (~50 ms for a 5 MB
    # photo), before the incident is locked; stored with the attachment, in its transaction.
    thumbnail = thumbnails.of_upload(upload, file_type)
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
        if thumbnail is not None:
            thumbnails.record_thumbnail(attachment, thumbnail)
    return attachment, True


def check_upload(upload: File) -> filetypes.FileType:
    """The file's real type; ValidationError on `file` when too large, unknown or misnamed
    (services/uploads.py)."""
    return uploads.check_upload(upload)
