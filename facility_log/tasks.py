"""Background tasks (Django's Tasks API through the `django-tasks` backport; the database
backend `django-tasks-db`, run by `manage.py db_worker`). Like views and commands, tasks only
translate: the work is in services."""

from django_tasks import task

from facility_log.models import AuditCheck, ImportJob
from facility_log.services.access_jobs import run_import_job
from facility_log.services.audit_checks import run_audit_check


@task()
def import_access_file(job_id: int) -> dict:
    """Import an uploaded access-event file (large files; small ones run in the request)."""
    job = run_import_job(ImportJob.objects.select_related("site", "actor").get(pk=job_id))
    return {"status": job.status, "created": job.created, "duplicates": job.duplicates}


@task()
def verify_ledger(check_id: int) -> dict:
    """Verify the ledger for a check asked for on the audit page."""
    check = run_audit_check(AuditCheck.objects.select_related("requested_by").get(pk=check_id))
    return {"status": check.status, "intact": check.intact, "problems": check.problem_count}
