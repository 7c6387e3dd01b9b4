"""Background tasks (Django's Tasks API through the `django-tasks` backport; the database
backend `django-tasks-db`, run by `manage.py db_worker` on any server). Like views and
commands, tasks only translate: the work is in services.

The periodic commands (`check_rounds`, `check_alarms`, `check_lone_workers`,
`purge_expired`) take `--enqueue`: cron then only queues the run, and whichever worker is
free does it (docs/deploy.md)."""

import uuid

from django_tasks import task
from django_tasks_db.models import DBTaskResult

from facility_log.models import AuditCheck, ImportJob
from facility_log.services.access_jobs import run_import_job
from facility_log.services.accounts import system_actor
from facility_log.services.audit import request_id_scope
from facility_log.services.audit_checks import run_audit_check
from facility_log.services.periodic import (
    check_lone_workers,
    check_rounds_and_notify,
    escalate_due_alarms,
    notify_overdue_keys,
)
from facility_log.services.retention import purge_expired


@task()
def import_access_file(job_id: int) -> dict:
    """Import an uploaded access-event file (large files; small ones run in the request)."""
    job = run_import_job(ImportJob.objects.select_related("site", "actor").get(pk=job_id))
    return {"status": job.status, "created": job.created, "duplicates": job.duplicates}


def _run_id(name: str) -> str:
    # Like a command's `cmd-<command>-<id>`: every history row of one run shares it.
    return f"task-{name}-{uuid.uuid4().hex[:12]}"


@task()
def check_rounds() -> dict:
    """`check_rounds` on the worker: missed rounds and overdue runs, supervisors emailed."""
    with request_id_scope(_run_id("check_rounds")):
        result = check_rounds_and_notify(system_actor())
    return {"recorded": result.recorded, "email_failed": result.failed_sites}


@task()
def check_alarms() -> dict:
    """`check_alarms` on the worker: unacknowledged alarms escalated, each once."""
    with request_id_scope(_run_id("check_alarms")):
        escalated = escalate_due_alarms(system_actor())
    return {"escalated": [alarm.pk for alarm, _recipients in escalated]}


@task()
def check_lone_worker_check_ins() -> dict:
    """`check_lone_workers` on the worker: missed check-ins raised as alarms, each once."""
    with request_id_scope(_run_id("check_lone_workers")):
        raised = check_lone_workers(system_actor())
    return {"raised": [alarm.pk for alarm in raised]}


@task()
def check_keys() -> dict:
    """`check_keys` on the worker: overdue keys told to supervisors and managers, each once."""
    with request_id_scope(_run_id("check_keys")):
        noticed = notify_overdue_keys(system_actor())
    return {"notified": [issue.pk for issue in noticed]}


@task()
def purge_expired_records(apply: bool = False) -> dict:
    """`purge_expired` on the worker (a dry run unless `apply`)."""
    with request_id_scope(_run_id("purge_expired")):
        run = purge_expired(system_actor(), apply=apply)
    return {"purge_run": run.pk, "applied": apply}


def enqueue_once(periodic_task, *args):
    """Queue `periodic_task` unless the same run is already waiting or running: cron queues
    it every minute, and a worker that was down for an hour must find one run to do, not
    sixty. Returns (result, queued)."""
    waiting = (
        DBTaskResult.objects.filter(task_path=periodic_task.module_path)
        .filter(status__in=["READY", "RUNNING"])
        .order_by("enqueued_at")
    )
    for row in waiting:
        if row.args_kwargs.get("args", []) == list(args):
            return row.task_result, False
    return periodic_task.enqueue(*args), True


@task()
def verify_ledger(check_id: int) -> dict:
    """Verify the ledger for a check asked for on the audit page."""
    check = run_audit_check(AuditCheck.objects.select_related("requested_by").get(pk=check_id))
    return {"status": check.status, "intact": check.intact, "problems": check.problem_count}
