"""Evidence packages: SHA256SUMS that `sha256sum -c` accepts, and offline verification that
names the file that changed."""

import hashlib
import io
import json
import shutil
import subprocess
import zipfile

import pytest
from django.utils import timezone

from facility_log.models import LedgerEntry, Site
from facility_log.services.ledger import canonical_json, entry_document
from facility_log.services.packages import (
    CHUNK_BYTES,
    PackageFile,
    PackageWriter,
    build_zip,
    file_sha256,
    json_file,
    verify_package,
)


def _site_package(site: Site) -> bytes:
    """A package of one site's history: the same shape as an incident package."""
    history_model = Site.history.model
    rows = list(history_model.objects.filter(id=site.pk).values())
    entries = {
        e.object_pk: e
        for e in LedgerEntry.objects.filter(
            object_type=history_model._meta.label_lower,
            object_pk__in=[str(r["history_id"]) for r in rows],
        )
    }
    history = [
        {
            "record": f"site {site.code}",
            "ledger_seq": entries[str(r["history_id"])].seq,
            "stored": json.loads(canonical_json(r)),
        }
        for r in rows
    ]
    files = [
        PackageFile("report.txt", f"Site {site.code}\n".encode()),
        PackageFile("attachments/photo.jpg", b"\xff\xd8\xff\xe0 not really a photo"),
        json_file("history.json", {"rows": history}),
    ]
    manifest = {"ledger": {"entries": [entry_document(e) for e in entries.values()]}}
    return build_zip(files, manifest, timezone.now())


def _write(tmp_path, data: bytes):
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    return path


def _rewrite_member(path, name: str, change) -> None:
    with zipfile.ZipFile(path) as original:
        members = {n: original.read(n) for n in original.namelist()}
    members[name] = change(members[name])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())


@pytest.mark.django_db
def test_an_untouched_package_verifies(personas, tmp_path):
    path = _write(tmp_path, _site_package(personas.site_a))
    assert verify_package(path) == []


@pytest.mark.django_db
@pytest.mark.skipif(not shutil.which("sha256sum"), reason="coreutils sha256sum not installed")
def test_sha256sum_accepts_the_package_and_catches_one_changed_byte(personas, tmp_path):
    with zipfile.ZipFile(io.BytesIO(_site_package(personas.site_a))) as archive:
        archive.extractall(tmp_path)
    ok = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert ok.returncode == 0, ok.stdout
    photo = tmp_path / "attachments" / "photo.jpg"
    data = bytearray(photo.read_bytes())
    data[0] ^= 1
    photo.write_bytes(bytes(data))
    bad = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert bad.returncode != 0
    assert b"attachments/photo.jpg: FAILED" in bad.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["report.txt", "attachments/photo.jpg", "history.json"])
def test_verify_package_names_the_file_with_one_changed_byte(personas, tmp_path, name):
    path = _write(tmp_path, _site_package(personas.site_a))
    _rewrite_member(path, name, lambda data: bytes([data[0] ^ 1]) + data[1:])
    problems = verify_package(path)
    assert any(p.startswith(f"{name}: SHA-256 does not match") for p in problems), problems


@pytest.mark.django_db
def test_history_rewritten_consistently_is_still_caught_by_the_ledger(personas, tmp_path):
    """Someone edits history.json and recomputes SHA256SUMS and the manifest: the ledger
    digests in the manifest still give it away."""
    from facility_log.services.packages import MANIFEST_NAME, SUMS_NAME, sha256sums

    path = _write(tmp_path, _site_package(personas.site_a))
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    history = json.loads(members["history.json"])
    history["rows"][0]["stored"]["name"] = "Forged name"
    members["history.json"] = json_file("history.json", history).data
    manifest = json.loads(members[MANIFEST_NAME])
    files = [PackageFile(n, d) for n, d in members.items() if n not in (SUMS_NAME, MANIFEST_NAME)]
    manifest["files"] = {f.name: f.sha256 for f in files}
    members[MANIFEST_NAME] = json_file(MANIFEST_NAME, manifest).data
    everything = [*files, PackageFile(MANIFEST_NAME, members[MANIFEST_NAME])]
    members[SUMS_NAME] = sha256sums(everything)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    path.write_bytes(buffer.getvalue())
    problems = verify_package(path)
    assert problems == [
        f"site {personas.site_a.code}: history row differs from ledger entry "
        f"#{history['rows'][0]['ledger_seq']}"
    ]


def test_a_file_streamed_in_chunks_packs_to_the_same_bytes_as_one_added_whole():
    created = timezone.now()
    big = bytes(range(256)) * (3 * CHUNK_BYTES // 256) + b"tail"
    manifest = {"ledger": {"entries": []}}
    whole = build_zip([PackageFile("attachments/big.bin", big)], manifest, created)
    streamed = io.BytesIO()
    writer = PackageWriter(streamed, created)
    digest = writer.add_stream("attachments/big.bin", io.BytesIO(big), len(big))
    writer.finish(manifest)
    assert streamed.getvalue() == whole
    assert digest == hashlib.sha256(big).hexdigest() == file_sha256(io.BytesIO(big))


def test_a_file_that_is_not_a_zip_is_named(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not a zip")
    assert verify_package(path)[0].startswith(f"{path}: not a readable zip")
