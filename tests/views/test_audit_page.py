import pytest
from django.urls import reverse

from facility_log.db_guards import drop_guards, install_guards
from facility_log.models import Site
from facility_log.services.ledger import ledger_head


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


@pytest.mark.django_db
def test_audit_page_verifies_and_reports_tampering(personas, client_for):
    client = client_for("auditor_a")
    assert "Intact" in client.post(reverse("audit-overview")).content.decode()
    from django.db import connection

    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Site.history.model._meta.db_table} SET name = 'Forged' WHERE id = %s",
            [personas.site_a.pk],
        )
    install_guards()
    html = client.post(reverse("audit-overview")).content.decode()
    assert "Broken" in html
    assert f"site #{personas.site_a.pk}" in html
