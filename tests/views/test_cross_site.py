"""The outsider at site C gets nothing of site A, on any page or endpoint."""

import pytest
from django.urls import reverse

from facility_log.models import HistoricalUser, Membership, RecordView, Site, Zone
from tests.cross_site import (
    AUDIT_LIST_URLS,
    LIST_URLS,
    MANAGER_LIST_URLS,
    NOT_SITE_DATA,
    SITE_A_OBJECT_URLS,
    project_url_names,
    seed_site_a_records,
    site_a_secrets,
)


def test_every_url_is_classified_for_the_cross_site_check():
    classified = (
        set(SITE_A_OBJECT_URLS) | LIST_URLS | AUDIT_LIST_URLS | MANAGER_LIST_URLS | NOT_SITE_DATA
    )
    unclassified = project_url_names() - classified
    assert not unclassified, f"add these URLs to tests/cross_site.py: {sorted(unclassified)}"


def _history_rows() -> int:
    """History rows of the records the outsider's requests name, and view-log rows: a refused
    read is not logged as a read."""
    history = sum(m.history.count() for m in (Site, Zone, Membership))
    return history + HistoricalUser.objects.count() + RecordView.objects.count()


def _outsider(name, client_for, api_client_for):
    """Pages are visited with a signed-in session, API endpoints with the outsider's token."""
    return api_client_for("outsider_c") if name.startswith("api-") else client_for("outsider_c")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SITE_A_OBJECT_URLS))
def test_outsider_gets_404_or_403_for_site_a_records(name, personas, client_for, api_client_for):
    url = reverse(name, kwargs=SITE_A_OBJECT_URLS[name](personas))
    client = _outsider(name, client_for, api_client_for)
    before = _history_rows()
    for method in ("get", "post", "patch"):
        response = getattr(client, method)(url, {"reason": "x", "name": "Hijacked"})
        assert response.status_code in (403, 404, 405), (method, url, response.status_code)
        body = response.content.decode()
        for secret in site_a_secrets(personas):
            assert secret not in body, (method, url, secret)
    assert _history_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LIST_URLS))
def test_outsider_lists_show_nothing_of_sites_a_and_b(name, personas, client_for, api_client_for):
    seed_site_a_records(personas)
    url = reverse(name)
    response = _outsider(name, client_for, api_client_for).get(url)
    assert response.status_code == 200
    body = response.getvalue().decode()
    for secret in site_a_secrets(personas):
        assert secret not in body, (url, secret)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(LIST_URLS))
def test_lists_do_show_site_a_to_its_manager(name, personas, client_for, api_client_for):
    """The other half of the check: the same lists are not empty for everyone."""
    seed_site_a_records(personas)
    client = (
        client_for("manager_ab") if not name.startswith("api-") else api_client_for("manager_ab")
    )
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert personas.site_a.code in response.getvalue().decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(AUDIT_LIST_URLS))
def test_audit_lists_refuse_the_outsider_and_show_the_audited_sites(name, personas, client_for):
    from facility_log.services.view_log import incident_read
    from tests.incident_factories import draft

    seed_site_a_records(personas)
    incident_read(personas.manager_ab, draft(personas), "page")
    response = client_for("outsider_c").get(reverse(name))
    assert response.status_code == 403
    for secret in site_a_secrets(personas):
        assert secret not in response.content.decode(), secret
    assert personas.site_a.code in client_for("auditor_a").get(reverse(name)).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MANAGER_LIST_URLS))
def test_manager_lists_refuse_the_outsider_and_open_to_the_manager(name, personas, client_for):
    seed_site_a_records(personas)
    response = client_for("outsider_c").get(reverse(name))
    assert response.status_code == 403
    for secret in site_a_secrets(personas):
        assert secret not in response.content.decode(), secret
    assert client_for("manager_ab").get(reverse(name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    sorted(SITE_A_OBJECT_URLS | dict.fromkeys(LIST_URLS | AUDIT_LIST_URLS | MANAGER_LIST_URLS)),
)
def test_anonymous_gets_nothing(name, personas, client):
    kwargs = SITE_A_OBJECT_URLS[name](personas) if name in SITE_A_OBJECT_URLS else {}
    response = client.get(reverse(name, kwargs=kwargs))
    if name.startswith("api-"):
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
