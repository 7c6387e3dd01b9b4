"""Key control over the API: issue (201), the same key again (409 naming the holder), a key of
another site or a stranger as holder (422 naming the field), return (200, then 409); guards and
the outsider see nothing; the lists cost the same for few or many issues."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log.models import KeyIssue
from facility_log.services import keys
from tests.onsite.keys_helpers import issued_at_a, key_at_a, site_a_key_issue

pytestmark = pytest.mark.django_db
ISSUES = "/api/v1/key-issues/"


def _due() -> str:
    return (timezone.now() + timedelta(hours=2)).isoformat()


def test_issue_then_again_then_return(personas, api_client_for):
    key = key_at_a(personas)
    client = api_client_for("supervisor_a")
    body = {
        "site": "ALPHA",
        "key": key.pk,
        "holder": "guard_a",
        "expected_return_at": _due(),
        "reason": "night shift",
    }
    answer = client.post(ISSUES, body, format="json")
    assert answer.status_code == 201, answer.content
    assert (answer.json()["holder"], answer.json()["label"]) == ("guard_a", "K-1")
    again = client.post(
        ISSUES,
        {**body, "holder": None, "contractor_name": "Ann", "contractor_company": "Lifts"},
        format="json",
    )
    assert again.status_code == 409
    assert "already out, issued to Gina Tester" in again.json()["key"][0]
    issue_id = answer.json()["id"]
    listed = client.get("/api/v1/keys/?site=ALPHA").json()["results"]
    assert listed[0]["current_issue"] == issue_id
    back = client.post(f"{ISSUES}{issue_id}/return/", {"reason": "handed in"}, format="json")
    assert back.status_code == 200 and back.json()["received_by"] == "supervisor_a"
    twice = client.post(f"{ISSUES}{issue_id}/return/", {"reason": "again"}, format="json")
    assert twice.status_code == 409 and "already returned" in twice.json()["state"][0]
    assert KeyIssue.objects.count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"holder": "outsider_c"}, "holder"),
        ({"site": "CHARLIE"}, "site"),
        ({"key": 0}, "key"),
        ({"expected_return_at": "2020-01-01T00:00:00Z"}, "expected_return_at"),
    ],
)
def test_refused_content_is_a_422_naming_the_field(personas, api_client_for, change, field):
    key = key_at_a(personas)
    body = {
        "site": "ALPHA",
        "key": key.pk,
        "holder": "guard_a",
        "expected_return_at": _due(),
        "reason": "x",
        **change,
    }
    answer = api_client_for("manager_ab").post(ISSUES, body, format="json")
    assert answer.status_code == 422, answer.content
    assert field in answer.json()
    assert not KeyIssue.objects.exists()


def test_an_unknown_field_is_a_400(personas, api_client_for):
    key = key_at_a(personas)
    answer = api_client_for("manager_ab").post(
        ISSUES,
        {
            "site": "ALPHA",
            "key": key.pk,
            "holder": "guard_a",
            "expected_return_at": _due(),
            "reason": "x",
            "phone": "123",
        },
        format="json",
    )
    assert answer.status_code == 400 and "phone" in answer.json()


@pytest.mark.parametrize("who", ["guard_a", "outsider_c"])
def test_guards_and_the_outsider_see_and_do_nothing(personas, api_client_for, who):
    issue = site_a_key_issue(personas)
    client = api_client_for(who)
    for url in ("/api/v1/keys/", "/api/v1/key-sets/", ISSUES):
        listed = client.get(url)
        assert listed.status_code == 200 and listed.json()["results"] == []
    assert client.get(f"{ISSUES}{issue.pk}/").status_code == 404
    answer = client.post(f"{ISSUES}{issue.pk}/return/", {"reason": "x"}, format="json")
    assert answer.status_code == 404
    free = key_at_a(personas, label="K-FREE")
    answer = client.post(
        ISSUES,
        {
            "site": "ALPHA",
            "key": free.pk,
            "holder": "guard_a",
            "expected_return_at": _due(),
            "reason": "x",
        },
        format="json",
    )
    assert answer.status_code == (403 if who == "guard_a" else 422)
    assert "Alpha Contractor" not in answer.content.decode()
    assert KeyIssue.objects.count() == 1


def test_overdue_filter(personas, api_client_for):
    overdue = issued_at_a(personas, hours_out=4, hours_due=2)
    issued_at_a(personas, hours_out=1, hours_due=2)
    client = api_client_for("manager_ab")
    results = client.get(f"{ISSUES}?overdue=true").json()["results"]
    assert [r["id"] for r in results] == [overdue.pk] and results[0]["overdue"] is True
    assert len(client.get(f"{ISSUES}?open=true").json()["results"]) == 2


def _fill(personas, start: int, n: int) -> None:
    ring = keys.add_key_set(personas.site_a, personas.manager_ab, label=f"R-{start}", reason="q")
    for i in range(start, start + n):
        keys.add_key(
            personas.site_a,
            personas.manager_ab,
            label=f"Q-{i}",
            opens="x",
            key_set=ring if i % 2 else None,
            reason="q",
        )
        issued_at_a(personas, hours_out=3)


@pytest.mark.parametrize("url", ["/api/v1/keys/", "/api/v1/key-sets/", ISSUES])
def test_key_lists_cost_the_same_for_few_or_many(personas, api_client_for, url):
    client = api_client_for("manager_ab")
    _fill(personas, 0, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _fill(personas, 2, 12)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
