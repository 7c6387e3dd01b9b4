"""A failed write leaves no file behind (on a full disk there were 14 empty or partial files
without a row), and `verify_audit` lists any file that no record owns."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from facility_log.models import Attachment
from facility_log.services import incidents as svc
from facility_log.services.verify import verify_audit
from tests.incident_factories import draft, photo


def _files() -> list[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _problems() -> list[str]:
    return [str(p) for p in verify_audit().problems]


@pytest.fixture
def full_disk(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.faults.full_disk.FullDiskStorage"},
    }


@pytest.mark.django_db
def test_a_full_disk_leaves_neither_a_file_nor_a_row(personas, full_disk):
    incident = draft(personas)
    with pytest.raises(OSError, match="No space left"):
        svc.add_attachment(incident, personas.guard_a, upload=photo())
    assert _files() == []
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_a_transaction_that_fails_after_the_file_was_written_leaves_no_file(personas):
    incident = draft(personas)
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.add_attachment(incident, personas.guard_a, upload=photo())
        assert len(_files()) == 1  # written, under its temporary name
        raise RuntimeError("the request fails after the attachment step")
    assert _files() == []
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_a_committed_attachment_is_in_its_place_and_verifies(personas):
    incident = draft(personas)
    attachment = svc.add_attachment(incident, personas.guard_a, upload=photo())
    assert _files() == [attachment.file.name]
    assert attachment.file.name.startswith("incidents/ALPHA/")
    with attachment.file.open("rb") as handle:
        assert handle.read(8).startswith(b"\x89PNG")
    assert _problems() == []


@pytest.mark.django_db
def test_verify_audit_lists_a_file_no_record_owns(personas):
    incident = draft(personas)
    svc.add_attachment(incident, personas.guard_a, upload=photo())
    stray = Path(django_settings.MEDIA_ROOT) / "incidents" / "ALPHA" / "2026" / "stray.png"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left behind")
    problems = _problems()
    assert problems == [
        "no entry (file incidents/ALPHA/2026/stray.png): is in storage but no record owns it "
        "(orphan)"
    ]


@pytest.mark.django_db
def test_a_fresh_staged_file_is_a_write_under_way_an_old_one_an_orphan(personas):
    staging = Path(django_settings.MEDIA_ROOT) / "staging"
    staging.mkdir(parents=True)
    (staging / "fresh.part").write_bytes(b"being written")
    old = staging / "old.part"
    old.write_bytes(b"from a killed process")
    os.utime(old, (0, 0))
    assert _problems() == [
        "no entry (file staging/old.part): is in storage but no record owns it (orphan)"
    ]


@pytest.mark.django_db
def test_a_file_kept_from_an_earlier_database_is_not_this_ledgers_orphan(personas):
    """A demo made again on a new database beside the old media folder: the old photo is
    older than this ledger's first entry, so no write of this database left it."""
    incident = draft(personas)
    svc.add_attachment(incident, personas.guard_a, upload=photo())
    kept = Path(django_settings.MEDIA_ROOT) / "incidents" / "HQ" / "2026" / "earlier-demo.png"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(b"a photo of the previous demo")
    os.utime(kept, (0, 0))
    assert _problems() == []
