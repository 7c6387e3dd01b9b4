"""Checks of evidence files on disk, run by `verify_audit`: an attachment's bytes (and a
checkpoint scan's photo) must still hash to the SHA-256 recorded (and chained) when it was
uploaded, and every file in storage must belong to a record."""

import hashlib
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta

from django.apps import apps
from django.db import models
from django.utils import timezone

from facility_log.models.audit import LedgerEntry
from facility_log.models.incidents import Attachment
from facility_log.models.rounds import Scan
from facility_log.services.ledger import Problem
from facility_log.services.staged_files import STAGING_PREFIX

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


# A staged file younger than this belongs to a write still under way, not to a failed one.
STAGING_GRACE = timedelta(hours=1)


def _files_under(storage, folder: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}{name}"
    for name in folders:
        yield from _files_under(storage, f"{folder}{name}/")


def _owned_names(storage) -> set[str]:
    """Every file name a record of this app holds, over all its file fields on `storage`."""
    names: set[str] = set()
    for model in apps.get_app_config("facility_log").get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField) and field.storage is storage:
                rows = model._base_manager.exclude(**{field.name: ""})
                names.update(rows.values_list(field.name, flat=True).iterator())
    return names


def orphan_file_problems(high_water: dict | None = None) -> Iterator[Problem]:
    """Files in storage that no record owns: left by a write that failed half-way (before
    writes were staged, or a process killed mid-write), or put there behind the app. A staged
    file still within STAGING_GRACE is a write under way and not reported. The whole storage
    is listed each time: a checkpoint says nothing about files.

    A file older than this database's first ledger entry was not left by its writes: a media
    folder kept from an earlier database (a demo made again, `make run` after removing the
    database) is not reported. Staged files are judged by their age alone."""
    storage = Attachment._meta.get_field("file").storage
    owned = _owned_names(storage)
    now = timezone.now()
    genesis = LedgerEntry.objects.order_by("seq").values_list("created_at", flat=True).first()
    for name in _files_under(storage):
        if name in owned:
            continue
        if name.startswith(STAGING_PREFIX):
            with suppress(OSError, NotImplementedError):
                if now - storage.get_modified_time(name) < STAGING_GRACE:
                    continue
        elif genesis is None or _older_than(storage, name, genesis):
            continue
        yield Problem(None, f"file {name}", "is in storage but no record owns it (orphan)")


def _older_than(storage, name: str, moment) -> bool:
    try:
        return storage.get_modified_time(name) < moment
    except (OSError, NotImplementedError):
        return False
