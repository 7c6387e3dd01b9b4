"""Signed statements about the ledger: checkpoints kept in the database, and head files kept
outside it.

Both are signed with HMAC-SHA256 under the ledger key (FACILITY_LOG["LEDGER_KEY"], or one
derived from SECRET_KEY): a checkpoint or head file altered, or made up by someone without
the key, does not verify. The head file's worth to an outsider is its hash: whoever keeps it
can later ask the server to prove that its ledger still extends that head
(`verify_audit --expect-head FILE`); a rewritten chain cannot.
"""

import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from facility_log.models import LedgerCheckpoint
from facility_log.services.ledger import canonical_json

HEAD_FILE_TITLE = "facility_log ledger head"


class SealError(ValueError):
    """A head file or checkpoint that cannot be read or whose signature does not match."""


def ledger_key() -> bytes:
    configured = settings.FACILITY_LOG.get("LEDGER_KEY") or ""
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"facility_log.ledger", "sha256").digest()


def sign(document: dict) -> str:
    return hmac.new(ledger_key(), canonical_json(document), "sha256").hexdigest()


def _checkpoint_document(checkpoint: LedgerCheckpoint) -> dict:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "created_at": checkpoint.created_at,
        "high_water": checkpoint.high_water,
        "full": checkpoint.full,
    }


def write_checkpoint(
    seq: int, head_hash: str, high_water: dict[str, int], *, full: bool
) -> LedgerCheckpoint:
    """Record a signed checkpoint (called by `verify_audit` after an intact check)."""
    checkpoint = LedgerCheckpoint(
        seq=seq,
        hash=head_hash,
        created_at=timezone.now(),
        high_water=high_water,
        full=full,
    )
    checkpoint.signature = sign(_checkpoint_document(checkpoint))
    checkpoint.save()
    return checkpoint


def checkpoint_is_genuine(checkpoint: LedgerCheckpoint) -> bool:
    return hmac.compare_digest(checkpoint.signature, sign(_checkpoint_document(checkpoint)))


def latest_checkpoint() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.order_by("-seq", "-pk").first()


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    time: datetime

    def document(self) -> dict:
        return {"seq": self.seq, "hash": self.hash, "time": self.time}


def head_file_text(head: Head) -> str:
    """The head as a few lines of text anyone can keep (print it, mail it, store it)."""
    return (
        f"{HEAD_FILE_TITLE}\n"
        f"seq: {head.seq}\n"
        f"hash: {head.hash}\n"
        f"time: {head.time.isoformat()}\n"
        f"signature: {sign(head.document())}\n"
    )


def read_head_file(text: str) -> Head:
    """Parse and check a head file; SealError says what is wrong with it."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or lines[0] != HEAD_FILE_TITLE:
        raise SealError(f"not a head file (its first line must be {HEAD_FILE_TITLE!r})")
    values = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    missing = [name for name in ("seq", "hash", "time", "signature") if name not in values]
    if missing:
        raise SealError(f"the head file has no {', '.join(missing)} line")
    try:
        head = Head(int(values["seq"]), values["hash"], datetime.fromisoformat(values["time"]))
    except ValueError as error:
        raise SealError(f"the head file's seq or time is unreadable ({error})") from error
    if not hmac.compare_digest(values["signature"], sign(head.document())):
        raise SealError(
            "the head file's signature does not match: it was altered or not issued by this "
            "server (or the ledger key changed)"
        )
    return head
