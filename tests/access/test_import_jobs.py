"""Import jobs: the upload page imports small files at once and hands large ones to the task
worker (run here for real: `manage.py db_worker --batch`), showing progress as a percentage."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from facility_log.models import AccessEvent, ImportBatch, ImportJob
from facility_log.services import access_ingest, access_jobs
from facility_log.services.verify import verify_audit
from tests.access.helpers import SAMPLES, door, sample_doors


def _csv(count: int, start: int = 0) -> bytes:
    lines = ["source,external_id,occurred_at,door,event_type"]
    for i in range(start, start + count):
        kind = "forced_open" if i % 10 == 0 else "granted"
        lines.append(f"ctl,ev-{i},2026-03-28T22:00:00Z,D-1,{kind}")
    return ("\n".join(lines) + "\n").encode()


def _upload(client, body: bytes, name: str = "events.csv"):
    upload = SimpleUploadedFile(name, body)
    return client.post(
        reverse("access-import"), {"site": "ALPHA", "file_format": "generic-csv", "file": upload}
    )


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_imported_by_the_worker_and_the_page_shows_progress(
    transactional_db, personas, client_for, settings
):
    settings.ACCESS_IMPORT_BACKGROUND_BYTES = 100
    door(personas.site_a, personas.zone_a, "D-1")
    client = client_for("manager_ab")
    response = _upload(client, _csv(50))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("access-import-job", args=[job.pk])
    assert job.status == ImportJob.Status.QUEUED and not AccessEvent.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert 'data-running="1"' in page and "<progress" in page
    progress_url = reverse("access-import-job-progress", args=[job.pk])
    assert client.get(progress_url).json() == {
        "status": "queued",
        "status_label": "Waiting for the worker",
        "percent": 0,
        "running": True,
    }

    call_command("db_worker", batch=True, interval=0, startup_delay=False, reload=False)

    job.refresh_from_db()
    assert (job.status, job.percent, job.created, job.alarms) == ("done", 100, 50, 5)
    assert client.get(progress_url).json()["running"] is False
    assert "Alarms raised" in client.get(response["Location"]).content.decode()
    assert AccessEvent.objects.count() == 50
    assert set(ImportBatch.objects.values_list("request_id", flat=True)) == {job.request_id}
    assert not job.upload
    assert verify_audit().intact


@pytest.mark.django_db
def test_progress_is_recorded_as_a_percentage_in_steps(personas, monkeypatch):
    monkeypatch.setattr(access_ingest, "chunk_size", lambda: 10)
    door(personas.site_a, personas.zone_a, "D-1")
    upload = SimpleUploadedFile("events.csv", _csv(100))
    job = access_jobs.start_import_job(
        personas.site_a, personas.manager_ab, upload=upload, file_format="generic-csv"
    )
    access_jobs.run_import_job(job)
    versions = list(job.history.order_by("history_id").values_list("status", "percent"))
    percents = [p for _s, p in versions]
    assert percents == sorted(percents) and percents[-1] == 100
    assert ("storing", 60) in versions  # 2 chunks of 10 out of 100 rows stored: 50 + 10
    assert [s for s, _p in versions][-1] == "done"
    assert len(versions) <= 2 + 100 // access_jobs.PROGRESS_STEP + 2
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_refused_file_stores_nothing_and_names_the_line(personas, client_for):
    sample_doors(personas.site_a, personas.zone_a)
    name = "bad-timestamp-row-41.csv"
    response = _upload(client_for("manager_ab"), (SAMPLES / name).read_bytes(), name)
    assert response.status_code == 200
    assert "Line 41, column occurred_at" in response.content.decode()
    job = ImportJob.objects.get()
    assert (job.status, job.error_count) == ("refused", 1)
    assert not AccessEvent.objects.exists() and not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_a_job_stopped_while_storing_is_marked_and_importing_again_completes_it(
    personas, monkeypatch
):
    monkeypatch.setattr(access_ingest, "chunk_size", lambda: 10)
    real, calls = access_ingest._insert_new, []

    def failing_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(*args)

    monkeypatch.setattr(access_ingest, "_insert_new", failing_third)
    door(personas.site_a, personas.zone_a, "D-1")

    def run(body: bytes) -> ImportJob:
        upload = SimpleUploadedFile("events.csv", body)
        job = access_jobs.start_import_job(
            personas.site_a, personas.manager_ab, upload=upload, file_format="generic-csv"
        )
        return access_jobs.run_import_job(job)

    stopped = run(_csv(45))
    assert (stopped.status, stopped.created, stopped.batches) == ("failed", 20, 2)
    assert "import the same file again" in stopped.message
    assert verify_audit().intact
    done = run(_csv(45))
    assert (done.status, done.created, done.duplicates) == ("done", 25, 20)
    assert AccessEvent.objects.count() == 45
    assert verify_audit().intact


@pytest.mark.django_db
def test_the_outsider_gets_nothing_of_a_job(personas, client_for):
    from tests.access.helpers import site_a_import_job

    job = site_a_import_job(personas)
    for name in ("access-import-job", "access-import-job-progress"):
        url = reverse(name, args=[job.pk])
        assert client_for("outsider_c").get(url).status_code == 404
        assert client_for("guard_a").get(url).status_code == 403  # a member, not a manager
        assert client_for("manager_ab").get(url).status_code == 200
