"""Key control's rules: a key or set is out to one holder at a time, every movement is a
history row with actor and reason, and an overdue key is told to the site's supervisors and
managers exactly once however often the check runs."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from facility_log.models import KeyIssue, Notification, NotificationKind
from facility_log.services import keys
from facility_log.services.accounts import system_actor
from facility_log.services.periodic import notify_overdue_keys
from tests.onsite.keys_helpers import issued_at_a, key_at_a

pytestmark = pytest.mark.django_db


def _in_two_hours():
    return timezone.now() + timedelta(hours=2)


def test_a_key_issued_and_not_returned_by_its_time_is_overdue_and_notified_once(personas):
    issue = issued_at_a(personas, hours_out=4, hours_due=2)
    assert list(keys.overdue_issues([personas.site_a.pk])) == [issue]
    first, second = StringIO(), StringIO()
    call_command("check_keys", stdout=first)
    call_command("check_keys", stdout=second)
    assert "1 overdue key issue(s) notified" in first.getvalue()
    assert "0 overdue key issue(s) notified" in second.getvalue()
    notices = Notification.objects.filter(kind=NotificationKind.KEY_OVERDUE)
    # One notice per person: supervisor_a and manager_ab (the site's supervisors and managers).
    assert sorted(n.recipient.username for n in notices) == ["manager_ab", "supervisor_a"]
    assert issue.key.label in notices[0].body and "Gina Tester" in notices[0].body
    assert notices[0].path == "/sites/ALPHA/keys/overdue/"
    issue.refresh_from_db()
    assert issue.overdue_notified_at is not None
    assert issue.history.latest().history_change_reason == "overdue keys noticed"


def test_a_key_not_yet_due_or_returned_is_not_overdue_nor_notified(personas):
    not_due = issued_at_a(personas, hours_out=1, hours_due=2)
    returned = issued_at_a(personas, hours_out=4, hours_due=2)
    keys.return_key(returned, personas.supervisor_a, reason="back in the box")
    assert not keys.overdue_issues([personas.site_a.pk]).exists()
    assert notify_overdue_keys(system_actor()) == []
    assert not Notification.objects.exists()
    assert not_due.is_open


def test_a_key_cannot_be_issued_twice_at_once(personas):
    key = key_at_a(personas)
    keys.issue_key(
        personas.site_a,
        personas.supervisor_a,
        key=key,
        holder=personas.guard_a,
        expected_return_at=_in_two_hours(),
        reason="night shift",
    )
    with pytest.raises(ValidationError) as refused:
        keys.issue_key(
            personas.site_a,
            personas.manager_ab,
            key=key,
            contractor_name="Ann Fixer",
            contractor_company="Lifts Ltd",
            expected_return_at=_in_two_hours(),
            reason="lift repair",
        )
    assert "already out, issued to Gina Tester" in refused.value.message_dict["key"][0]
    assert KeyIssue.objects.count() == 1


def test_a_set_is_issued_whole_and_its_keys_not_on_their_own(personas):
    ring = keys.add_key_set(personas.site_a, personas.manager_ab, label="Ring 3", reason="new")
    inner = keys.add_key(
        personas.site_a, personas.manager_ab, label="K-9", opens="Gate", key_set=ring, reason="r"
    )
    with pytest.raises(ValidationError, match="belongs to set Ring 3"):
        keys.issue_key(
            personas.site_a,
            personas.supervisor_a,
            key=inner,
            holder=personas.guard_a,
            expected_return_at=_in_two_hours(),
            reason="x",
        )
    issue = keys.issue_key(
        personas.site_a,
        personas.supervisor_a,
        key_set=ring,
        contractor_name=" Ann  Fixer ",
        contractor_company="Lifts Ltd",
        expected_return_at=_in_two_hours(),
        reason="lift repair",
    )
    assert issue.holder_text == "Ann Fixer (Lifts Ltd)"
    loose, sets = keys.keys_with_state(personas.site_a)
    assert loose[0].current == issue and sets[0].current == issue
    with pytest.raises(ValidationError, match="already out"):
        keys.issue_key(
            personas.site_a,
            personas.supervisor_a,
            key_set=ring,
            holder=personas.guard_a,
            expected_return_at=_in_two_hours(),
            reason="x",
        )


def test_return_records_time_and_receiver_with_the_reason(personas):
    issue = issued_at_a(personas, hours_out=1, hours_due=2)
    keys.return_key(issue, personas.manager_ab, reason="handed in at the gate")
    issue.refresh_from_db()
    assert issue.received_by == personas.manager_ab and issue.returned_at is not None
    latest = issue.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        personas.manager_ab,
        "handed in at the gate",
    )
    with pytest.raises(ValidationError, match="already returned"):
        keys.return_key(issue, personas.manager_ab, reason="again")
    # Back in the box: it can go out again.
    again = keys.issue_key(
        personas.site_a,
        personas.supervisor_a,
        key=issue.key,
        holder=personas.guard_a,
        expected_return_at=_in_two_hours(),
        reason="next shift",
    )
    assert again.pk != issue.pk


@pytest.mark.parametrize(
    "holder, error_field",
    [
        ({}, "holder"),
        ({"contractor_name": "Ann"}, "contractor_company"),
        ({"holder_name": "outsider_c"}, "holder"),
        ({"holder_name": "guard_a", "contractor_name": "Ann"}, "contractor_name"),
    ],
)
def test_issue_names_the_field_that_is_wrong_and_writes_nothing(personas, holder, error_field):
    key = key_at_a(personas)
    if "holder_name" in holder:
        holder["holder"] = personas.all_people()[holder.pop("holder_name")]
    with pytest.raises(ValidationError) as refused:
        keys.issue_key(
            personas.site_a,
            personas.supervisor_a,
            key=key,
            expected_return_at=_in_two_hours(),
            reason="x",
            **holder,
        )
    assert error_field in refused.value.message_dict
    assert not KeyIssue.objects.exists()


def test_expected_return_must_follow_the_issue(personas):
    with pytest.raises(ValidationError) as refused:
        keys.issue_key(
            personas.site_a,
            personas.supervisor_a,
            key=key_at_a(personas),
            holder=personas.guard_a,
            expected_return_at=timezone.now() - timedelta(minutes=1),
            reason="x",
        )
    assert "expected_return_at" in refused.value.message_dict


@pytest.mark.parametrize("who", ["guard_a", "auditor_a", "outsider_c"])
def test_only_supervisors_and_managers_keep_the_key_box(personas, who):
    actor = personas.all_people()[who]
    with pytest.raises(PermissionDenied):
        keys.add_key(personas.site_a, actor, label="K-2", opens="x", reason="x")
    issue = issued_at_a(personas, hours_out=1)
    with pytest.raises(PermissionDenied):
        keys.return_key(issue, actor, reason="x")


def test_duplicate_label_is_refused_by_name(personas):
    key_at_a(personas, label="K-1")
    with pytest.raises(ValidationError, match="k-1 already exists"):
        key_at_a(personas, label="k-1")


@pytest.mark.django_db(transaction=True)
def test_check_keys_queued_for_the_worker_tells_each_person_once(transactional_db, personas):
    from django.core import mail
    from django_tasks_db.models import DBTaskResult

    from facility_log.services.audit import audited_change

    personas.supervisor_a.email = "sam@example.org"
    with audited_change(personas.admin, "test: email address"):
        personas.supervisor_a.save()
    issue = issued_at_a(personas, hours_out=4, hours_due=2)
    for _ in range(2):
        call_command("check_keys", "--enqueue", stdout=StringIO())
        call_command(
            "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
        )
    results = DBTaskResult.objects.filter(task_path="facility_log.tasks.check_keys")
    assert sorted(r.return_value["notified"] for r in results) == [[], [issue.pk]]
    assert Notification.objects.filter(kind=NotificationKind.KEY_OVERDUE).count() == 2
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sam@example.org"]
    assert issue.key.label in mail.outbox[0].body
