"""The session store (facility_log/sessions.py) reads what Django's database store reads, with
its query compiled once per process: a live session's data, nothing for an expired or unknown
key (and such a key is never adopted), and every write left to Django's store. The device a
session was verified with is read with its user by a query compiled once per device class
(facility_log/signed_in.py): a recovery code's session as much as an authenticator's."""

from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from facility_log.sessions import SessionStore
from tests.sql_text import statements_of
from tests.two_factor_helpers import verified_login


def _django_session(data: dict, expires_in: timedelta = timedelta(hours=1)) -> str:
    store = DjangoStore()
    store.update(data)
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


def test_it_reads_the_data_django_s_own_store_wrote(db):
    key = _django_session({"shift": "night", "zones": [1, 2], "note": "Tür <3> & 'Tor'"})
    store = SessionStore(key)
    assert (
        store.load()
        == DjangoStore(key).load()
        == {
            "shift": "night",
            "zones": [1, 2],
            "note": "Tür <3> & 'Tor'",
        }
    )
    assert store.session_key == key


def test_an_expired_session_is_empty_and_its_key_is_never_reused(db):
    key = _django_session({"user": "x"}, expires_in=timedelta(seconds=-1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None
    store["fresh"] = True
    store.save()
    assert store.session_key not in (None, key)
    assert DjangoStore(key).load() == {}


def test_an_unknown_key_is_not_adopted(db):
    chosen = "attackerchosenkey0123456789abcdef"
    store = SessionStore(chosen)
    assert store.load() == {}
    store["fresh"] = True
    store.save()
    assert store.session_key != chosen
    assert not Session.objects.filter(session_key=chosen).exists()


def test_the_read_is_compiled_once_and_run_with_each_key(db, monkeypatch):
    first = _django_session({"n": 1})
    second = _django_session({"n": 2})
    assert SessionStore(first).load() == {"n": 1}  # compiled here, if not before
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    with CaptureQueriesContext(connection) as captured:
        assert SessionStore(second).load() == {"n": 2}
        assert SessionStore(first).load() == {"n": 1}
    assert len(captured.captured_queries) == 2
    assert compiled == []


def test_signing_in_gives_a_new_key_and_signing_out_deletes_it(personas):
    client = verified_login(Client(), personas.manager_ab)
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    assert client.post("/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


def test_a_recovery_code_session_reads_its_device_with_its_user_in_one_query(personas):
    user = personas.supervisor_a
    client = verified_login(Client(), user)  # an authenticator's session first, same process
    assert client.get("/incidents/").status_code == 200
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/incidents/").status_code == 200
    static_reads = [
        sql for sql in statements_of(captured) if 'FROM "otp_static_staticdevice"' in sql
    ]
    assert len(static_reads) == 1 and 'INNER JOIN "auth_user"' in static_reads[0]
    assert not [sql for sql in statements_of(captured) if sql.startswith('SELECT "auth_user"')]
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
