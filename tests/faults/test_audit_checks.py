"""/audit/ no longer re-verifies the whole ledger in the request on every POST: a check is
asked for, the task worker runs it, the page shows its progress and last result; one at a
time, and a new one only AUDIT_CHECK_INTERVAL seconds after the last."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from facility_log.models import AuditCheck, LedgerCheckpoint
from facility_log.services import audit_checks, verify

URL = reverse("audit-overview")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _worker():
    call_command("db_worker", batch=True, interval=0, startup_delay=False, reload=False)


@pytest.mark.django_db(transaction=True)
def test_a_post_queues_a_check_for_the_worker_and_the_page_shows_it(
    transactional_db, personas, client_for
):
    # Real commits and the real worker (`db_worker --batch`), as in production.
    client = client_for("auditor_a")
    response = client.post(URL, {"scope": "full"}, follow=True)
    queued = AuditCheck.objects.get()
    assert (queued.status, queued.scope, queued.requested_by) == (
        "queued",
        "full",
        personas.auditor_a,
    )
    assert not LedgerCheckpoint.objects.exists()  # nothing verified in the request
    page = response.content.decode()
    assert "Waiting for the worker" in page and "<progress" in page
    _worker()
    queued.refresh_from_db()
    assert (queued.status, queued.intact, queued.problem_count) == ("done", True, 0)
    # At least what the ledger held when asked (the check adds its own entries meanwhile).
    assert queued.entries_checked >= queued.entries_total > 0
    assert "Intact" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_asking_again_while_one_waits_shows_that_one(personas, client_for):
    client = client_for("auditor_a")
    client.post(URL)
    response = client.post(URL, follow=True)
    assert AuditCheck.objects.count() == 1
    assert any("already under way" in m for m in _messages(response))


@pytest.mark.django_db
def test_a_new_check_waits_for_the_interval(personas, client_for, settings):
    settings.AUDIT_CHECK_INTERVAL = 60
    client = client_for("manager_ab")
    client.post(URL)
    audit_checks.run_audit_check(AuditCheck.objects.get())
    response = client.post(URL, {"scope": "full"}, follow=True)
    assert AuditCheck.objects.count() == 1
    assert any("ask again in" in m for m in _messages(response)), _messages(response)
    settings.AUDIT_CHECK_INTERVAL = 0
    client.post(URL)
    assert AuditCheck.objects.count() == 2


@pytest.mark.django_db
def test_the_check_records_its_progress(personas, monkeypatch):
    monkeypatch.setattr(verify, "PROGRESS_EVERY", 5)
    asked = audit_checks.request_audit_check(personas.auditor_a, "full")
    check = audit_checks.run_audit_check(asked.check)
    steps = list(
        AuditCheck.history.filter(id=check.pk, history_change_reason="audit check progress")
        .order_by("history_id")
        .values_list("entries_checked", flat=True)
    )
    assert steps and steps == sorted(steps) and steps[0] == 5
    assert check.entries_checked >= steps[-1]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "outsider_c"])
def test_no_one_but_auditors_and_managers_asks_for_a_check(personas, client_for, who):
    assert client_for(who).post(URL).status_code == 403
    assert not AuditCheck.objects.exists()
