"""Import jobs: a file uploaded on the import page, imported in the request when small and by
the task worker when large, with its progress recorded for the page to show.

The progress is a percentage: the first pass (checking) counts for the first half, by how much
of the file has been read; storing counts for the second, by rows stored. It is saved (with a
history row, like every change) only when it has moved by `PROGRESS_STEP` points, so a job
leaves a few dozen versions at most, each in its own short transaction.
"""

import logging
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone, translation
from django.utils.text import get_valid_filename

from facility_log.models import ImportBatch, ImportJob, Site
from facility_log.scoping import MANAGE_ROLES, require_role
from facility_log.services.access import IngestRefused
from facility_log.services.access_formats import FORMAT_SOURCE, READERS, open_text
from facility_log.services.access_ingest import ingest_events
from facility_log.services.audit import audited_change, request_id_scope
from facility_log.services.staged_files import staged_files

logger = logging.getLogger(__name__)
PROGRESS_STEP = 5
# The first bad lines kept on a refused job (the command-line import lists them all).
ERRORS_KEPT = 500


def runs_in_background(job: ImportJob) -> bool:
    """Files above `ACCESS_IMPORT_BACKGROUND_BYTES` are imported by the task worker."""
    return job.size > settings.ACCESS_IMPORT_BACKGROUND_BYTES


def start_import_job(
    site: Site,
    actor: AbstractBaseUser,
    *,
    upload: UploadedFile,
    file_format: str,
    site_time: bool = False,
) -> ImportJob:
    """Keep the uploaded file and record the job (queued). The caller runs it: at once
    (`run_import_job`) or through the task worker (facility_log/tasks.py)."""
    require_role(actor, site, MANAGE_ROLES)
    if file_format not in READERS:
        raise ValueError(f"unknown file format {file_format!r}")
    # Staged like attachments (services/staged_files.py): no file without its job.
    with staged_files() as staging, audited_change(actor, f"access import of {upload.name} queued"):
        job = ImportJob(
            site=site,
            actor=actor,
            file_name=upload.name[:255],
            file_format=file_format,
            size=upload.size or 0,
            site_time=site_time,
        )
        # A name of its own: two uploads of "events.csv" must not meet at one path.
        name = get_valid_filename(upload.name)[-100:]
        staging.save(job, "upload", f"access-imports/{uuid.uuid4().hex}-{name}", upload)
        # Every batch the import writes carries it: the job's batches are found by it.
        job.request_id = f"import-{uuid.uuid4().hex}"
        job.save()
    return job


def _update(job: ImportJob, reason: str, **values) -> None:
    with audited_change(job.actor, reason):
        for name, value in values.items():
            setattr(job, name, value)
        job.save()


class _Progress:
    """Turns the import's progress calls into the job's percentage, saved in steps."""

    def __init__(self, job: ImportJob, binary):
        self.job, self.binary = job, binary

    def __call__(self, phase: str, done: int, of: int | None) -> None:
        if phase == "checked":
            read = self.binary.tell() if not self.binary.closed else self.job.size
            percent = 50 * min(read, self.job.size) // max(self.job.size, 1)
            status = ImportJob.Status.CHECKING
        else:
            percent = 50 + 50 * done // max(of or 1, 1)
            status = ImportJob.Status.STORING
        if percent >= self.job.percent + PROGRESS_STEP or status != self.job.status:
            _update(self.job, f"access import {percent} %", status=status, percent=percent)


def run_import_job(job: ImportJob) -> ImportJob:
    """Import the job's file (checked whole first, then stored chunk by chunk), recording
    progress, the outcome and what was stored; delete the file at the end.

    A refused file stores nothing and keeps its first bad lines on the job. A failure while
    storing leaves the chunks stored so far (each complete, with its batch and ledger
    entry) and marks the job failed: importing the same file again completes it, the stored
    rows being skipped as duplicates."""
    if not job.is_running:
        return job
    with request_id_scope(job.request_id):
        _update(job, "access import started", status=ImportJob.Status.CHECKING, percent=0)
        try:
            with job.upload.open("rb") as binary:
                result = ingest_events(
                    job.site,
                    job.actor,
                    READERS[job.file_format](open_text(binary)),
                    channel=ImportBatch.Channel.FILE,
                    vendor=FORMAT_SOURCE[job.file_format],
                    file_name=job.file_name,
                    progress=_Progress(job, binary),
                    site_time=job.site_time,
                )
        except IngestRefused as refused:
            errors = [
                {"line": e.line, "column": e.column, "message": e.message}
                for e in refused.errors[:ERRORS_KEPT]
            ]
            _finish(
                job,
                ImportJob.Status.REFUSED,
                errors=errors,
                error_count=len(refused.errors),
                message="The file was refused: nothing was stored.",
            )
        except PermissionDenied as error:
            _finish(job, ImportJob.Status.REFUSED, message=str(error))
        except Exception as error:
            logger.exception("access import job %s failed", job.pk)
            _finish(job, ImportJob.Status.FAILED, **_stored_so_far(job), message=_failed(error))
        else:
            _finish(
                job,
                ImportJob.Status.DONE,
                percent=100,
                total=result.total,
                created=result.created,
                duplicates=result.duplicates,
                alarms=result.alarms,
                batches=len(result.batches),
                skipped=result.skipped,
            )
    return job


def _stored_so_far(job: ImportJob) -> dict:
    batches = ImportBatch.objects.filter(site=job.site, request_id=job.request_id)
    return {
        "batches": batches.count(),
        "created": sum(batches.values_list("created", flat=True)),
        "duplicates": sum(batches.values_list("duplicates", flat=True)),
    }


def _failed(error: Exception) -> str:
    return (
        f"The import stopped ({type(error).__name__}). The events stored before that are kept "
        "complete; import the same file again to store the rest (what is stored already is "
        "skipped as duplicates)."
    )


def _finish(job: ImportJob, status: str, **values) -> None:
    if job.upload:
        # The raw file holds credential numbers, which are never kept (PRIVACY.md).
        job.upload.delete(save=False)
    # History reasons stay in the base language, whoever's request ran the import.
    with translation.override(settings.LANGUAGE_CODE):
        reason = f"access import ended: {ImportJob.Status(status).label}"
    _update(job, reason, status=status, finished_at=timezone.now(), upload="", **values)
