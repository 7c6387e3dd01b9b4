"""Token authentication, and the OpenAPI schema and docs served with no CDN."""

import re

import pytest

from facility_log.services import accounts
from tests.two_factor_helpers import verified_login


@pytest.mark.django_db
def test_a_revoked_token_is_refused(personas):
    from rest_framework.test import APIClient

    token, key = accounts.issue_api_token(personas.guard_a, personas.admin, reason="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/sites/").status_code == 200
    accounts.revoke_api_token(token, personas.admin, reason="tablet lost")
    assert client.get("/api/v1/sites/").status_code == 401


@pytest.mark.django_db
def test_a_made_up_token_is_refused(personas):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/sites/")
    assert response.status_code == 401


@pytest.mark.django_db
def test_session_writes_need_csrf(personas):
    from django.test import Client

    client = verified_login(Client(enforce_csrf_checks=True), personas.manager_ab)
    response = client.patch(
        f"/api/v1/sites/{personas.site_a.code}/",
        '{"name": "x", "reason": "r"}',
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_schema_describes_the_api(personas, client_for):
    response = client_for("guard_a").get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/sites/", "/api/v1/zones/", "/api/v1/memberships/{id}/end/"):
        assert path in schema["paths"], path
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_docs_load_only_from_this_server(personas, client_for):
    response = client_for("guard_a").get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    external = [
        url
        for url in re.findall(r"""(?:src|href)=["']([^"']+)""", html)
        if url.startswith(("http:", "https:", "//"))
    ]
    assert not external, external
    assert "swagger-ui" in html


@pytest.mark.django_db
def test_unknown_api_paths_answer_json_not_html(personas, api_client_for):
    response = api_client_for("guard_a").get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/sites/?name=%00", None),
        ("post", "/api/v1/zones/", '{"site": "ALPHA", "name": "a\\u0000b", "reason": "r"}'),
    ],
)
def test_nul_characters_are_refused_before_they_reach_the_database(
    personas, api_client_for, method, url, body
):
    client = api_client_for("manager_ab")
    response = getattr(client, method)(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.django_db
def test_huge_paging_values_are_clamped_not_a_server_error(personas, api_client_for):
    client = api_client_for("manager_ab")
    response = client.get("/api/v1/zones/?limit=9223372036854775807&offset=99999999999999")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["limit=4526471175369548890112", "limit=0", "limit=abc", "offset=-1", "offset=1.5"]
)
def test_paging_values_outside_the_schema_are_refused_naming_them(personas, api_client_for, query):
    response = api_client_for("manager_ab").get(f"/api/v1/zones/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.django_db
def test_writes_read_json_only(personas, api_client_for):
    response = api_client_for("manager_ab").post(
        "/api/v1/zones/", {"site": "ALPHA", "name": "Z", "reason": "r"}, format="multipart"
    )
    assert response.status_code == 415
