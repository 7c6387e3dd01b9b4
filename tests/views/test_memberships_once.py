"""A page reads the user's memberships once, and a change to a membership during the request
is seen by the checks after it (scoping.memberships_read_once)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Membership, Role
from facility_log.scoping import has_role, memberships_read_once, roles_at, site_id_list
from tests.sql_text import each_statement
from tests.two_factor_helpers import verified_login


def test_a_list_page_reads_the_managers_memberships_once(client, personas):
    verified_login(client, personas.manager_ab)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/access/alarms/")
    assert response.status_code == 200
    # Each statement of each query (on PostgreSQL the memberships go with the session's
    # device, in one query of two statements: facility_log/signed_in.py).
    reads = [
        statement
        for statement in each_statement(captured)
        if statement.startswith('SELECT "facility_log_membership".')
    ]
    assert len(reads) == 1, reads


def test_a_role_ended_during_a_request_is_seen_at_once(personas):
    user, site = personas.supervisor_a, personas.site_a
    with memberships_read_once():
        assert Role.SUPERVISOR in roles_at(user, site)
        membership = Membership.objects.get(user=user, site=site, role=Role.SUPERVISOR)
        membership.is_active = False
        membership.save()
        assert not has_role(user, site, {Role.SUPERVISOR})
        assert site.pk not in site_id_list(user, {Role.SUPERVISOR})


def test_outside_a_request_every_check_reads_the_database(personas):
    user, site = personas.guard_a, personas.site_a
    with CaptureQueriesContext(connection) as captured:
        roles_at(user, site)
        roles_at(user, site)
    assert len(captured.captured_queries) == 2


def test_the_read_is_compiled_once_and_gives_only_active_memberships(personas, monkeypatch):
    """The memberships read is compiled once per process (services/precompiled.py) and run
    with each user's id: the first user's rows never answer for the second, an ended role is
    left out, and a user not saved has none."""
    from django.contrib.auth import get_user_model
    from django.db.models.sql.compiler import SQLCompiler

    from facility_log.scoping import active_memberships

    manager, guard = personas.manager_ab, personas.guard_a
    active_memberships(guard)  # compiled here, if not before
    ended = Membership.objects.get(user=guard, site=personas.site_a)
    ended.is_active = False
    ended.save()
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    expected = sorted(
        Membership.objects.filter(user=manager, is_active=True).values_list("site_id", "role")
    )
    compiled.clear()  # the expected rows above were compiled the ORM's way
    assert sorted(active_memberships(manager)) == expected and len(expected) >= 2
    assert active_memberships(guard) == []
    assert active_memberships(get_user_model()(username="not-saved")) == []
    assert compiled == []
