"""Checks of evidence files on disk, run by `verify_audit`: an attachment's bytes (and a
checkpoint scan's photo) must still hash to the SHA-256 recorded (and chained) when it was
uploaded."""

import hashlib
from collections.abc import Iterator

from facility_log.models.incidents import Attachment
from facility_log.models.rounds import Scan
from facility_log.services.ledger import Problem

CHUNK = 1024 * 1024


def _file_sha256(field_file) -> str | None:
    digest = hashlib.sha256()
    try:
        with field_file.open("rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
    except (FileNotFoundError, OSError):
        return None
    return digest.hexdigest()


def _problem(where: str, actual: str | None, recorded: str) -> Problem | None:
    if actual is None:
        return Problem(None, where, "its file is missing from storage")
    if actual != recorded:
        return Problem(None, where, "its bytes on disk no longer match the recorded SHA-256")
    return None


def attachment_problems(high_water: dict | None = None) -> Iterator[Problem]:
    """Attachments and scan photos whose file is gone or whose bytes changed; with a
    checkpoint's high-water marks, only those uploaded since (a full check re-reads every
    file)."""
    attachments = Attachment.objects.only("pk", "file", "sha256", "original_name")
    if high_water is not None:
        attachments = attachments.filter(pk__gt=high_water.get(Attachment._meta.label_lower, 0))
    for attachment in attachments.iterator():
        where = f"attachment {attachment.pk} ({attachment.original_name})"
        problem = _problem(where, _file_sha256(attachment.file), attachment.sha256)
        if problem is not None:
            yield problem
    # Photos stored before their SHA-256 was recorded (an empty one) have nothing to check.
    photos = (
        Scan.objects.exclude(photo="").exclude(photo_sha256="").only("pk", "photo", "photo_sha256")
    )
    if high_water is not None:
        photos = photos.filter(pk__gt=high_water.get(Scan._meta.label_lower, 0))
    for scan in photos.iterator():
        problem = _problem(f"scan {scan.pk}'s photo", _file_sha256(scan.photo), scan.photo_sha256)
        if problem is not None:
            yield problem
