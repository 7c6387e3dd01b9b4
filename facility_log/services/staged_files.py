"""Files written with a record (an incident's attachment, an import's upload): staged under a
temporary name, moved to their own name when the transaction commits, removed when it fails.

So a write that fails half-way (a full disk, the database gone, a rule broken after the file
was written) leaves no file that no record owns, and a file at its own name always has its
row. Everything goes through Django's storage API (save, open, delete), so any storage works;
on a local disk the move is a rename.

Use `staged_files()` around the service's transaction block:

    with staged_files() as staging, audited_change(actor, reason):
        staging.save(attachment, "file", name, upload)
        attachment.save()

The files are moved when the outermost transaction commits (`transaction.on_commit`). If an
outer transaction rolls back instead, Django drops the callback, and with it the last
reference to the staged file, whose finalizer removes the temporary file. `verify_audit` lists
whatever is left all the same (services/evidence.py): a process killed mid-write."""

import logging
import os
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import Storage
from django.db import models, transaction

STAGING_PREFIX = "staging/"

logger = logging.getLogger(__name__)


def _delete_quietly(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # a cleanup must not hide the error that caused it
        logger.exception("could not remove the staged file %s", name)


def _move(storage: Storage, temporary: str, final: str) -> None:
    try:
        source, target = storage.path(temporary), storage.path(final)
    except NotImplementedError:  # object storage: copy under the final name, then delete
        with storage.open(temporary, "rb") as handle:
            saved = storage.save(final, handle)
        if saved != final:
            raise RuntimeError(f"storage saved {final} as {saved}") from None
        storage.delete(temporary)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(source, target)


class _Staged:
    """One staged file; removed when dropped without having been moved into place."""

    def __init__(self, storage: Storage, temporary: str, final: str):
        self.storage, self.temporary, self.final = storage, temporary, final
        self._cleanup = weakref.finalize(self, _delete_quietly, storage, temporary)

    def promote(self) -> None:
        _move(self.storage, self.temporary, self.final)
        self._cleanup.detach()

    def discard(self) -> None:
        self._cleanup()


class Staging:
    def __init__(self):
        self.files: list[_Staged] = []

    def save(self, instance: models.Model, field: str, name: str, content) -> None:
        """Write `content` under a temporary name and point `instance.<field>` at `name`,
        where the file will be once the transaction commits."""
        storage = instance._meta.get_field(field).storage
        temporary = f"{STAGING_PREFIX}{uuid.uuid4().hex}.part"
        try:
            temporary = storage.save(temporary, content)
        except BaseException:
            # A storage may leave what it wrote so far (a full disk): never keep it.
            _delete_quietly(storage, temporary)
            raise
        self.files.append(_Staged(storage, temporary, name))
        setattr(instance, field, name)


def _outside_any_transaction() -> bool:
    # A TestCase's own transactions stand for the commit a server would make at this point
    # (Django marks them so; its durable=True check reads the same mark).
    blocks = transaction.get_connection().atomic_blocks
    return all(getattr(block, "_from_testcase", False) for block in blocks)


@contextmanager
def staged_files() -> Iterator[Staging]:
    staging = Staging()
    try:
        yield staging
    except BaseException:
        for staged in staging.files:
            staged.discard()
        raise
    for staged in staging.files:
        if _outside_any_transaction():
            staged.promote()
        else:
            transaction.on_commit(staged.promote)
