import html
import re

import pytest
from django.urls import reverse

from facility_log.db_guards import drop_guards, install_guards
from facility_log.models import AuditCheck, LedgerCheckpoint, Site
from facility_log.services.audit_checks import run_audit_check
from facility_log.services.ledger import ledger_head
from facility_log.services.ledger_seal import read_head_file


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("auditor_a", 200), ("manager_ab", 200), ("guard_a", 403), ("outsider_c", 403)],
)
def test_audit_page_is_for_auditors_and_managers(personas, client_for, who, status):
    response = client_for(who).get(reverse("audit-overview"))
    assert response.status_code == status
    if status == 200:
        assert ledger_head()[1] in response.content.decode()


@pytest.fixture
def check(settings, django_capture_on_commit_callbacks):
    """`check(client, scope)`: ask for a check on the page, run the task it enqueued, and
    return the page that shows its result. (The real worker runs in
    tests/faults/test_audit_checks.py: on PostgreSQL it needs a test of its own transactions.)"""
    settings.AUDIT_CHECK_INTERVAL = 0

    def run(client, scope=None):
        with django_capture_on_commit_callbacks(execute=False) as enqueued:
            asked = client.post(reverse("audit-overview"), {"scope": scope} if scope else {})
        assert asked.status_code == 302 and len(enqueued) == 1
        run_audit_check(AuditCheck.objects.get(status="queued"))
        return client.get(reverse("audit-overview"))

    return run


@pytest.mark.django_db
def test_audit_page_verifies_and_reports_tampering(personas, client_for, check):
    client = client_for("auditor_a")
    assert "Intact" in check(client).content.decode()
    from django.db import connection

    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Site.history.model._meta.db_table} SET name = 'Forged' WHERE id = %s",
            [personas.site_a.pk],
        )
    install_guards()
    # What is new since the checkpoint is intact; the old rows are re-read by a full check.
    assert "Intact" in check(client, "since").content.decode()
    html = check(client, "full").content.decode()
    assert "Broken" in html
    assert f"site #{personas.site_a.pk}" in html


@pytest.mark.django_db
def test_an_intact_check_offers_the_signed_head_and_leaves_a_checkpoint(
    personas, client_for, check
):
    client = client_for("manager_ab")
    response = check(client, "full")
    head_file = re.search(
        r'<textarea id="head-file"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    head = read_head_file(html.unescape(head_file.group(1)))
    checkpoint = LedgerCheckpoint.objects.get()
    assert (head.seq, head.hash) == (checkpoint.seq, checkpoint.hash)
    again = check(client, "since").content.decode()
    assert f"since checkpoint #{checkpoint.seq}" in again
