"""The periodic commands queued for the task worker (`--enqueue`, as cron runs them on several
servers) and run by the real database-backend worker (`manage.py db_worker --batch`): each
does its work once, however often cron queued it, and what it records names the task run."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from facility_log.models import Alarm, Incident, PurgeRun, RoundException
from facility_log.services import access, accounts, sites
from facility_log.services.accounts import system_actor
from facility_log.services.verify import verify_audit
from tests.access.helpers import forced_open_at
from tests.retention_helpers import closed_incident
from tests.rounds_helpers import every_two_hours, night_route

pytestmark = pytest.mark.django_db

# The worker closes its database connection after each task, as a long-running process
# should: these tests run outside a wrapping transaction (the worker tests in
# tests/access/test_import_jobs.py do the same), asking for `transactional_db` by name so that
# the append-only tables can be emptied afterwards (tests/conftest.py).
worker_test = pytest.mark.django_db(transaction=True)


def _enqueue(*command) -> str:
    out = StringIO()
    call_command(*command, "--enqueue", stdout=out)
    return out.getvalue()


def _run_worker() -> None:
    call_command(
        "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
    )


def _results(task_name: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=f"facility_log.tasks.{task_name}"))


def _email(person, address: str, actor) -> None:
    from facility_log.services.audit import audited_change

    person.email = address
    with audited_change(actor, "test: email address"):
        person.save()


@worker_test
def test_check_rounds_queued_twice_runs_once_on_the_worker(transactional_db, personas):
    user = accounts.create_user(
        personas.admin, username="nights", password=None, email="n@example.test", reason="test"
    )
    sites.grant_membership(
        personas.site_a, personas.admin, user=user, role="supervisor", reason="test"
    )
    route, _ = night_route(personas)
    every_two_hours(personas, route, active_from=timezone.now() - timedelta(hours=30))

    assert "queued for the worker" in _enqueue("check_rounds")
    assert "already waiting" in _enqueue("check_rounds")
    # Queuing did no work: the worker does it.
    assert RoundException.objects.count() == 0 and mail.outbox == []
    assert len(_results("check_rounds")) == 1

    _run_worker()

    [result] = _results("check_rounds")
    assert result.status == "SUCCESSFUL", result.traceback
    recorded = RoundException.objects.count()
    assert recorded >= 5 and result.return_value == {"recorded": recorded, "email_failed": []}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["n@example.test"]
    rows = RoundException.history.values_list("history_request_id", flat=True)
    assert {r.rsplit("-", 1)[0] for r in rows} == {"task-check_rounds"}

    # The next minute's run finds nothing new.
    _enqueue("check_rounds")
    _run_worker()
    assert RoundException.objects.count() == recorded and len(mail.outbox) == 1
    assert verify_audit().intact


@worker_test
def test_check_alarms_on_the_worker_escalates_each_alarm_once(transactional_db, personas):
    _email(personas.supervisor_a, "sam@example.org", personas.admin)
    access.set_alarm_rule(
        personas.site_a,
        personas.manager_ab,
        event_type="forced_open",
        escalate_after_minutes=0,
        reason="forced doors escalate at once",
    )
    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    # Raising a forced-door alarm tells the supervisor at once (docs/notifications.md); what
    # follows is the escalation alone.
    assert len(mail.outbox) == 1 and "forced open" in mail.outbox[0].subject.lower()
    mail.outbox.clear()

    _enqueue("check_alarms")
    _enqueue("check_alarms")
    _run_worker()
    _enqueue("check_alarms")
    _run_worker()

    results = _results("check_alarms")
    assert [r.status for r in results] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert sorted(r.return_value["escalated"] for r in results) == [[], [alarm.pk]]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sam@example.org"]
    assert Alarm.objects.get().escalated_at is not None


def test_an_alarm_taken_by_a_concurrent_run_is_not_escalated_again(
    personas, django_capture_on_commit_callbacks
):
    """Two runs that both listed the alarm before either escalated it (two workers, or a
    manual run beside the scheduled one): the second finds it taken and sends nothing."""
    _email(personas.supervisor_a, "sam@example.org", personas.admin)
    access.set_alarm_rule(
        personas.site_a,
        personas.manager_ab,
        event_type="forced_open",
        escalate_after_minutes=0,
        reason="forced doors escalate at once",
    )
    forced_open_at(personas.site_a, personas.zone_a)
    first, second = access.alarms_to_escalate(), access.alarms_to_escalate()

    with django_capture_on_commit_callbacks(execute=True):
        assert access.escalate_alarm(first[0], system_actor()) == ["sam@example.org"]
        assert access.escalate_alarm(second[0], system_actor()) is None
    assert len(mail.outbox) == 1
    assert Alarm.history.filter(escalated_at__isnull=False).count() == 1


@worker_test
def test_purge_queued_with_apply_removes_expired_records_on_the_worker(transactional_db, personas):
    old = closed_incident(personas, days_ago=8 * 365, title="Old")
    recent = closed_incident(personas, days_ago=10, title="Recent")

    out = _enqueue("purge_expired", "--apply")
    assert "queued for the worker" in out
    # A dry run queued beside it is another run, not the same one.
    assert "queued for the worker" in _enqueue("purge_expired")
    assert Incident.objects.filter(pk=old.pk).exists()

    _run_worker()

    assert not Incident.objects.filter(pk=old.pk).exists()
    assert Incident.objects.filter(pk=recent.pk).exists()
    results = {r.return_value["applied"]: r for r in _results("purge_expired_records")}
    assert set(results) == {True, False}
    assert PurgeRun.objects.count() == 2
    assert verify_audit().intact
