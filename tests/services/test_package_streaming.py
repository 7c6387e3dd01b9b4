"""The police package keeps memory flat with attachment size: no attachment is ever read
whole. Proved by behaviour, not timing: the storage hands out files that fail the test when
asked for more than one chunk at once."""

import hashlib
import io
import json
import random
import tempfile
import zipfile
from io import StringIO

import pytest
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from PIL import Image

from facility_log.models import Disclosure
from facility_log.services import incidents as svc
from facility_log.services.incident_bundle import attachment_member
from facility_log.services.incident_package import verify_incident_package, write_incident_package
from facility_log.services.packages import CHUNK_BYTES
from tests.incident_factories import seed_site_a_incident

READS: dict[str, list[int]] = {}


class ChunkedReadsOnly(io.BufferedReader):
    """A stored file that refuses to be read whole: read() without a size, or with a size
    above one chunk, fails the test. Every read is noted by path."""

    def read(self, size=-1):
        if size is None or size < 0 or size > CHUNK_BYTES:
            raise AssertionError(f"read({size}) of {self.name}: more than a chunk at once")
        data = super().read(size)
        READS.setdefault(self.name, []).append(len(data))
        return data

    def readall(self):
        raise AssertionError(f"readall() of {self.name}")

    def readinto(self, buffer):
        if len(buffer) > CHUNK_BYTES:
            raise AssertionError(f"readinto({len(buffer)} bytes) of {self.name}")
        return super().readinto(buffer)


def _guarded(path: str) -> ChunkedReadsOnly:
    return ChunkedReadsOnly(io.FileIO(path, "r"))


class GuardedFile(File):
    """Reopening (as a model's FieldFile does) goes through the guard too."""

    def open(self, mode=None, *args, **kwargs):
        if self.closed:
            self.file = _guarded(self.name)
        else:
            self.seek(0)
        return self


class ChunkedReadsStorage(FileSystemStorage):
    def _open(self, name, mode="rb"):
        return GuardedFile(_guarded(self.path(name)))


def _large_png(width=1200, height=1000) -> bytes:
    """A real photo-sized PNG: noise does not compress, so it is about width × height × 3."""
    noise = random.Random(7).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), noise).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def guarded_storage(settings):
    READS.clear()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.ChunkedReadsStorage"},
    }


def _with_large_photo(p):
    incident = seed_site_a_incident(p)
    data = _large_png()
    assert len(data) > 3 * CHUNK_BYTES
    upload = SimpleUploadedFile("big.png", data, content_type="image/png")
    attachment = svc.add_attachment(incident, p.supervisor_a, upload=upload, description="big")
    return incident, attachment, data


@pytest.mark.django_db
def test_a_large_attachment_is_packed_without_ever_being_read_whole(personas, guarded_storage):
    incident, attachment, original = _with_large_photo(personas)
    # The guard works: reading the stored file whole is what it refuses.
    with (
        attachment.file.storage.open(attachment.file.name) as handle,
        pytest.raises(AssertionError),
    ):
        handle.read()
    READS.clear()
    with tempfile.TemporaryFile() as package:
        disclosure = write_incident_package(
            incident, personas.supervisor_a, package, recipient="City Police", reason="theft"
        )
        data = package.read()
    # The large file was read once, in chunks only, for the zip: its thumbnail was made at
    # upload (services/thumbnails.py), so the export does not decode it again.
    reads = READS[attachment.file.path]
    assert sum(reads) == len(original)
    assert max(reads) <= CHUNK_BYTES
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = attachment_member(attachment)
        assert archive.read(member) == original
        manifest = json.loads(archive.read("manifest.json"))
        # A photo is compressed already: stored as it is; the documents are deflated.
        assert archive.getinfo(member).compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("history.json").compress_type == zipfile.ZIP_DEFLATED
    # Hashed while copied: the manifest holds the digest taken at upload.
    assert manifest["files"][member] == attachment.sha256
    assert disclosure.package_sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db
def test_export_command_streams_into_number_zip_which_verifies(personas, guarded_storage, tmp_path):
    incident, attachment, _original = _with_large_photo(personas)
    call_command(
        "export_incident",
        incident.number,
        "--recipient=City Police",
        "--reason=court",
        f"--out={tmp_path}",
        stdout=StringIO(),
    )
    disclosure = Disclosure.objects.get()
    path = tmp_path / f"{incident.number}-disclosure-{disclosure.pk}.zip"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert verify_incident_package(path) == []
    assert max(READS[attachment.file.path]) <= CHUNK_BYTES
    assert Disclosure.objects.get().package_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.django_db
def test_a_refused_export_command_leaves_no_file_behind(personas, tmp_path):
    incident = seed_site_a_incident(personas)
    with pytest.raises(CommandError):
        call_command(
            "export_incident",
            incident.number,
            "--recipient=City Police",
            "--reason=court",
            "--by=guard_a",
            f"--out={tmp_path}",
            stdout=StringIO(),
        )
    assert list(tmp_path.iterdir()) == []
    assert Disclosure.objects.count() == 0
