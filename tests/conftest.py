import pytest
from django.db import connection
from django.test import Client

from facility_log.db_guards import drop_guards, install_guards
from tests.object_storage import s3, s3_server  # noqa: F401 (fixtures: S3 on moto's server)
from tests.personas import Personas, build_personas
from tests.two_factor_helpers import verified_login


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


@pytest.fixture
def client_for(personas):
    """`client_for("guard_a")` — a test client signed in as that persona, past the second
    step for those who need it (tests/two_factor_helpers.py)."""

    def make(name: str) -> Client:
        return verified_login(Client(), personas.all_people()[name])

    return make


@pytest.fixture
def api_client_for(personas):
    """`api_client_for("manager_ab")` — a DRF client authenticated with a real API token."""
    from django.utils import timezone
    from rest_framework.test import APIClient

    from facility_log.services.accounts import issue_api_token

    def make(name: str) -> APIClient:
        user = personas.all_people()[name]
        token, key = issue_api_token(user, personas.admin, reason="test token")
        # As a token in service: recently used, so the once-a-minute last-used stamp does not
        # land in the first request a query-count test measures.
        token.mark_used(timezone.now())
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


_guards = {"dropped": False}


@pytest.fixture
def transactional_db(transactional_db):
    """pytest-django's transactional_db, able to empty the append-only tables afterwards.

    SQLite empties tables with DELETE, which the ledger/history triggers refuse; the triggers
    are lifted just for that flush and put back before the next test (PostgreSQL uses
    TRUNCATE, which the row triggers do not see)."""
    yield transactional_db
    if connection.vendor == "sqlite":
        drop_guards()
        _guards["dropped"] = True


@pytest.fixture(autouse=True)
def _append_only_guards_in_place(django_db_blocker):
    if _guards["dropped"]:
        with django_db_blocker.unblock():
            install_guards()
        _guards["dropped"] = False


@pytest.fixture(autouse=True)
def _media_of_its_own(settings, tmp_path_factory):
    """Each test stores files in a folder of its own: a test's rows are rolled back at its
    end, its files are not, and `verify_audit` reports files no record owns."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _language_of_its_own():
    """Each test starts and ends in the default language: a test that switches to German (a
    page in German, `translation.activate`) must not leave the next test's messages German."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
