"""Checking the ledger against the database: `manage.py verify_audit` and the auditor page.

Recomputes the chain and every digest. Finds: an entry changed, inserted or removed; a history
row (or append-only record) changed, deleted, or inserted without an entry; a batch whose rows
changed; and whatever the registered extra checks find (e.g. attachment bytes on disk).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable

from simple_history.models import registered_models

from facility_log.models import LedgerEntry
from facility_log.models.base import AppendOnlyModel
from facility_log.services.ledger import (
    GENESIS_HASH,
    EMPTY_BATCH_DIGEST,
    BatchDigest,
    Problem,
    Verification,
    canonical_json,
    entry_hash,
    object_type,
    row_fields,
    sha256_hex,
)

# object_type of a batch record → (model of its rows, the rows' foreign key to the record).
BATCH_MEMBERS: dict[str, tuple[type, str]] = {}
# Extra checks contributed by domains, e.g. attachment bytes against their recorded SHA-256.
EXTRA_CHECKS: list[Callable[[], Iterable[Problem]]] = []


def _all_subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def covered_models() -> list[type]:
    """Tables whose every row must have its own ledger entry."""
    history = [model.history.model for model in registered_models.values()]
    append_only = [
        model
        for model in _all_subclasses(AppendOnlyModel)
        if not model._meta.abstract
        and model is not LedgerEntry
        and getattr(model, "ledger_per_row", True)
    ]
    return history + append_only


def _check_chain(result: Verification, expected: dict, batches: list) -> None:
    previous_hash, next_seq = GENESIS_HASH, 1
    for entry in LedgerEntry.objects.order_by("seq").iterator(chunk_size=2000):
        where = entry.record_label or f"{entry.object_type} #{entry.object_pk}"
        if entry.seq != next_seq:
            result.problems.append(
                Problem(entry.seq, where, f"entries #{next_seq}–#{entry.seq - 1} are missing")
            )
        if entry.prev_hash != previous_hash:
            result.problems.append(Problem(entry.seq, where, "does not follow the entry before"))
        if entry_hash(entry) != entry.hash:
            result.problems.append(Problem(entry.seq, where, "the entry itself was altered"))
        previous_hash, next_seq = entry.hash, entry.seq + 1
        result.entries += 1
        result.head = (entry.seq, entry.hash)
        if entry.kind == LedgerEntry.Kind.BATCH:
            batches.append(entry)
        elif entry.kind in (LedgerEntry.Kind.HISTORY, LedgerEntry.Kind.RECORD):
            expected[entry.object_type][entry.object_pk] = (entry.seq, entry.digest, where)
        elif entry.kind == LedgerEntry.Kind.TOMBSTONE:
            _check_tombstone(result, expected, entry, where)


def _check_tombstone(result: Verification, expected: dict, entry, where: str) -> None:
    """A purged row: it is no longer expected, and it must have been purged as recorded."""
    recorded = expected[entry.object_type].pop(entry.object_pk, None)
    if recorded is None:
        result.problems.append(Problem(entry.seq, where, "purges a row the ledger never held"))
    elif recorded[1] != entry.digest:
        result.problems.append(
            Problem(recorded[0], recorded[2], "was changed before it was purged")
        )


def _check_rows(result: Verification, expected: dict) -> None:
    for model in covered_models():
        recorded = expected.pop(object_type(model), {})
        pk_name = model._meta.pk.attname
        for row in model._base_manager.order_by(pk_name).values().iterator(chunk_size=2000):
            pk = str(row[pk_name])
            label = f"{model._meta.verbose_name} {pk}"
            if pk not in recorded:
                result.problems.append(
                    Problem(None, label, "has no ledger entry (written behind the application)")
                )
                continue
            seq, digest, where = recorded.pop(pk)
            if sha256_hex(canonical_json(row)) != digest:
                result.problems.append(Problem(seq, where, "was changed after it was recorded"))
        for pk, (seq, _digest, where) in recorded.items():
            result.problems.append(Problem(seq, where, f"row {pk} is missing (deleted)"))
    for type_name, recorded in expected.items():
        for pk, (seq, _digest, where) in recorded.items():
            result.problems.append(Problem(seq, where, f"{type_name} {pk} is missing"))


def _check_batches(result: Verification, batches: list) -> None:
    """Recompute every batch's digest in one pass over each row table (rows grouped by their
    batch), and find rows whose batch has no entry."""
    by_type: dict[str, dict[str, LedgerEntry]] = defaultdict(dict)
    for entry in batches:
        by_type[entry.object_type][entry.object_pk] = entry
    for type_name, (row_model, fk) in BATCH_MEMBERS.items():
        entries = by_type.get(type_name, {})
        digests: dict[str, BatchDigest] = defaultdict(BatchDigest)
        fields = row_fields(row_model)
        position = fields.index(fk)
        rows = row_model._base_manager.order_by(fk, "pk").values_list(*fields)
        for row in rows.iterator(chunk_size=5000):
            digests[str(row[position])].add(row)
        for batch_pk, digest in digests.items():
            entry = entries.pop(batch_pk, None)
            if entry is None:
                result.problems.append(
                    Problem(
                        None,
                        f"{row_model._meta.verbose_name} batch {batch_pk}",
                        "rows have no ledger entry (written behind the application)",
                    )
                )
            elif digest.hexdigest() != entry.digest:
                result.problems.append(
                    Problem(entry.seq, entry.record_label, "rows of this batch were changed")
                )
        for entry in entries.values():
            if entry.digest == EMPTY_BATCH_DIGEST:
                continue  # a batch of duplicates only (or purged to nothing): no row owed
            result.problems.append(
                Problem(entry.seq, entry.record_label, "rows of this batch are missing")
            )


def verify_audit(expect_head: tuple[int, str] | None = None) -> Verification:
    """Recompute everything; `expect_head` is a (seq, hash) kept outside the server."""
    result = Verification()
    expected: dict[str, dict] = defaultdict(dict)
    batches: list[LedgerEntry] = []
    _check_chain(result, expected, batches)
    if expect_head is not None:
        seq, head_hash = expect_head
        kept = LedgerEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()
        if kept != head_hash:
            result.problems.append(
                Problem(seq, "ledger head", "differs from the head kept outside the server")
            )
    _check_rows(result, expected)
    _check_batches(result, batches)
    for check in EXTRA_CHECKS:
        result.problems.extend(check())
    result.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return result
