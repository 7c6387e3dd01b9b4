"""Lone-worker check-ins: while a guard is the only one on duty at a site whose managers
turned the rule on, a check-in missed (due + grace passed) raises exactly one high-priority
alarm, however often the check runs; a check-in in time raises none, nor does a shift with a
second guard on duty. Check-ins go through the outbox batch and their own endpoint, once per
client uuid; the rule is set on a page and over the API by the site's managers with a
reason; the outsider reaches none of it."""

import io
import uuid
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import (
    Alarm,
    AlarmPriorityLevel,
    CheckIn,
    LoneWorkerPolicy,
    Notification,
    NotificationKind,
)
from facility_log.services import alarm_priorities, lone_worker
from facility_log.services import shifts as shift_services
from facility_log.services.accounts import system_actor
from facility_log.services.verify import verify_audit

pytestmark = pytest.mark.django_db
SYNC = "/api/v1/sync/"
CHECK_INS = "/api/v1/check-ins/"
POLICY_API = "/api/v1/sites/{}/lone-worker-policy/"
PAGE = "/sites/{}/lone-worker/"


@contextmanager
def clock_at(when):
    """The server's clock at `when` (the check runs "later" without waiting for it)."""
    with mock.patch.object(timezone, "now", return_value=when):
        yield


def _rule_on(p, *, interval=30, grace=5):
    return lone_worker.set_lone_worker_policy(
        p.site_a,
        p.manager_ab,
        enabled=True,
        interval_minutes=interval,
        grace_minutes=grace,
        reason="night guard works alone",
    )


def _shift(p, who, started_at):
    shift, _ = shift_services.start_shift(
        p.site_a, who, client_uuid=uuid.uuid4(), started_at=started_at
    )
    return shift


def _alone_on_shift(p):
    """guard_a alone at site A since an hour before the rule was turned on (at t0)."""
    shift = _shift(p, p.guard_a, timezone.now() - timedelta(hours=1))
    policy = _rule_on(p)
    return shift, policy.changed_at


def _check_in_record(shift, at, uid=None) -> dict:
    return {
        "type": "check_in",
        "client_uuid": str(uid or uuid.uuid4()),
        "shift_uuid": str(shift.client_uuid),
        "checked_in_at": at.isoformat(),
    }


def _run_check(at):
    with clock_at(at):
        call_command("check_lone_workers", stdout=io.StringIO())


# --- the done-when --------------------------------------------------------------------------


def test_a_missed_check_in_raises_exactly_one_alarm_when_the_command_runs_twice(personas):
    shift, t0 = _alone_on_shift(personas)
    _run_check(t0 + timedelta(minutes=34))  # due at t0+30, grace until t0+35: not yet
    assert not Alarm.objects.exists()
    _run_check(t0 + timedelta(minutes=36))
    _run_check(t0 + timedelta(minutes=37))
    alarm = Alarm.objects.get()
    missed = alarm.missed_check_in
    assert (alarm.event_type, alarm.site, alarm.door, alarm.panic) == (
        "missed_check_in",
        personas.site_a,
        None,
        None,
    )
    assert (missed.shift, missed.since, missed.due_at) == (shift, t0, t0 + timedelta(minutes=30))
    # High: just under duress.
    assert alarm_priorities.priority_of(alarm) == AlarmPriorityLevel.HIGH
    since = t0.astimezone(personas.site_a.tzinfo)
    assert alarm.where == f"No check-in from Gina Tester since {since:%H:%M}"
    # Supervisors and managers are told at once, as for duress; the guard is not.
    told = set(
        Notification.objects.filter(kind=NotificationKind.URGENT_ALARM).values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"supervisor_a", "manager_ab"}
    history = alarm.history.latest()
    assert "missed a check-in" in history.history_change_reason
    # The check-in records and the alarm are chained in the ledger like any other.
    assert verify_audit().intact


def test_a_guard_who_never_answers_raises_one_alarm_per_interval(personas):
    _shift_, t0 = _alone_on_shift(personas)
    for minutes in (36, 40, 66, 70):
        _run_check(t0 + timedelta(minutes=minutes))
    dues = sorted(Alarm.objects.values_list("missed_check_in__due_at", flat=True))
    assert dues == [t0 + timedelta(minutes=30), t0 + timedelta(minutes=60)]


def test_a_check_in_in_time_raises_none(personas, api_client_for):
    shift, t0 = _alone_on_shift(personas)
    at = t0 + timedelta(minutes=20)
    with clock_at(at + timedelta(seconds=5)):
        answer = api_client_for("guard_a").post(
            SYNC, {"records": [_check_in_record(shift, at)]}, format="json"
        )
    assert answer.json()["results"][0]["status"] == 201, answer.content
    _run_check(t0 + timedelta(minutes=36))
    _run_check(t0 + timedelta(minutes=54))  # the next one is due at t0+50, grace till t0+55
    assert not Alarm.objects.exists()
    _run_check(t0 + timedelta(minutes=56))
    alarm = Alarm.objects.get()
    assert alarm.missed_check_in.since == at  # counted from the check-in


def test_a_shift_with_two_guards_on_duty_raises_none(personas):
    _shift_, t0 = _alone_on_shift(personas)
    _shift(personas, personas.supervisor_a, t0 - timedelta(minutes=10))
    _run_check(t0 + timedelta(minutes=36))
    _run_check(t0 + timedelta(hours=3))
    assert not Alarm.objects.exists()


def test_alone_is_counted_from_when_the_other_guard_left(personas):
    _shift_, t0 = _alone_on_shift(personas)
    other = _shift(personas, personas.supervisor_a, t0 - timedelta(minutes=10))
    left = t0 + timedelta(minutes=40)
    with clock_at(left):
        shift_services.end_shift(other, personas.supervisor_a, ended_at=left)
    _run_check(t0 + timedelta(minutes=70))  # due at left+30, grace till left+35
    assert not Alarm.objects.exists()
    _run_check(left + timedelta(minutes=36))
    assert Alarm.objects.get().missed_check_in.since == left


def test_no_alarm_while_the_rule_is_off_or_never_set(personas):
    shift = _shift(personas, personas.guard_a, timezone.now() - timedelta(hours=2))
    _run_check(timezone.now() + timedelta(hours=1))
    lone_worker.set_lone_worker_policy(
        personas.site_a,
        personas.manager_ab,
        enabled=False,
        interval_minutes=30,
        grace_minutes=5,
        reason="two guards from now on",
    )
    _run_check(timezone.now() + timedelta(hours=2))
    assert not Alarm.objects.exists() and shift.is_open


# --- the check-in -----------------------------------------------------------------------------


def test_a_check_in_is_stored_once_and_records_only_its_time_and_shift(personas, api_client_for):
    shift, _t0 = _alone_on_shift(personas)
    client = api_client_for("guard_a")
    body = _check_in_record(shift, timezone.now())
    body.pop("type")
    first = client.post(CHECK_INS, body, format="json")
    again = client.post(CHECK_INS, body, format="json")
    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert first.json() == again.json()
    assert set(first.json()) == {"id", "shift", "checked_in_at", "received_at"}
    check_in = CheckIn.objects.get()
    assert (check_in.shift, str(check_in.client_uuid)) == (shift, body["client_uuid"])
    # The same uuid for another time: refused, nothing written.
    other = dict(body, checked_in_at=(timezone.now() - timedelta(minutes=1)).isoformat())
    assert client.post(CHECK_INS, other, format="json").status_code == 422
    # A position is not taken: the body has no field for one.
    where = dict(body, client_uuid=str(uuid.uuid4()), latitude=52.5)
    refused = client.post(CHECK_INS, where, format="json")
    assert refused.status_code == 400 and "latitude" in refused.json()
    assert CheckIn.objects.count() == 1


def test_a_check_in_outside_the_shift_or_ahead_of_the_clock_is_refused(personas, api_client_for):
    shift, _t0 = _alone_on_shift(personas)
    client = api_client_for("guard_a")
    for at, why in (
        (shift.started_at - timedelta(minutes=1), "Before the shift started."),
        (timezone.now() + timedelta(minutes=30), "In the future"),
    ):
        body = _check_in_record(shift, at)
        body.pop("type")
        answer = client.post(CHECK_INS, body, format="json")
        assert answer.status_code == 422 and why in answer.json()["checked_in_at"][0]
    assert not CheckIn.objects.exists()


def test_only_the_shifts_own_guard_checks_in(personas, api_client_for):
    shift, _t0 = _alone_on_shift(personas)
    record = _check_in_record(shift, timezone.now())
    answer = api_client_for("supervisor_a").post(SYNC, {"records": [record]}, format="json")
    assert answer.json()["results"][0]["status"] == 403
    assert not CheckIn.objects.exists()


def test_a_check_in_waits_in_the_batch_for_a_shift_not_yet_on_the_server(personas, api_client_for):
    _rule_on(personas)
    shift_uuid = uuid.uuid4()
    now = timezone.now()
    records = [
        {
            "type": "check_in",
            "client_uuid": str(uuid.uuid4()),
            "shift_uuid": str(shift_uuid),
            "checked_in_at": now.isoformat(),
        }
    ]
    answer = api_client_for("guard_a").post(SYNC, {"records": records}, format="json")
    assert answer.json()["results"][0]["status"] == 424


# --- the outsider, the guard, the manager ------------------------------------------------------


def test_the_outsider_gets_nothing_from_the_page_the_rule_or_the_check_in(
    personas, client_for, api_client_for
):
    shift, _t0 = _alone_on_shift(personas)
    page = client_for("outsider_c")
    assert page.get(PAGE.format("ALPHA")).status_code == 404
    posted = {"enabled": "", "interval_minutes": 60, "grace_minutes": 5, "reason": "x"}
    assert page.post(PAGE.format("ALPHA"), posted).status_code == 404
    api = api_client_for("outsider_c")
    assert api.get(POLICY_API.format("ALPHA")).status_code == 404
    put = {"enabled": False, "interval_minutes": 60, "grace_minutes": 5, "reason": "x"}
    assert api.put(POLICY_API.format("ALPHA"), put, format="json").status_code == 404
    body = _check_in_record(shift, timezone.now())
    body.pop("type")
    assert api.post(CHECK_INS, body, format="json").status_code == 422
    batch = api.post(SYNC, {"records": [_check_in_record(shift, timezone.now())]}, format="json")
    assert batch.json()["results"][0]["status"] == 424  # another site's shift: not found
    assert not CheckIn.objects.exists()
    policy = LoneWorkerPolicy.objects.get()
    assert (policy.enabled, policy.interval_minutes) == (True, 30)


def test_guards_read_the_rule_but_only_managers_set_it(personas, client_for, api_client_for):
    _rule_on(personas)
    guard = api_client_for("guard_a")
    read = guard.get(POLICY_API.format("ALPHA"))
    assert read.status_code == 200
    assert read.json()["enabled"] is True and read.json()["interval_minutes"] == 30
    put = {"enabled": False, "interval_minutes": 60, "grace_minutes": 5, "reason": "x"}
    assert guard.put(POLICY_API.format("ALPHA"), put, format="json").status_code == 403
    assert client_for("guard_a").get(PAGE.format("ALPHA")).status_code == 403
    assert client_for("supervisor_a").get(PAGE.format("ALPHA")).status_code == 403
    manager = api_client_for("manager_ab")
    answer = manager.put(POLICY_API.format("ALPHA"), put, format="json")
    assert answer.status_code == 200 and answer.json()["enabled"] is False
    bad = dict(put, grace_minutes=60, interval_minutes=60)
    refused = manager.put(POLICY_API.format("ALPHA"), bad, format="json")
    assert refused.status_code == 422 and "grace_minutes" in refused.json()
    no_reason = {k: v for k, v in put.items() if k != "reason"}
    assert manager.put(POLICY_API.format("ALPHA"), no_reason, format="json").status_code == 400
    assert LoneWorkerPolicy.history.filter(site_id=personas.site_a.pk).count() == 2


def test_the_manager_sets_the_rule_on_the_page_with_a_reason_kept_in_the_history(
    personas, client_for
):
    client = client_for("manager_ab")
    assert PAGE.format("ALPHA") in client.get("/sites/ALPHA/").content.decode()
    posted = {"enabled": "on", "interval_minutes": 45, "grace_minutes": 10, "reason": "quiet"}
    answer = client.post(PAGE.format("ALPHA"), posted)
    assert answer.status_code == 302
    policy = LoneWorkerPolicy.objects.get(site=personas.site_a)
    assert (policy.enabled, policy.interval_minutes, policy.grace_minutes) == (True, 45, 10)
    row = policy.history.latest()
    assert row.history_user_name == "manager_ab" and "quiet" in row.history_change_reason
    page = client.get(PAGE.format("ALPHA")).content.decode()
    assert "quiet" in page and "every 45 minutes" in page
    # The grace period must be shorter than the interval: said next to the field.
    refused = client.post(PAGE.format("ALPHA"), dict(posted, grace_minutes=50, interval_minutes=45))
    assert refused.status_code == 200
    assert "shorter than the interval" in refused.content.decode()
    assert LoneWorkerPolicy.objects.get(site=personas.site_a).grace_minutes == 10


def _history_page_queries(client, code) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE.format(code)).status_code == 200
    return len(queries)


def test_the_rule_page_costs_the_same_queries_for_a_short_and_a_long_history(personas, client_for):
    client = client_for("manager_ab")
    _rule_on(personas)
    short = _history_page_queries(client, "ALPHA")
    for n in range(6):
        _rule_on(personas, interval=30 + n)
    assert _history_page_queries(client, "ALPHA") == short


# --- the alarm console and the alarms API -------------------------------------------------------


def _missed_alarms(p, count: int):
    """`count` missed check-ins of guard_a alone at site A (one per interval)."""
    _shift_, t0 = _alone_on_shift(p)
    for n in range(count):
        with clock_at(t0 + timedelta(minutes=36 + 30 * n)):
            lone_worker.raise_missed_check_ins(system_actor())


def test_the_console_shows_who_has_not_checked_in_since_when(personas, client_for):
    _missed_alarms(personas, 1)
    alarm = Alarm.objects.get()
    expected = alarm.where
    client = client_for("supervisor_a")
    page = client.get("/access/alarms/").content.decode()
    assert "Missed check-in" in page and expected in page
    feed = client.get("/access/alarms/feed/").json()["alarms"]
    assert [a["door_name"] for a in feed] == [expected]
    detail = client.get(f"/access/alarms/{alarm.pk}/").content.decode()
    assert expected in detail and "Check-in due" in detail
    assert client_for("outsider_c").get(f"/access/alarms/{alarm.pk}/").status_code == 404


def test_the_console_and_the_alarms_api_cost_the_same_queries_for_one_or_four_alarms(
    personas, client_for, api_client_for
):
    _missed_alarms(personas, 1)
    web = client_for("supervisor_a")
    one = _console_queries_of(web, api_client_for("supervisor_a"))
    for n in range(3):
        with clock_at(timezone.now() + timedelta(minutes=66 + 30 * n)):
            lone_worker.raise_missed_check_ins(system_actor())
    assert Alarm.objects.count() == 4
    assert _console_queries_of(web, api_client_for("supervisor_a")) == one
    listed = api_client_for("supervisor_a").get("/api/v1/alarms/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {r["missed_check_in"]["guard"] for r in rows} == {"guard_a"}


def _console_queries_of(web, api) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert web.get("/access/alarms/feed/").status_code == 200
        assert api.get("/api/v1/alarms/").status_code == 200
    return len(queries)


def test_a_door_cannot_report_a_missed_check_in(personas):
    from facility_log.services.access import EVENT_TYPES
    from facility_log.services.access_mapping import NEUTRAL

    assert "missed_check_in" not in EVENT_TYPES | NEUTRAL


def test_the_tablet_carries_the_sites_rule_and_the_check_in_module(personas, client_for):
    _rule_on(personas, interval=20, grace=3)
    page = client_for("guard_a").get("/tablet/").content.decode()
    assert 'id="checkin"' in page and "js/tablet/checkin.js" in page
    assert '"lone_worker": {"enabled": true, "interval_minutes": 20, "grace_minutes": 3' in page


# --- retention ------------------------------------------------------------------------------


def test_check_ins_go_with_their_shift_and_a_missed_one_keeps_its_shift(personas):
    from facility_log.models import MissedCheckIn, Shift
    from facility_log.services import retention

    _rule_on(personas)
    checked = _shift(personas, personas.guard_a, timezone.now() - timedelta(hours=3))
    lone_worker.record_check_in(
        personas.guard_a,
        shift=checked,
        client_uuid=uuid.uuid4(),
        checked_in_at=timezone.now() - timedelta(hours=2),
    )
    shift_services.end_shift(checked, personas.guard_a, ended_at=timezone.now())
    missed, t0 = _alone_on_shift(personas)
    _run_check(t0 + timedelta(minutes=36))
    with clock_at(t0 + timedelta(minutes=40)):
        shift_services.end_shift(missed, personas.guard_a, ended_at=t0 + timedelta(minutes=40))
    retention.purge_expired(personas.admin, apply=True, now=timezone.now() + timedelta(days=3650))
    assert not Shift.objects.filter(pk=checked.pk).exists()
    assert not CheckIn.objects.exists()
    assert Shift.objects.filter(pk=missed.pk).exists()
    assert MissedCheckIn.objects.get().shift == missed and Alarm.objects.count() == 1


# --- the periodic task ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_check_queued_twice_runs_once_on_the_worker_and_raises_one_alarm(
    transactional_db, personas
):
    from django_tasks_db.models import DBTaskResult

    _shift_, t0 = _alone_on_shift(personas)
    for _ in range(2):
        call_command("check_lone_workers", "--enqueue", stdout=io.StringIO())
    task = "facility_log.tasks.check_lone_worker_check_ins"
    assert DBTaskResult.objects.filter(task_path=task).count() == 1
    assert not Alarm.objects.exists()  # queuing did no work
    with clock_at(t0 + timedelta(minutes=36)):
        call_command(
            "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
        )
    (result,) = DBTaskResult.objects.filter(task_path=task)
    alarm = Alarm.objects.get()
    assert result.status == "SUCCESSFUL", result.traceback
    assert result.return_value == {"raised": [alarm.pk]}
    assert alarm.history.latest().history_request_id.startswith("task-check_lone_workers-")


def test_an_unacknowledged_missed_check_in_is_escalated_with_who_and_since_when(personas):
    from facility_log.services.periodic import escalate_due_alarms

    _missed_alarms(personas, 1)
    alarm = Alarm.objects.get()
    with clock_at(alarm.raised_at + timedelta(minutes=alarm.escalate_after_minutes + 1)):
        escalated = escalate_due_alarms(system_actor())
    assert [a.pk for a, _recipients in escalated] == [alarm.pk]
    notice = Notification.objects.get(
        kind=NotificationKind.ALARM_UNACKNOWLEDGED, recipient=personas.supervisor_a
    )
    assert notice.subject.endswith("ALPHA: Missed check-in not acknowledged")
    assert f"Missed check-in: {alarm.where}, site Alpha Plant" in notice.body
