"""Checks of evidence files on disk, run by `verify_audit`: an attachment's bytes must still
hash to the SHA-256 recorded (and chained) when it was uploaded."""

import hashlib
from collections.abc import Iterator

from facility_log.models.incidents import Attachment
from facility_log.services.ledger import Problem

CHUNK = 1024 * 1024


def _file_sha256(attachment: Attachment) -> str | None:
    digest = hashlib.sha256()
    try:
        with attachment.file.open("rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
    except (FileNotFoundError, OSError):
        return None
    return digest.hexdigest()


def attachment_problems(high_water: dict | None = None) -> Iterator[Problem]:
    """Attachments whose file is gone or whose bytes changed; with a checkpoint's high-water
    marks, only those uploaded since (a full check re-reads every file)."""
    attachments = Attachment.objects.only("pk", "file", "sha256", "original_name")
    if high_water is not None:
        attachments = attachments.filter(pk__gt=high_water.get(Attachment._meta.label_lower, 0))
    for attachment in attachments.iterator():
        actual = _file_sha256(attachment)
        where = f"attachment {attachment.pk} ({attachment.original_name})"
        if actual is None:
            yield Problem(None, where, "its file is missing from storage")
        elif actual != attachment.sha256:
            yield Problem(None, where, "its bytes on disk no longer match the recorded SHA-256")
