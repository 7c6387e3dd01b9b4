"""What a file really is, from its first bytes (magic numbers), not from its name or the
browser's claim. Only the kinds of evidence an incident needs are recognised."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    # Name endings that honestly describe this content.
    aliases: frozenset[str]


JPEG = FileType("image/jpeg", ".jpg", frozenset({".jpg", ".jpeg", ".jpe"}))
PNG = FileType("image/png", ".png", frozenset({".png"}))
GIF = FileType("image/gif", ".gif", frozenset({".gif"}))
WEBP = FileType("image/webp", ".webp", frozenset({".webp"}))
PDF = FileType("application/pdf", ".pdf", frozenset({".pdf"}))
MP4 = FileType("video/mp4", ".mp4", frozenset({".mp4", ".m4v", ".3gp"}))
MOV = FileType("video/quicktime", ".mov", frozenset({".mov", ".qt"}))
M4A = FileType("audio/mp4", ".m4a", frozenset({".m4a", ".mp4", ".aac"}))
WEBM = FileType("video/webm", ".webm", frozenset({".webm", ".weba"}))
MP3 = FileType("audio/mpeg", ".mp3", frozenset({".mp3"}))
OGG = FileType("audio/ogg", ".ogg", frozenset({".ogg", ".oga", ".ogv", ".opus"}))
WAV = FileType("audio/wav", ".wav", frozenset({".wav"}))

ALL_TYPES = (JPEG, PNG, GIF, WEBP, PDF, MP4, MOV, M4A, WEBM, MP3, OGG, WAV)
# Already compressed: deflating them again gains under 1 % and costs most of a package's time.
COMPRESSED_TYPES = frozenset(
    t.content_type for t in (JPEG, PNG, GIF, WEBP, MP4, MOV, M4A, WEBM, MP3, OGG)
)
HEADER_BYTES = 32


def _iso_media(head: bytes) -> FileType | None:
    """ISO base media (MP4, MOV, M4A): `ftyp` at offset 4, then the brand."""
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand == b"qt  ":
        return MOV
    if brand in (b"M4A ", b"M4B "):
        return M4A
    return MP4


def _riff(head: bytes) -> FileType | None:
    if head[:4] != b"RIFF":
        return None
    return {b"WEBP": WEBP, b"WAVE": WAV}.get(head[8:12])


def _mp3(head: bytes) -> FileType | None:
    # An ID3 tag, or a bare MPEG audio frame (11 sync bits set).
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3
    return None


_PREFIXES = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
    (b"\x1a\x45\xdf\xa3", WEBM),
    (b"OggS", OGG),
)


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes, or None when it is none we accept."""
    for prefix, file_type in _PREFIXES:
        if head.startswith(prefix):
            return file_type
    return _iso_media(head) or _riff(head) or _mp3(head)
