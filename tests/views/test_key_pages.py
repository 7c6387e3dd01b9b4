"""Key control pages: a supervisor adds a key, issues it, sees it out and overdue, and takes it
back after a confirmation; guards, auditors and the outsider reach none of it; the lists cost
the same number of queries for two keys or twenty."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Key, KeyIssue
from facility_log.services import keys
from tests.onsite.keys_helpers import issued_at_a, key_at_a, site_a_key_issue

pytestmark = pytest.mark.django_db


def _local(dt, site) -> str:
    return dt.astimezone(site.tzinfo).strftime("%Y-%m-%dT%H:%M")


def test_a_supervisor_adds_issues_and_takes_back_a_key(personas, client_for):
    client = client_for("supervisor_a")
    response = client.post(
        reverse("key-add", args=["ALPHA"]),
        {"label": "K-7", "opens": "Plant room", "key_set": "", "reason": "new lock"},
    )
    assert response.status_code == 302
    key = Key.objects.get(label="K-7")
    due = timezone.now() + timedelta(hours=3)
    form = client.get(reverse("key-issue", args=["ALPHA"]) + f"?item=key-{key.pk}")
    assert f'value="key-{key.pk}" selected' in form.content.decode()
    response = client.post(
        reverse("key-issue", args=["ALPHA"]),
        {
            "item": f"key-{key.pk}",
            "holder": "",
            "contractor_name": "Ann Fixer",
            "contractor_company": "Lifts Ltd",
            "expected_return_at": _local(due, personas.site_a),
            "reason": "lift repair",
        },
    )
    assert response.status_code == 302, response.content.decode()
    issue = KeyIssue.objects.get()
    # Typed in the site's time (Europe/Berlin), stored in UTC: the same minute.
    assert abs(issue.expected_return_at - due) < timedelta(minutes=1)
    page = client.get(reverse("keys", args=["ALPHA"])).content.decode()
    assert "Ann Fixer (Lifts Ltd)" in page and "Take back" in page
    confirm = client.get(reverse("key-return", args=["ALPHA", issue.pk]))
    assert "Confirm: it is back" in confirm.content.decode()
    issue.refresh_from_db()
    assert issue.returned_at is None  # the confirmation page changes nothing
    response = client.post(reverse("key-return", args=["ALPHA", issue.pk]), {"reason": "handed in"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.received_by == personas.supervisor_a
    assert issue.history.latest().history_change_reason == "handed in"


def test_issuing_a_key_already_out_names_the_holder_and_writes_nothing(personas, client_for):
    issue = issued_at_a(personas, hours_out=1)
    client = client_for("manager_ab")
    html = client.post(
        reverse("key-issue", args=["ALPHA"]),
        {
            "item": f"key-{issue.key_id}",
            "holder": personas.supervisor_a.pk,
            "expected_return_at": _local(timezone.now() + timedelta(hours=1), personas.site_a),
            "reason": "x",
        },
    ).content.decode()
    assert "already out, issued to Gina Tester" in html
    assert KeyIssue.objects.count() == 1


def test_the_issue_form_offers_only_the_site_staff(personas, client_for):
    html = client_for("supervisor_a").get(reverse("key-issue", args=["ALPHA"])).content.decode()
    assert "Gina Tester" in html and "Oscar Tester" not in html


def test_overdue_keys_are_listed_and_counted_on_the_work_queue(personas, client_for):
    overdue = issued_at_a(personas, hours_out=4, hours_due=2)
    issued_at_a(personas, hours_out=1, hours_due=2)
    client = client_for("supervisor_a")
    page = client.get(reverse("keys-overdue", args=["ALPHA"])).content.decode()
    assert overdue.key.label in page
    assert page.count("Take back") == 1
    home = client.get(reverse("home")).content.decode()
    assert reverse("keys-overdue", args=["ALPHA"]) in home
    assert "1</strong> key overdue" in home


@pytest.mark.parametrize("who", ["guard_a", "auditor_a", "outsider_c"])
def test_only_the_site_supervisors_and_managers_reach_the_key_box(personas, client_for, who):
    issue = site_a_key_issue(personas)
    client = client_for(who)
    for name, args in [
        ("keys", ["ALPHA"]),
        ("keys-overdue", ["ALPHA"]),
        ("key-add", ["ALPHA"]),
        ("key-set-add", ["ALPHA"]),
        ("key-issue", ["ALPHA"]),
        ("key-return", ["ALPHA", issue.pk]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code in (403, 404), name
        assert "Alpha Contractor" not in response.content.decode()
    response = client.post(reverse("key-return", args=["ALPHA", issue.pk]), {"reason": "x"})
    assert response.status_code in (403, 404)
    issue.refresh_from_db()
    assert issue.returned_at is None


def test_an_issue_of_another_site_is_not_returned_through_this_site(personas, client_for):
    issue = site_a_key_issue(personas)
    response = client_for("manager_ab").get(reverse("key-return", args=["BRAVO", issue.pk]))
    assert response.status_code == 404


def _fill(personas, n: int, start: int) -> None:
    for i in range(start, start + n):
        key = key_at_a(personas, label=f"Q-{i}")
        keys.issue_key(
            personas.site_a,
            personas.supervisor_a,
            key=key,
            holder=personas.guard_a,
            issued_at=timezone.now() - timedelta(hours=5),
            expected_return_at=timezone.now() - timedelta(hours=1),
            reason="q",
        )
        keys.add_key_set(personas.site_a, personas.supervisor_a, label=f"S-{i}", reason="q")


@pytest.mark.parametrize("name", ["keys", "keys-overdue"])
def test_key_lists_cost_the_same_for_two_keys_or_twenty(personas, client_for, name):
    client = client_for("supervisor_a")
    url = reverse(name, args=["ALPHA"])
    _fill(personas, 2, 0)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _fill(personas, 18, 2)
    with CaptureQueriesContext(connection) as large:
        page = client.get(url)
    assert page.status_code == 200 and "Q-19" in page.content.decode()
    assert len(large) == len(small)
