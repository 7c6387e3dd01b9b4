"""Pages: sign-in, the home page per role, site pages, editing with a reason."""

import pytest
from django.urls import reverse

from facility_log.models import Site, Zone
from facility_log.services import sites
from tests.personas import PASSWORD


@pytest.mark.django_db
def test_every_page_needs_sign_in(personas, client):
    response = client.get(reverse("site-page", args=["ALPHA"]))
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/sites/ALPHA/"


@pytest.mark.django_db
def test_sign_in_and_out(personas, client):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    response = client.post(reverse("login"), {"username": "guard_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_says_so_and_signs_nobody_in(personas, client):
    response = client.post(reverse("login"), {"username": "guard_a", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected", "absent"),
    [
        (
            "guard_a",
            ["<h3>On shift</h3>"],
            ["<h3>Management</h3>", "<h3>Audit</h3>", "<h3>Supervision</h3>"],
        ),
        ("supervisor_a", ["<h3>Supervision</h3>"], ["<h3>Management</h3>", "<h3>Audit</h3>"]),
        ("manager_ab", ["<h3>Management</h3>", "Bravo Depot"], ["<h3>Audit</h3>", "Charlie Lab"]),
        ("auditor_a", ["<h3>Audit</h3>", "History"], ["<h3>Management</h3>", "<h3>On shift</h3>"]),
        ("outsider_c", ["Charlie Lab", "<h3>On shift</h3>"], ["Alpha Plant"]),
    ],
)
def test_home_page_differs_by_role(personas, client_for, who, expected, absent):
    html = client_for(who).get(reverse("home")).content.decode()
    for text in expected:
        assert text in html, text
    for text in absent:
        assert text not in html, text


@pytest.mark.django_db
def test_home_page_shows_local_time_with_offset(personas, client_for):
    html = client_for("guard_a").get(reverse("home")).content.decode()
    assert "(UTC+01:00)" in html or "(UTC+02:00)" in html


@pytest.mark.django_db
def test_home_query_count_does_not_grow_with_sites(personas, client_for):
    client = client_for("manager_ab")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for n in range(6):
        site = sites.create_site(personas.admin, code=f"S{n}X", name=f"Site {n}", reason="r")
        sites.grant_membership(
            site, personas.admin, user=personas.manager_ab, role="manager", reason="r"
        )
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("home")).content.decode()
    assert "Site 5" in html
    assert len(many) == len(few)


@pytest.mark.django_db
def test_guard_sees_the_site_page_without_people_or_edit(personas, client_for):
    html = client_for("guard_a").get(reverse("site-page", args=["ALPHA"])).content.decode()
    assert personas.zone_a.name in html
    assert "People and roles" not in html
    assert "Edit site" not in html


@pytest.mark.django_db
def test_guard_cannot_open_the_edit_page(personas, client_for):
    assert client_for("guard_a").get(reverse("site-edit", args=["ALPHA"])).status_code == 403


@pytest.mark.django_db
def test_manager_edits_a_site_with_a_reason(personas, client_for):
    client = client_for("manager_ab")
    url = reverse("site-edit", args=["ALPHA"])
    page = client.get(url).content.decode()
    assert '<label for="id_reason">Reason for this change</label>' in page
    response = client.post(
        url,
        {
            "name": "Alpha Works",
            "time_zone": "Europe/Berlin",
            "address": "",
            "is_active": "on",
            "reason": "new owner",
        },
    )
    assert response.status_code == 302
    row = Site.history.filter(id=personas.site_a.pk).latest()
    assert (row.name, row.history_user_name, row.history_change_reason) == (
        "Alpha Works",
        "manager_ab",
        "new owner",
    )


@pytest.mark.django_db
def test_edit_without_reason_shows_the_error_and_saves_nothing(personas, client_for):
    response = client_for("manager_ab").post(
        reverse("site-edit", args=["ALPHA"]),
        {"name": "Changed", "time_zone": "Europe/Berlin", "is_active": "on", "reason": ""},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Site.objects.get(pk=personas.site_a.pk).name == "Alpha Plant"


@pytest.mark.django_db
def test_duplicate_zone_name_is_a_form_error(personas, client_for):
    response = client_for("manager_ab").post(
        reverse("zone-add", args=["ALPHA"]),
        {"name": personas.zone_a.name, "description": "", "reason": "dup"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Zone.objects.filter(site=personas.site_a).count() == 1


@pytest.mark.django_db
def test_manager_adds_a_zone(personas, client_for):
    response = client_for("manager_ab").post(
        reverse("zone-add", args=["ALPHA"]),
        {"name": "Roof", "description": "Hatch on level 6", "reason": "new patrol point"},
    )
    assert response.status_code == 302
    zone = Zone.objects.get(site=personas.site_a, name="Roof")
    assert zone.history.get().history_change_reason == "new patrol point"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("auditor_a", 200), ("manager_ab", 200), ("guard_a", 403), ("supervisor_a", 403)],
)
def test_history_page_is_for_auditors_and_managers(personas, client_for, who, status):
    sites.update_site(personas.site_a, personas.manager_ab, name="Alpha Two", reason="rebrand")
    response = client_for(who).get(reverse("site-history", args=["ALPHA"]))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "rebrand" in html and "manager_ab" in html
        assert "Alpha Plant → Alpha Two" in html


@pytest.mark.django_db
def test_history_page_query_count_does_not_grow_with_changes(personas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("auditor_a")
    url = reverse("site-history", args=["ALPHA"])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(10):
        sites.update_site(personas.site_a, personas.manager_ab, address=f"Dock {n}", reason="r")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
