"""A signed-in request reads its user together with the authenticator its session was verified
with (facility_log/signed_in.py), and every check of the session still holds on the very next
request: signing out, deactivation, a changed password, a removed or foreign authenticator, a
new role that needs the second step."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from facility_log.models import Role
from facility_log.services import accounts, sites, two_factor
from facility_log.services.prepared import with_statements
from facility_log.signed_in import BACKEND, DJANGO_BACKEND
from tests.two_factor_helpers import authenticator, verified_login

PAGE = "/notifications/"


def _reads(captured, table: str) -> list[str]:
    """The queries that read `table` first (FROM it), joined to others or not; a prepared
    statement's EXECUTE read as the SQL it runs (services/prepared.py)."""
    sent = [with_statements(q["sql"]) for q in captured.captured_queries]
    return [sql for sql in sent if f'FROM "{table}"' in sql]


def _user_with_device(captured) -> list[str]:
    return [
        sql
        for sql in _reads(captured, "otp_totp_totpdevice")
        if 'INNER JOIN "auth_user"' in sql and '"auth_user"."password"' in sql
    ]


def _get(client: Client, path: str = PAGE):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response, captured


def test_a_verified_page_request_reads_the_user_and_the_device_in_one_query(personas):
    client = verified_login(Client(), personas.manager_ab)
    response, captured = _get(client)
    assert response.status_code == 200
    assert len(_reads(captured, "django_session")) == 1
    assert len(_user_with_device(captured)) == 1
    assert not _reads(captured, "auth_user")
    # The session; the device with its user; the page's own notifications. Before: the user
    # and the device were a query each. On PostgreSQL the session comes with the device, as
    # the session was saved by this process when it was signed in.
    expected = 2 if connection.vendor == "postgresql" else 3
    assert len(captured.captured_queries) == expected, [q["sql"] for q in captured]


def test_a_guard_without_a_device_reads_the_user_alone(personas):
    client = verified_login(Client(), personas.guard_a)
    response, captured = _get(client)
    assert response.status_code == 200
    assert len(_reads(captured, "auth_user")) == 1
    assert not _reads(captured, "otp_totp_totpdevice")


def test_the_api_with_a_verified_session_reads_the_user_and_the_device_in_one_query(personas):
    client = verified_login(Client(), personas.supervisor_a)
    response, captured = _get(client, "/api/v1/me/")
    assert response.status_code == 200 and response.json()["username"] == "supervisor_a"
    assert not _reads(captured, "auth_user")
    assert len(_user_with_device(captured)) == 1
    # The session; device and user; the view's memberships with their sites (on PostgreSQL
    # the first two in one round trip, with the memberships the scoping reads).
    expected = 2 if connection.vendor == "postgresql" else 3
    assert len(captured.captured_queries) == expected, [q["sql"] for q in captured]


def test_the_api_with_a_token_reads_the_token_and_its_user_in_one_query(personas, api_client_for):
    client = api_client_for("manager_ab")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/me/")
    assert response.status_code == 200
    [token_read] = _reads(captured, "facility_log_apitoken")
    assert 'INNER JOIN "auth_user"' in token_read
    assert not _reads(captured, "auth_user") and not _reads(captured, "django_session")
    assert len(captured.captured_queries) == 2  # the token with its user; the memberships


def test_signing_out_ends_the_session_at_once(personas):
    client = verified_login(Client(), personas.manager_ab)
    assert client.get(PAGE).status_code == 200
    cookie = client.cookies["sessionid"].value
    assert client.post("/logout/").status_code == 302
    again = Client()
    again.cookies["sessionid"] = cookie
    response = again.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert again.get("/api/v1/me/").status_code in (401, 403)


def test_a_deactivated_account_is_refused_on_its_next_request(personas):
    user = personas.manager_ab
    client = verified_login(Client(), user)
    assert client.get(PAGE).status_code == 200
    accounts.deactivate_user(user, personas.admin, reason="left the company")
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_a_changed_password_ends_the_other_sessions(personas):
    user = personas.manager_ab
    client = verified_login(Client(), user)
    assert client.get(PAGE).status_code == 200
    user.set_password("a-new-and-long-password")
    user.save()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_removed_authenticator_unverifies_the_session_at_once(personas):
    user = personas.manager_ab
    client = verified_login(Client(), user)
    assert client.get(PAGE).status_code == 200
    two_factor.reset_two_factor(user, reason="lost phone")
    response = client.get("/incidents/")
    assert response.status_code == 302 and "/account/two-factor/setup/" in response["Location"]
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert DEVICE_ID_SESSION_KEY not in client.session


@pytest.mark.parametrize("whose", ["another person's", "an unconfirmed"])
def test_a_session_naming_a_device_it_may_not_use_is_not_verified(personas, whose):
    user = personas.supervisor_a
    if whose == "an unconfirmed":
        device = TOTPDevice.objects.create(user=user, name="new phone", confirmed=False)
    else:
        device = authenticator(personas.manager_ab)
    authenticator(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    response = client.get("/incidents/")
    assert response.status_code == 302 and "/account/two-factor/verify/" in response["Location"]
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_new_role_that_needs_the_second_step_applies_on_the_next_request(personas):
    guard = personas.guard_a
    client = verified_login(Client(), guard)
    assert client.get("/incidents/").status_code == 200
    sites.grant_membership(
        personas.site_a, personas.admin, user=guard, role=Role.SUPERVISOR, reason="promoted"
    )
    response = client.get("/incidents/")
    assert response.status_code == 302 and "/account/two-factor/" in response["Location"]


def test_a_session_signed_in_before_the_change_stays_signed_in(personas):
    """Sessions name the backend that signed them in: those naming Django's ModelBackend
    (before facility_log's replaced it) are carried over, not signed out."""
    client = verified_login(Client(), personas.manager_ab)
    session = client.session
    assert session[BACKEND_SESSION_KEY] == BACKEND
    session[BACKEND_SESSION_KEY] = DJANGO_BACKEND
    session.save()
    assert client.get(PAGE).status_code == 200
    assert client.session[BACKEND_SESSION_KEY] == BACKEND
    assert client.get("/incidents/").status_code == 200


@pytest.mark.parametrize("who", ["supervisor_a", "manager_ab"])
def test_the_memberships_come_with_the_device_on_postgresql_and_are_the_users_own(personas, who):
    user = getattr(personas, who)
    client = verified_login(Client(), user)
    response, captured = _get(client, "/access/alarms/")
    assert response.status_code == 200
    codes = {"supervisor_a": ["ALPHA"], "manager_ab": ["ALPHA", "BRAVO"]}[who]
    assert [site.code for site in response.context["sites"]] == codes
    sent = [with_statements(q["sql"]) for q in captured.captured_queries]
    memberships = [sql for sql in sent if 'FROM "facility_log_membership"' in sql]
    assert len(memberships) == 1, sent  # read once in the request
    with_device = [sql for sql in memberships if 'FROM "otp_totp_totpdevice"' in sql]
    assert len(with_device) == (1 if connection.vendor == "postgresql" else 0), sent


@pytest.mark.parametrize("deactivated", [False, True])
def test_memberships_are_kept_only_for_a_user_django_accepts(personas, deactivated):
    from django.test import RequestFactory

    from facility_log import scoping
    from facility_log.signed_in import get_user

    user = personas.manager_ab
    client = verified_login(Client(), user)
    if deactivated:
        accounts.deactivate_user(user, personas.admin, reason="left")
    request = RequestFactory().get("/access/alarms/")
    request.session = client.session
    with scoping.memberships_read_once():
        assert get_user(request).is_authenticated is not deactivated
        kept = scoping._already_read(user)
        assert kept is (not deactivated and connection.vendor == "postgresql")
        if kept:
            remembered = scoping.active_memberships(user)
    if kept:
        assert sorted(remembered) == sorted(scoping.active_memberships(user))
        assert {site for site, _role in remembered} == {personas.site_a.pk, personas.site_b.pk}


def test_a_session_seen_before_comes_with_its_device_and_memberships_in_one_query(personas):
    client = verified_login(Client(), personas.manager_ab)
    assert client.get(PAGE).status_code == 200  # this process now knows what it names
    response, captured = _get(client)
    assert response.status_code == 200
    sessions = _reads(captured, "django_session")
    assert len(sessions) == 1
    if connection.vendor == "postgresql":
        assert 'FROM "otp_totp_totpdevice"' in sessions[0]
        assert 'FROM "facility_log_membership"' in sessions[0]
        # That round trip and the page's notifications.
        assert len(captured.captured_queries) == 2, [q["sql"] for q in captured]
    else:
        assert len(captured.captured_queries) == 3, [q["sql"] for q in captured]


def _rename(client: Client, user, device) -> None:
    """Make the client's session (same key) name `user` and `device`, as a session store
    written behind this process's back would."""
    session = client.session
    session[SESSION_KEY] = str(user.pk)
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def test_a_session_that_names_another_user_now_gets_that_users_sites(personas):
    client = verified_login(Client(), personas.manager_ab)
    response = client.get("/access/alarms/")
    assert [site.code for site in response.context["sites"]] == ["ALPHA", "BRAVO"]
    supervisor = personas.supervisor_a
    _rename(client, supervisor, authenticator(supervisor))
    response = client.get("/access/alarms/")
    assert response.status_code == 200
    assert response.context["user"] == supervisor
    assert [site.code for site in response.context["sites"]] == ["ALPHA"]


@pytest.mark.parametrize("device", ["another of the same person", "another person's"])
def test_a_session_that_names_another_device_now_is_checked_for_it(personas, device):
    user = personas.manager_ab
    client = verified_login(Client(), user)
    assert client.get("/incidents/").status_code == 200
    if device == "another person's":
        other = authenticator(personas.supervisor_a)
    else:
        other = TOTPDevice.objects.create(user=user, name="second phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = other.persistent_id
    session.save()
    response = client.get("/incidents/")
    if device == "another person's":
        assert response.status_code == 302 and "/two-factor/verify/" in response["Location"]
        assert DEVICE_ID_SESSION_KEY not in client.session
    else:
        assert response.status_code == 200
        assert client.session[DEVICE_ID_SESSION_KEY] == other.persistent_id


def test_a_session_deleted_behind_this_process_is_signed_out(personas):
    client = verified_login(Client(), personas.manager_ab)
    assert client.get(PAGE).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).delete()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]
