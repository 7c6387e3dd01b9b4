"""/api/v1/categories/: what an incident is filed under (read-only)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Category, Role
from facility_log.services import accounts, sites
from facility_log.services import incidents as svc
from facility_log.services.prepared import with_statements

pytestmark = pytest.mark.django_db


def test_every_member_reads_the_categories_and_cannot_change_them(personas, api_client_for):
    svc.ensure_default_categories(None)
    for name in ("guard_a", "supervisor_a", "manager_ab", "auditor_a", "outsider_c"):
        client = api_client_for(name)
        body = client.get("/api/v1/categories/").json()
        assert [c["name"] for c in body][:2] == ["Trespass", "Theft"], name
        theft = body[1]
        assert client.get(f"/api/v1/categories/{theft['id']}/").json() == theft
        assert client.post("/api/v1/categories/", {"name": "X"}).status_code == 405
        assert client.patch(f"/api/v1/categories/{theft['id']}/", {"name": "X"}).status_code == 405
    assert not Category.objects.filter(name="X").exists()


def test_an_integration_account_reads_them_and_no_role_means_403(personas, api_client_for):
    system = accounts.system_actor()
    door_server = accounts.create_user(system, username="doors", password="x" * 12, reason="t")
    sites.grant_membership(
        personas.site_a, system, user=door_server, role=Role.INTEGRATION, reason="t"
    )
    nobody = accounts.create_user(system, username="nobody", password="x" * 12, reason="t")
    from rest_framework.test import APIClient

    for user, code in [(door_server, 200), (nobody, 403)]:
        client = APIClient()
        client.force_authenticate(user)
        assert client.get("/api/v1/categories/").status_code == code, user


def test_one_query_for_the_list_however_many(personas, api_client_for):
    svc.ensure_default_categories(None)
    client = api_client_for("guard_a")
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/categories/")
    listing = [q for q in queries if "facility_log_category" in with_statements(q["sql"])]
    assert len(listing) == 1
