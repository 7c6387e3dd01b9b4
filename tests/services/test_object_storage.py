"""Attachments, police packages, import files and the ledger's file checks on S3-compatible
object storage (moto's server standing in), through Django's storage API only: nothing lands
in MEDIA_ROOT, every download is still checked against the reader's role, and `verify_audit`
reads the bucket."""

import hashlib
import io
import os
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from facility_log.models import AccessEvent, Attachment, ImportJob, Incident, RecordView
from facility_log.services import access_jobs
from facility_log.services.verify import verify_audit
from tests.access.helpers import door
from tests.incident_factories import draft, jpeg_bytes, seed_site_a_incident
from tests.retention_helpers import closed_incident

pytestmark = pytest.mark.django_db


def _media_files() -> list[str]:
    return [os.path.join(d, f) for d, _, files in os.walk(settings.MEDIA_ROOT) for f in files]


def test_an_uploaded_attachment_goes_to_the_bucket_and_comes_back_to_members_only(
    personas, api_client_for, client_for, s3
):
    incident = draft(personas)
    before = _media_files()
    upload = SimpleUploadedFile("door.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = api_client_for("guard_a").post(
        f"/api/v1/incidents/{incident.pk}/attachments/",
        {"file": upload, "description": "door"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    [key] = s3.keys()
    assert key == attachment.file.name and key.startswith("incidents/ALPHA/")
    assert s3.read(key) == jpeg_bytes()
    assert _media_files() == before

    for name in ("guard_a", "supervisor_a", "manager_ab"):
        download = api_client_for(name).get(response.json()["download_url"])
        assert download.status_code == 200, name
        assert b"".join(download.streaming_content) == jpeg_bytes()
        assert download["Content-Disposition"].startswith("attachment")
    page = client_for("supervisor_a").get(reverse("attachment-download", args=[attachment.pk]))
    assert b"".join(page.streaming_content) == jpeg_bytes()
    assert RecordView.objects.filter(via__contains="attachment").count() == 4

    reads = RecordView.objects.count()
    for refused in (
        api_client_for("outsider_c").get(f"/api/v1/attachments/{attachment.pk}/download/"),
        client_for("outsider_c").get(reverse("attachment-download", args=[attachment.pk])),
    ):
        assert refused.status_code == 404
        assert jpeg_bytes() not in b"".join(getattr(refused, "streaming_content", [b""]))
    assert RecordView.objects.count() == reads


def test_a_police_package_carries_the_original_bytes_from_the_bucket(personas, api_client_for, s3):
    incident = seed_site_a_incident(personas)
    stored = Attachment.objects.get(incident=incident)
    original = s3.read(stored.file.name)
    response = api_client_for("manager_ab").post(
        f"/api/v1/incidents/{incident.pk}/police-package/",
        {"recipient": "Berlin Police", "reason": "Case 42", "case_number": "0042"},
        format="json",
    )
    assert response.status_code == 200, response.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    [member] = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert archive.read(member) == original
    sums = dict(
        reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert sums[member] == hashlib.sha256(original).hexdigest() == stored.sha256
    assert verify_audit().intact


def test_verify_audit_reads_the_bucket_and_names_a_changed_or_missing_file(personas, s3):
    incident = seed_site_a_incident(personas)
    attachment = Attachment.objects.get(incident=incident)
    assert verify_audit().intact

    s3.client.put_object(Bucket=s3.name, Key=attachment.file.name, Body=b"\x89PNG swapped")
    changed = verify_audit()
    assert not changed.intact
    assert any("no longer match" in str(p) for p in changed.problems), changed.problems

    s3.client.delete_object(Bucket=s3.name, Key=attachment.file.name)
    missing = verify_audit()
    assert any("missing from storage" in str(p) for p in missing.problems), missing.problems


def test_the_retention_purge_removes_the_file_from_the_bucket(
    personas, s3, django_capture_on_commit_callbacks
):
    old = closed_incident(personas, days_ago=8 * 365, title="Old")
    recent = closed_incident(personas, days_ago=10, title="Recent")
    old_key = Attachment.objects.get(incident=old).file.name
    recent_key = Attachment.objects.get(incident=recent).file.name
    assert {old_key, recent_key} <= set(s3.keys())

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_expired", "--apply", stdout=io.StringIO())

    assert not Incident.objects.filter(pk=old.pk).exists()
    keys = s3.keys()
    assert old_key not in keys and recent_key in keys
    assert verify_audit().intact


@pytest.mark.django_db(transaction=True)
def test_an_import_file_kept_in_the_bucket_is_imported_by_the_worker(
    transactional_db, personas, s3
):
    """The upload is kept through the storage, so a worker on another server can read it."""
    door(personas.site_a, personas.zone_a, "D-1")
    body = b"source,external_id,occurred_at,door,event_type\n" + b"".join(
        f"ctl,ev-{i},2026-03-28T22:00:00Z,D-1,granted\n".encode() for i in range(20)
    )
    job = access_jobs.start_import_job(
        personas.site_a,
        personas.manager_ab,
        upload=SimpleUploadedFile("events.csv", body),
        file_format="generic-csv",
    )
    assert s3.keys() == [job.upload.name] and s3.read(job.upload.name) == body
    from facility_log.tasks import import_access_file

    import_access_file.enqueue(job.pk)
    call_command("db_worker", batch=True, interval=0, startup_delay=False, reload=False)

    job = ImportJob.objects.get()
    assert (job.status, job.created) == ("done", 20)
    assert AccessEvent.objects.count() == 20
    assert s3.keys() == []  # the worker removes the upload once it is imported
