import pytest
from django.test import Client

from tests.personas import Personas, build_personas


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


@pytest.fixture
def client_for(personas):
    """`client_for("guard_a")` — a test client signed in as that persona."""

    def make(name: str) -> Client:
        client = Client()
        client.force_login(personas.all_people()[name])
        return client

    return make


@pytest.fixture
def api_client_for(personas):
    """`api_client_for("manager_ab")` — a DRF client authenticated with a real API token."""
    from rest_framework.test import APIClient

    from facility_log.services.accounts import issue_api_token

    def make(name: str) -> APIClient:
        user = personas.all_people()[name]
        _token, key = issue_api_token(user, personas.admin, reason="test token")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make
