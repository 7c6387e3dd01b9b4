"""The rules every uploaded file is held to, whatever record it belongs to (an incident's
attachment, a checkpoint scan's photo): its type from its content (magic bytes), never from
its name or the browser; a size cap (FACILITY_LOG["MAX_UPLOAD_BYTES"]); a name the server
generates; and its SHA-256, recorded with the row so the ledger's digest of the row covers it.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File

from facility_log.services import filetypes

PHOTO_TYPES = frozenset({filetypes.JPEG, filetypes.PNG, filetypes.GIF, filetypes.WEBP})
NOT_ACCEPTED = "This is not a photo, video, audio recording or PDF we can accept."
NOT_A_PHOTO = "This is not a photo we can accept (JPEG, PNG, GIF or WebP)."


def check_upload(
    upload: File,
    *,
    field: str = "file",
    allowed: frozenset[filetypes.FileType] | None = None,
    refusal: str = NOT_ACCEPTED,
) -> filetypes.FileType:
    """The file's real type; ValidationError on `field` when too large, of a type not
    recognised (or not in `allowed`), or named as another type than its content."""
    limit = settings.FACILITY_LOG["MAX_UPLOAD_BYTES"]
    if upload.size > limit:
        raise ValidationError(
            {field: f"The file is {upload.size:,} bytes; the limit is {limit:,} bytes."}
        )
    upload.seek(0)
    file_type = filetypes.sniff(upload.read(filetypes.HEADER_BYTES))
    upload.seek(0)
    if file_type is None or (allowed is not None and file_type not in allowed):
        raise ValidationError({field: refusal})
    name = (getattr(upload, "name", "") or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if extension and extension not in file_type.aliases:
        raise ValidationError(
            {field: f"The name says {extension} but the content is {file_type.content_type}."}
        )
    return file_type


def check_photo(upload: File, field: str = "photo") -> filetypes.FileType:
    """`check_upload` for a photo: images only."""
    return check_upload(upload, field=field, allowed=PHOTO_TYPES, refusal=NOT_A_PHOTO)


def upload_sha256(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def generated_name(file_type: filetypes.FileType, folder: str = "") -> str:
    """A fresh random file name with the extension of the real type: the uploader's name is
    kept as data at most, never as a path."""
    name = f"{uuid.uuid4().hex}{file_type.extension}"
    return f"{folder.rstrip('/')}/{name}" if folder else name
