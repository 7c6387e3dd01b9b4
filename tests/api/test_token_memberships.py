"""An API call's token and its holder's memberships are read together (one round trip on
PostgreSQL, api/authentication.py) and the memberships kept for the request only once the
token is found good: the same rows `scoping.active_memberships` reads, so every list sends
the same bytes as when they are read on their own; a revoked, unknown or deactivated
caller gets nothing kept, and the outsider still gets nothing of another site."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facility_log import scoping
from facility_log.api import authentication
from facility_log.models import Membership
from facility_log.services import read_together
from facility_log.services.accounts import issue_api_token
from tests.incident_factories import draft
from tests.sql_text import statements_of

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
PEOPLE = ["guard_a", "supervisor_a", "manager_ab", "auditor_a", "admin", "outsider_c"]
URLS = ["/api/v1/incidents/", "/api/v1/runs/", "/api/v1/shifts/", "/api/v1/sites/"]


def _apart(monkeypatch):
    """The token read alone, the memberships when first needed (the way before)."""
    monkeypatch.setattr(
        authentication,
        "_token_and_memberships",
        lambda key_hash, using="default": (
            authentication._TOKEN.first("token", using=using, key_hash=key_hash),
            None,
        ),
    )


@pytest.mark.parametrize("name", PEOPLE)
def test_the_lists_send_the_bytes_of_the_memberships_read_apart(
    personas, api_client_for, monkeypatch, name
):
    draft(personas, title="<script>alert('x')</script> & \"Ö\"")
    client = api_client_for(name)
    for url in URLS:
        together = client.get(url)
        with monkeypatch.context() as m:
            _apart(m)
            apart = client.get(url)
        assert (together.status_code, together.content) == (apart.status_code, apart.content)
    if name == "outsider_c":
        assert client.get("/api/v1/incidents/").json()["results"] == []


@pytest.mark.parametrize("name", PEOPLE)
def test_the_memberships_kept_are_those_read_on_their_own(personas, name):
    user = personas.all_people()[name]
    _token, key = issue_api_token(user, personas.admin, reason="test")
    if name == "guard_a":  # a membership no longer active is not kept
        Membership.objects.create(user=user, site=personas.site_c, role="guard", is_active=False)
    token, rows = authentication._token_and_memberships(authentication.hash_token(key))
    assert token.user == user
    if POSTGRES:
        expected = scoping._ACTIVE_MEMBERSHIPS.rows(None, user_id=user.pk)
        assert rows == [(row["site_id"], row["role"]) for row in expected]
    else:
        assert rows is None  # read when first needed


def test_a_revoked_or_unknown_token_keeps_nothing(personas, api_client_for, monkeypatch):
    user = personas.manager_ab
    token, key = issue_api_token(user, personas.admin, reason="test")
    kept = []
    monkeypatch.setattr(authentication, "remember_memberships", lambda *args: kept.append(args))
    _other, other_key = issue_api_token(user, personas.admin, reason="test")
    client = api_client_for("manager_ab")
    client.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert client.get("/api/v1/incidents/").status_code == 401
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/incidents/").status_code == 401
    user.is_active = False
    user.save(update_fields=["is_active"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {other_key}")
    assert client.get("/api/v1/incidents/").status_code == 401
    assert kept == []


def test_nothing_is_kept_outside_a_request(personas):
    scoping.remember_memberships(personas.guard_a, [(personas.site_c.pk, "manager")])
    assert scoping.site_id_list(personas.guard_a) == [personas.site_a.pk]


@pytest.mark.skipif(not POSTGRES, reason="one round trip on PostgreSQL only")
def test_a_list_reads_the_token_and_memberships_in_one_trip(personas, api_client_for):
    client = api_client_for("manager_ab")
    for url, most in (("/api/v1/incidents/", 2), ("/api/v1/runs/", 2), ("/api/v1/shifts/", 2)):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        statements = statements_of(captured)
        assert len(statements) <= most, statements
        assert not any("facility_log_membership" in s for s in statements[1:]), statements
    assert read_together.one_trip()
