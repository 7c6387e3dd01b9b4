"""The small JPEG of an image attachment that the police package's report shows.

Made once, from the original's bytes, when the photo is uploaded (`of_upload`, called by
`store_attachment`, the one path every upload takes), and stored as an `AttachmentThumbnail`
row: append-only and chained in the ledger, so the ledger's digest covers its bytes and no
extra file can be orphaned. The export (`for_export`) uses a stored thumbnail only while its
row still matches its ledger entry; otherwise, and for attachments stored before thumbnails
were kept, it makes the thumbnail from the original exactly as it always did. A thumbnail
made at export for an attachment that has none is recorded then (a new row, chained like one
made at upload), so the next export is fast. See docs/performance.md ("police package") and
the README's "Attachments".
"""

import base64
import io
import logging
from collections.abc import Iterable
from typing import BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError
from PIL import Image, ImageFile

from facility_log.models import LedgerEntry
from facility_log.models.incidents import Attachment, AttachmentThumbnail
from facility_log.services import ledger
from facility_log.services.audit import audited_change
from facility_log.services.filetypes import FileType
from facility_log.services.ledger import canonical_json, object_type, sha256_hex
from facility_log.services.packages import file_sha256

logger = logging.getLogger(__name__)

THUMBNAIL_PX = 360
JPEG_QUALITY = 80
# Stored with each row: a thumbnail made under another recipe is not what the export would
# make today, so the export makes its own instead of using it.
RECIPE = f"jpeg {THUMBNAIL_PX}px q{JPEG_QUALITY}"

# WeasyPrint sets this when it is imported, for the whole process: a photo cut off part-way is
# drawn as far as its data goes. Set here too, so that a thumbnail never depends on whether a
# PDF happened to be rendered in the process before (the same bytes in, the same bytes out, at
# upload and at export, as the export always made them).
ImageFile.LOAD_TRUNCATED_IMAGES = True

# What a damaged or hostile image raises while it is decoded. A thumbnail is a convenience:
# none of these may refuse the evidence itself (the upload goes on without one).
_UNREADABLE = (
    OSError,  # UnidentifiedImageError (not an image Pillow knows) among them
    ValueError,
    EOFError,
    SyntaxError,
    Image.DecompressionBombError,
)


def make_thumbnail(handle: BinaryIO) -> bytes | None:
    """The thumbnail's JPEG bytes from an open image file, or None when it is not an image
    Pillow can read. The same bytes in give the same bytes out, at upload and at export."""
    try:
        with Image.open(handle) as image:
            # A JPEG is decoded straight at 1/2, 1/4 or 1/8 of its size (its "draft"), no larger
            # than the thumbnail needs.
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), reducing_gap=1.0)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
    except _UNREADABLE:
        return None
    return buffer.getvalue()


def data_uri(jpeg: bytes | None) -> str | None:
    """A thumbnail inlined in the report's HTML (no file or network access at render)."""
    if jpeg is None:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def of_attachment_file(attachment: Attachment) -> bytes | None:
    """Made now from the stored original (decoding it: ~30–50 ms for a 5 MB photo), and only
    while the file still has the SHA-256 taken at its upload: a picture swapped in storage
    must never become the thumbnail of record (None then; the export itself refuses that
    attachment, naming it)."""
    if not attachment.is_image:
        return None
    with attachment.file.storage.open(attachment.file.name, "rb") as handle:
        if file_sha256(handle) != attachment.sha256:
            return None
        handle.seek(0)
        return make_thumbnail(handle)


def of_upload(upload: BinaryIO, file_type: FileType) -> bytes | None:
    """Made from an upload before it is stored (outside the upload's transaction, so the
    incident is not held locked while the photo is decoded); None unless it is an image."""
    if not file_type.content_type.startswith("image/"):
        return None
    upload.seek(0)
    try:
        return make_thumbnail(upload)
    finally:
        upload.seek(0)


def record_thumbnail(attachment: Attachment, jpeg: bytes) -> AttachmentThumbnail:
    """Store the thumbnail of a just-written attachment, in the caller's audited change (its
    ledger entry is chained with the attachment's)."""
    return AttachmentThumbnail.objects.create(attachment=attachment, jpeg=jpeg, recipe=RECIPE)


def _stored(attachments: list[Attachment]) -> dict[int, dict]:
    """Stored thumbnail rows by attachment id (one query), as the database holds them."""
    rows = AttachmentThumbnail._base_manager.filter(attachment_id__in=[a.pk for a in attachments])
    return {row["attachment_id"]: row for row in rows.values()}


def _entry_digests(rows: Iterable[dict]) -> dict[str, str]:
    """The digest each row's ledger entry holds, by the row's key (one query)."""
    entries = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.RECORD,
        object_type=object_type(AttachmentThumbnail),
        object_pk__in=[str(row["id"]) for row in rows],
    )
    return dict(entries.values_list("object_pk", "digest"))


def _usable(row: dict, digests: dict[str, str]) -> bool:
    """True when the stored thumbnail is the one its ledger entry chained and made the way
    the export makes one today. An altered row is logged and passed over: the report then
    shows the thumbnail made from the original, and `verify_audit` names the row."""
    if digests.get(str(row["id"])) != sha256_hex(canonical_json(row)):
        logger.warning(
            "attachment thumbnail %s differs from its ledger entry; the export makes the "
            "thumbnail of attachment %s from the original (run verify_audit)",
            row["id"],
            row["attachment_id"],
        )
        return False
    return row["recipe"] == RECIPE


def for_export(
    attachments: Iterable[Attachment], actor: AbstractBaseUser | None = None
) -> dict[int, bytes | None]:
    """The thumbnail of every image attachment, by attachment id, in two queries whatever
    their number: stored ones that still match their ledger entries; the others made from
    the originals. With `actor`, a thumbnail made for an attachment that has none is
    recorded (attributed to `actor`), so the next export finds it."""
    images = [a for a in attachments if a.is_image]
    if not images:
        return {}
    stored = _stored(images)
    digests = _entry_digests(stored.values())
    thumbnails: dict[int, bytes | None] = {}
    missing: list[tuple[Attachment, bytes]] = []
    for attachment in images:
        row = stored.get(attachment.pk)
        if row is not None and _usable(row, digests):
            thumbnails[attachment.pk] = bytes(row["jpeg"])  # a memoryview on PostgreSQL
            continue
        made = of_attachment_file(attachment)
        thumbnails[attachment.pk] = made
        if row is None and made is not None:
            missing.append((attachment, made))
    if actor is not None and missing:
        _record_missing(missing, actor)
    return thumbnails


def _record_missing(missing: list[tuple[Attachment, bytes]], actor: AbstractBaseUser) -> None:
    """Record thumbnails made at export in one insert, each row with its own ledger entry
    (chained together at the end of the block, as every append-only row's is)."""
    rows = [AttachmentThumbnail(attachment=a, jpeg=jpeg, recipe=RECIPE) for a, jpeg in missing]
    try:
        with audited_change(actor, "attachment thumbnails recorded at export"):
            for row in AttachmentThumbnail.objects.bulk_create(rows):
                ledger.record_append_only_row(row, actor=actor)
    except IntegrityError:
        # Another export recorded them meanwhile (one thumbnail per attachment): theirs stand,
        # and this export already has the same bytes in hand.
        return
