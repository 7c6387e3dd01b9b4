"""Credential numbers of access events: never stored in clear.

A credential (card, fob, PIN-pad number) is stored only as a keyed hash, so that the same
number can be matched without being readable, and at most a 2-character hint for the people
reading an event list, and no hint at all when the credential is shorter than 8 characters
(a hint of a short number gives too much of it away).

Rows written before this rule kept the last 4 characters (a 4-digit credential whole):
`clear_credential_hints` empties those hints and chains each batch's new digest into the
ledger (migration 0006 runs it once).
"""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

HINT_LENGTH = 2
HINT_MIN_CREDENTIAL = 8


def credential_key() -> bytes:
    """The server secret credentials are hashed with: FACILITY_LOG["CREDENTIAL_KEY"], or one
    derived from SECRET_KEY (so a plain install still never stores numbers in clear)."""
    configured = settings.FACILITY_LOG.get("CREDENTIAL_KEY") or ""
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"facility_log.credential", "sha256").digest()


def credential_hint(credential: str) -> str:
    """The last 2 characters of a credential of 8 or more; nothing for a shorter one."""
    if len(credential) < HINT_MIN_CREDENTIAL:
        return ""
    return credential[-HINT_LENGTH:]


def pseudonymise(credential: str, key: bytes | None = None) -> tuple[str, str]:
    """(keyed hash, hint) of a credential number; ("", "") when there is none."""
    credential = credential.strip()
    if not credential:
        return "", ""
    digest = hmac.new(key or credential_key(), credential.encode(), hashlib.sha256).hexdigest()
    return digest, credential_hint(credential)


def pseudonymiser(key: bytes | None = None) -> Callable[[str], tuple[str, str]]:
    """`pseudonymise` with the key set up once, for a caller that hashes many credentials (an
    import, once per event): each call copies the keyed state instead of keying anew, a third
    of the time for the same digest."""
    keyed = hmac.new(key or credential_key(), digestmod=hashlib.sha256)

    def apply(credential: str) -> tuple[str, str]:
        credential = credential.strip()
        if not credential:
            return "", ""
        state = keyed.copy()
        state.update(credential.encode())
        return state.hexdigest(), credential_hint(credential)

    return apply


@dataclass
class HintClearing:
    """What `clear_credential_hints` did: batches re-chained, and batches whose rows no longer
    matched their ledger entry before (cleared, but left for `verify_audit` to report)."""

    events: int = 0
    rechained: int = 0
    left_broken: list[int] | None = None


def clear_credential_hints() -> HintClearing:
    """Empty every stored credential hint and re-chain each batch that held one.

    Access events are chained per import batch (a BATCH ledger entry over all columns of its
    rows; `verify_audit` checks a batch against its latest entry). For each batch with hints:
    its rows are first checked against that latest entry; the hints are cleared; a new BATCH
    entry carries the new digest, but only for a batch that matched before, so that clearing
    never hides an earlier change made behind the application's back. Run once, from the
    migration that introduced the 2-character rule; inside the caller's transaction.
    """
    from facility_log.models import AccessEvent, ImportBatch, LedgerEntry
    from facility_log.services import ledger

    result = HintClearing(left_broken=[])
    events = AccessEvent._base_manager  # the plain manager: this is the one rewrite allowed
    batch_ids = (
        events.exclude(credential_hint="").order_by("batch_id").values_list("batch_id", flat=True)
    )
    for batch in ImportBatch.objects.filter(pk__in=set(batch_ids)).order_by("pk"):
        rows = events.filter(batch=batch)
        latest = (
            LedgerEntry.objects.filter(
                kind=LedgerEntry.Kind.BATCH,
                object_type=ledger.object_type(ImportBatch),
                object_pk=str(batch.pk),
            )
            .order_by("-seq")
            .first()
        )
        intact = latest is not None and ledger.batch_digest(rows) == latest.digest
        result.events += rows.exclude(credential_hint="").update(credential_hint="")
        if intact:
            ledger.record_batch(
                batch,
                ledger.batch_digest(rows),
                label=f"{ImportBatch._meta.verbose_name} #{batch.pk}: credential hints cleared",
            )
            result.rechained += 1
        else:
            result.left_broken.append(batch.pk)
    return result
