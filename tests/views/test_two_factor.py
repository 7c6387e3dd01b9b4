"""Two-factor sign-in: required for supervisors, managers, auditors and the admin site,
optional for guards; set-up with a QR code, a code from the app or a recovery code at sign-in,
new recovery codes on demand. API tokens are not affected."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.personas import PASSWORD
from tests.two_factor_helpers import authenticator, current_code, verified_login

VERIFY = "/account/two-factor/verify/"
SETUP = "/account/two-factor/setup/"


def _password_only(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["supervisor_a", "manager_ab", "auditor_a", "admin"])
def test_an_unverified_supervisor_is_sent_to_the_second_step(personas, name):
    user = personas.all_people()[name]
    client = _password_only(user)
    response = client.get("/incidents/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fincidents%2F"
    authenticator(user)
    response = client.get("/incidents/")
    assert response["Location"] == f"{VERIFY}?next=%2Fincidents%2F"


def test_the_admin_site_needs_the_second_step(personas):
    authenticator(personas.admin)
    response = _password_only(personas.admin).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert verified_login(Client(), personas.admin).get("/admin/").status_code == 200


def test_guards_may_sign_in_with_the_password_alone(personas):
    assert _password_only(personas.guard_a).get("/incidents/").status_code == 200
    assert _password_only(personas.guard_a).get("/tablet/").status_code == 200


def test_sign_in_with_password_then_code(personas):
    device = authenticator(personas.supervisor_a)
    client = Client()
    response = client.post(
        "/login/?next=/incidents/",
        {"username": "supervisor_a", "password": PASSWORD, "next": "/incidents/"},
    )
    response = client.get(response["Location"])
    assert response["Location"] == f"{VERIFY}?next=%2Fincidents%2F"

    page = client.get(response["Location"])
    assert b"authenticator app" in page.content
    wrong = client.post(VERIFY, {"code": "000000", "next": "/incidents/"})
    assert wrong.status_code == 200
    assert b"That code is not right" in wrong.content
    right = client.post(VERIFY, {"code": current_code(device), "next": "/incidents/"})
    assert right["Location"] == "/incidents/"
    assert client.get("/incidents/").status_code == 200


def test_set_up_shows_a_qr_code_and_gives_recovery_codes(personas):
    client = _password_only(personas.manager_ab)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert b"<svg" in page.content
    key = re.search(rb"Key: <code>([A-Z2-7 ]+)</code>", page.content).group(1)
    assert len(key.replace(b" ", b"")) == 32
    # Reloading keeps the same key (the person may be half-way through scanning it).
    assert key in client.get(SETUP).content

    device = TOTPDevice.objects.get(user=personas.manager_ab, confirmed=False)
    done = client.post(SETUP, {"code": current_code(device)})
    assert done.status_code == 200
    codes = re.findall(rb"<li><code>([a-z0-9]{10})</code></li>", done.content)
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/incidents/").status_code == 200


def test_a_recovery_code_signs_in_once(personas):
    verified = verified_login(Client(), personas.supervisor_a)
    codes = re.findall(
        rb"<li><code>([a-z0-9]{10})</code></li>",
        verified.post("/account/two-factor/").content,
    )
    code = codes[0].decode()

    first = _password_only(personas.supervisor_a)
    assert first.post(VERIFY, {"code": code, "next": "/incidents/"})["Location"] == "/incidents/"
    assert first.get("/incidents/").status_code == 200
    second = _password_only(personas.supervisor_a)
    assert second.post(VERIFY, {"code": code}).status_code == 200  # refused: used up
    assert second.get("/incidents/").status_code == 302
    assert StaticToken.objects.filter(device__user=personas.supervisor_a).count() == 9


def test_new_recovery_codes_cancel_the_old_ones(personas):
    client = verified_login(Client(), personas.supervisor_a)
    old = re.findall(rb"<code>([a-z0-9]{10})</code>", client.post("/account/two-factor/").content)
    new = re.findall(rb"<code>([a-z0-9]{10})</code>", client.post("/account/two-factor/").content)
    assert len(new) == 10 and not set(old) & set(new)
    refused = _password_only(personas.supervisor_a).post(VERIFY, {"code": old[0].decode()})
    assert b"That code is not right" in refused.content


def test_codes_are_not_regenerated_without_the_second_step(personas):
    authenticator(personas.supervisor_a)
    response = _password_only(personas.supervisor_a).post("/account/two-factor/")
    assert response.status_code == 302
    assert not StaticToken.objects.filter(device__user=personas.supervisor_a).exists()


def test_a_password_alone_cannot_replace_the_authenticator(personas):
    authenticator(personas.supervisor_a)
    response = _password_only(personas.supervisor_a).get(SETUP)
    assert response["Location"] == VERIFY


def test_the_api_refuses_an_unverified_session_but_not_a_token(personas, api_client_for):
    unverified = _password_only(personas.supervisor_a)
    response = unverified.get("/api/v1/sites/")
    assert response.status_code in (401, 403)
    assert "Two-factor" in response.json()["detail"]
    assert verified_login(Client(), personas.supervisor_a).get("/api/v1/sites/").status_code == 200
    assert api_client_for("supervisor_a").get("/api/v1/sites/").status_code == 200
    assert _password_only(personas.guard_a).get("/api/v1/sites/").status_code == 200


def test_the_outsider_sees_only_their_own_two_factor_page(personas, client_for):
    authenticator(personas.supervisor_a)
    page = client_for("outsider_c").get("/account/two-factor/")
    assert page.status_code == 200
    assert b"ALPHA" not in page.content and b"supervisor_a" not in page.content
