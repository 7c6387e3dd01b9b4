"""/api/v1/sites/, zones/ and memberships/: personas, history, errors, query counts."""

import pytest

from facility_log.models import Membership, Site, Zone
from facility_log.services import sites


@pytest.mark.django_db
def test_changing_a_site_through_the_api_leaves_history(personas, api_client_for):
    response = api_client_for("manager_ab").patch(
        f"/api/v1/sites/{personas.site_a.code}/",
        {"name": "Alpha Campus", "reason": "new signage"},
        format="json",
        HTTP_X_REQUEST_ID="integration-req-0001",
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Alpha Campus"
    row = Site.history.filter(id=personas.site_a.pk).latest()
    assert (row.name, row.history_user_name, row.history_change_reason) == (
        "Alpha Campus",
        "manager_ab",
        "new signage",
    )
    assert row.history_request_id == "integration-req-0001"
    assert response["X-Request-ID"] == "integration-req-0001"


@pytest.mark.django_db
def test_a_change_without_reason_names_the_field(personas, api_client_for):
    response = api_client_for("manager_ab").patch(
        f"/api/v1/sites/{personas.site_a.code}/", {"name": "X"}, format="json"
    )
    assert response.status_code == 422
    assert "reason" in response.json()
    assert Site.objects.get(pk=personas.site_a.pk).name == "Alpha Plant"


@pytest.mark.django_db
def test_a_bad_time_zone_names_the_field(personas, api_client_for):
    response = api_client_for("manager_ab").patch(
        f"/api/v1/sites/{personas.site_a.code}/",
        {"time_zone": "Europe/Atlantis", "reason": "typo"},
        format="json",
    )
    assert response.status_code == 422
    assert "time_zone" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "auditor_a"])
def test_members_read_their_site_but_cannot_change_it(personas, api_client_for, who):
    client = api_client_for(who)
    assert client.get(f"/api/v1/sites/{personas.site_a.code}/").status_code == 200
    response = client.patch(
        f"/api/v1/sites/{personas.site_a.code}/", {"name": "Mine", "reason": "r"}, format="json"
    )
    assert response.status_code == 403
    assert Site.objects.get(pk=personas.site_a.pk).name == "Alpha Plant"


@pytest.mark.django_db
def test_only_a_superuser_creates_a_site(personas, api_client_for):
    payload = {"code": "DELTA", "name": "Delta", "time_zone": "UTC", "reason": "expansion"}
    assert api_client_for("manager_ab").post("/api/v1/sites/", payload).status_code == 403
    response = api_client_for("admin").post("/api/v1/sites/", payload)
    assert response.status_code == 201, response.content
    assert Site.objects.get(code="DELTA").history.get().history_change_reason == "expansion"


@pytest.mark.django_db
def test_manager_adds_a_zone_only_at_a_managed_site(personas, api_client_for):
    client = api_client_for("manager_ab")
    ok = client.post("/api/v1/zones/", {"site": "BRAVO", "name": "Yard", "reason": "new yard"})
    assert ok.status_code == 201, ok.content
    refused = client.post("/api/v1/zones/", {"site": "CHARLIE", "name": "Yard", "reason": "x"})
    assert refused.status_code == 422
    assert "site" in refused.json()
    assert not Zone.objects.filter(site=personas.site_c, name="Yard").exists()


@pytest.mark.django_db
def test_guard_cannot_add_zones(personas, api_client_for):
    response = api_client_for("guard_a").post(
        "/api/v1/zones/", {"site": "ALPHA", "name": "Shed", "reason": "x"}
    )
    assert response.status_code == 422
    assert not Zone.objects.filter(name="Shed").exists()


@pytest.mark.django_db
def test_memberships_are_for_managers_only(personas, api_client_for):
    assert api_client_for("guard_a").get("/api/v1/memberships/").json()["count"] == 0
    listed = api_client_for("manager_ab").get("/api/v1/memberships/").json()
    assert {m["site"] for m in listed["results"]} == {"ALPHA", "BRAVO"}


@pytest.mark.django_db
def test_manager_grants_and_ends_a_membership(personas, api_client_for):
    client = api_client_for("manager_ab")
    created = client.post(
        "/api/v1/memberships/",
        {"site": "BRAVO", "user": "guard_a", "role": "guard", "reason": "covering nights"},
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.post(f"/api/v1/memberships/{pk}/end/", {}).status_code == 400
    ended = client.post(f"/api/v1/memberships/{pk}/end/", {"reason": "cover finished"})
    assert ended.status_code == 200
    assert ended.json()["is_active"] is False
    assert Membership.history.filter(id=pk).latest().history_change_reason == "cover finished"


@pytest.mark.django_db
def test_an_unknown_role_names_the_field(personas, api_client_for):
    response = api_client_for("manager_ab").post(
        "/api/v1/memberships/",
        {"site": "ALPHA", "user": "guard_a", "role": "overlord", "reason": "r"},
    )
    assert response.status_code == 400
    assert "role" in response.json()


@pytest.mark.django_db
def test_zone_list_query_count_does_not_grow_with_rows(personas, api_client_for):
    client = api_client_for("manager_ab")

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/zones/").status_code == 200
        return len(captured)

    few = count_queries()
    for n in range(20):
        sites.create_zone(personas.site_a, personas.manager_ab, name=f"Bay {n}", reason="r")
    assert count_queries() == few


@pytest.mark.django_db
def test_me_lists_my_roles(personas, api_client_for):
    body = api_client_for("manager_ab").get("/api/v1/me/").json()
    assert body["username"] == "manager_ab"
    assert {(m["site"], m["role"]) for m in body["memberships"]} == {
        ("ALPHA", "manager"),
        ("BRAVO", "manager"),
    }


@pytest.mark.django_db
def test_zone_update_without_reason_names_the_field(personas, api_client_for):
    response = api_client_for("manager_ab").patch(
        f"/api/v1/zones/{personas.zone_a.pk}/", {"description": "x"}, format="json"
    )
    assert response.status_code == 422
    assert response.json() == {"reason": ["This field is required."]}


@pytest.mark.django_db
def test_me_sends_what_the_orm_read_of_the_memberships_sends(personas, api_client_for):
    """`me` reads the memberships by a query compiled once: the same memberships, in the
    same order, as the ORM's read (an inactive one left out), and the outsider only its own."""
    from facility_log.models import Membership, Role

    user = personas.manager_ab
    Membership.objects.create(user=user, site=personas.site_c, role=Role.AUDITOR, is_active=False)
    Membership.objects.create(user=user, site=personas.site_a, role=Role.AUDITOR)
    for name in ("manager_ab", "outsider_c", "guard_a"):
        person = personas.all_people()[name]
        body = api_client_for(name).get("/api/v1/me/").json()
        orm = Membership.objects.filter(user=person, is_active=True).select_related("site")
        assert body["memberships"] == [
            {"site": m.site.code, "site_name": m.site.name, "role": m.role} for m in orm
        ]
    mine = api_client_for("manager_ab").get("/api/v1/me/").json()["memberships"]
    assert [(m["site"], m["role"]) for m in mine] == [
        ("ALPHA", "auditor"),
        ("ALPHA", "manager"),
        ("BRAVO", "manager"),
    ]
    outsider = api_client_for("outsider_c").get("/api/v1/me/").json()["memberships"]
    assert {m["site"] for m in outsider} == {"CHARLIE"}
