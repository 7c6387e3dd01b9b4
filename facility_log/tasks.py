"""Background tasks (Django's Tasks API through the `django-tasks` backport; the database
backend `django-tasks-db`, run by `manage.py db_worker`). Like views and commands, tasks only
translate: the work is in services."""

from django_tasks import task

from facility_log.models import ImportJob
from facility_log.services.access_jobs import run_import_job


@task()
def import_access_file(job_id: int) -> dict:
    """Import an uploaded access-event file (large files; small ones run in the request)."""
    job = run_import_job(ImportJob.objects.select_related("site", "actor").get(pk=job_id))
    return {"status": job.status, "created": job.created, "duplicates": job.duplicates}
