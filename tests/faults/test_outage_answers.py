"""What a request gets when the database is away, on either database: a 503 with Retry-After
(JSON under /api/, a plain "try again" page elsewhere), from the view or from the 500 handler
when the failure happened outside the view. Real errors from a database that is not there,
not imitations. The whole outage under load is tests/faults/test_database_outage.py."""

import json

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.db.utils import ConnectionHandler
from django.test import RequestFactory

from facility_log.outage import DatabaseOutageMiddleware, is_outage
from facility_log.views.errors import server_error


@pytest.fixture
def outage_error(django_db_blocker) -> OperationalError:
    with django_db_blocker.unblock():
        return _error_from_a_database_that_is_not_there()


def _error_from_a_database_that_is_not_there() -> OperationalError:
    settings = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        settings.update(PORT="5449", OPTIONS={"connect_timeout": 2})  # nothing listens there
    else:
        settings.update(NAME="/nonexistent-folder/db.sqlite3", TEST={})
    away = ConnectionHandler({"default": settings})["default"]
    with pytest.raises(OperationalError) as raised:
        away.ensure_connection()
    return raised.value


def _middleware():
    return DatabaseOutageMiddleware(lambda request: None)


def test_an_api_request_gets_503_json_with_retry_after(settings, outage_error):
    settings.DATABASE_RETRY_AFTER = 7
    error = outage_error
    request = RequestFactory().post("/api/v1/incidents/")
    response = _middleware().process_exception(request, error)
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    assert "Send the same request again" in body["detail"]
    assert body["retry_after"] == 7


def test_a_page_gets_a_plain_try_again_page(outage_error):
    error = outage_error
    response = _middleware().process_exception(RequestFactory().get("/incidents/"), error)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "Try again in a moment" in response.content.decode()
    assert response["Retry-After"].isdigit()


def test_an_outage_outside_the_view_reaches_the_500_handler_as_a_503(outage_error):
    request = RequestFactory().get("/api/v1/me/")
    try:
        raise outage_error
    except OperationalError:
        response = server_error(request)  # as Django calls it: while handling the error
    assert response.status_code == 503 and response["Retry-After"].isdigit()


def test_a_bug_is_still_a_500_not_a_try_again():
    assert not is_outage(ProgrammingError("syntax error"))
    assert not is_outage(ValueError("bad"))
    request = RequestFactory().get("/api/v1/me/")
    assert _middleware().process_exception(request, ProgrammingError("x")) is None
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500
    if connection.vendor == "sqlite":
        # SQLite reports some programming errors as OperationalError too.
        assert not is_outage(OperationalError("no such table: facility_log_nothing"))
