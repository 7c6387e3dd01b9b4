"""Sessions in the shared Redis cache (CACHE_URL=redis://…; facility_log/sessions.py): read
from it instead of the database, and a sign-out ends the session for every process at once.
Never with a per-process cache (docs/performance.md)."""

import socket
import uuid

import pytest
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from facility_log.sessions import SessionStore
from tests.test_settings_servers import _shell
from tests.two_factor_helpers import verified_login

REDIS = ("127.0.0.1", 6379)


def _redis_reachable() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


def _redis_cache(location: str) -> dict:
    backend = "django.core.cache.backends.redis.RedisCache"
    return {"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": uuid.uuid4().hex}}


@pytest.mark.parametrize(
    ("cache_url", "engine"),
    [
        ("redis://127.0.0.1:6379/0", "facility_log.sessions"),
        ("locmem", "django.contrib.sessions.backends.db"),
        ("db", "django.contrib.sessions.backends.db"),
        ("", "django.contrib.sessions.backends.db"),
    ],
)
def test_sessions_use_the_cache_only_when_it_is_redis(cache_url, engine):
    result = _shell(
        "from django.conf import settings; print(settings.SESSION_ENGINE)",
        **({"CACHE_URL": cache_url} if cache_url else {}),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == engine


@pytest.fixture
def redis_sessions():
    if not _redis_reachable():
        pytest.skip("no Redis on 127.0.0.1:6379")
    with override_settings(
        CACHES=_redis_cache(f"redis://{REDIS[0]}:{REDIS[1]}/0"),
        SESSION_ENGINE="facility_log.sessions",
    ):
        yield


def test_a_signed_in_request_reads_its_session_from_the_cache(personas, redis_sessions):
    client = verified_login(Client(), personas.manager_ab)
    assert client.get("/notifications/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/notifications/").status_code == 200
    assert not [q for q in captured.captured_queries if "django_session" in q["sql"]]


def test_a_sign_out_in_one_worker_ends_the_session_in_every_other(personas, redis_sessions):
    browser = verified_login(Client(), personas.manager_ab)
    cookie = browser.cookies["sessionid"].value
    other_worker = Client()
    other_worker.cookies["sessionid"] = cookie
    assert other_worker.get("/notifications/").status_code == 200  # now in the cache
    assert browser.post("/logout/").status_code == 302
    response = other_worker.get("/notifications/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SessionStore().exists(cookie)
    assert not Session.objects.filter(session_key=cookie).exists()


def test_a_sign_out_that_cannot_reach_the_cache_leaves_no_half_deleted_session(db):
    """Deleting from the database first would leave the cached copy to sign the browser in
    again once the cache is back; the cache goes first, so the failure leaves both."""
    kept = DatabaseSessionStore()
    kept["who"] = "guard"
    kept.create()
    with override_settings(CACHES=_redis_cache("redis://127.0.0.1:1/0")):
        store = SessionStore(kept.session_key)
        with pytest.raises(Exception, match="(?i)connect"):
            store.delete()
    assert Session.objects.filter(session_key=kept.session_key).exists()
