"""A page reads the user's memberships once, and a change to a membership during the request
is seen by the checks after it (scoping.memberships_read_once)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Membership, Role
from facility_log.scoping import has_role, memberships_read_once, roles_at, site_id_list
from tests.two_factor_helpers import verified_login


def test_a_list_page_reads_the_managers_memberships_once(client, personas):
    verified_login(client, personas.manager_ab)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/access/alarms/")
    assert response.status_code == 200
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "facility_log_membership".')
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
