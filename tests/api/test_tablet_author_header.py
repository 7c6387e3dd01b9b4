"""A tablet's outbox names the account each record was made under; the API refuses to store
it under anyone else's session."""

import uuid

import pytest

pytestmark = pytest.mark.django_db


def _start_shift(client, personas, made_by: str | None):
    headers = {"X-Facility-Log-User": made_by} if made_by else {}
    return client.post(
        "/api/v1/shifts/",
        {"site": personas.site_a.code, "client_uuid": str(uuid.uuid4())},
        format="json",
        headers=headers,
    )


def test_a_record_made_by_another_account_is_refused_and_not_stored(personas, api_client_for):
    from facility_log.models import Shift

    response = _start_shift(api_client_for("supervisor_a"), personas, made_by="guard_a")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Signed in as supervisor_a, but this record was made by guard_a: it is sent when "
        "guard_a signs in on this tablet."
    )
    assert not Shift.objects.exists()


def test_the_authors_own_session_and_requests_without_the_header_pass(personas, api_client_for):
    assert _start_shift(api_client_for("guard_a"), personas, made_by="guard_a").status_code == 201
    assert _start_shift(api_client_for("supervisor_a"), personas, made_by=None).status_code == 201
