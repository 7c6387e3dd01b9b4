"""seed_demo and issue_token: cron-friendly, clear errors, history kept."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from facility_log.models import ApiToken, Membership, Site, Zone
from facility_log.models.accounts import hash_token


def _counts():
    return (
        Site.objects.count(),
        Zone.objects.count(),
        Membership.objects.count(),
        get_user_model().objects.count(),
        Site.history.count(),
    )


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent_and_attributed():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    hq = Site.objects.get(code="HQ")
    row = hq.history.get()
    assert row.history_user_name == "system"
    assert row.history_change_reason == "demo data (manage.py seed_demo)"
    assert row.history_request_id.startswith("cmd-seed_demo-")
    assert set(Zone.objects.filter(site=hq).values_list("name", flat=True)) >= {"Main entrance"}


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_seed_demo_refuses_in_production():
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo", stdout=StringIO())
    assert Site.objects.count() == 0


@pytest.mark.django_db
def test_issue_token_prints_a_working_key(personas):
    out = StringIO()
    call_command("issue_token", "guard_a", stdout=out)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=hash_token(key))
    assert token.user == personas.guard_a
    assert token.history.get().history_user_name == "system"

    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["username"] == "guard_a"


@pytest.mark.django_db
def test_issue_token_for_unknown_user_is_a_clear_error(personas):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("issue_token", "nobody", stdout=StringIO())
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_supervisor_signs_in_with_the_printed_authenticator_key():
    import re
    from base64 import b32decode

    from django.test import Client
    from django_otp.oath import totp

    out = StringIO()
    call_command("seed_demo", stdout=out)
    key = re.search(r"authenticator key ([A-Z2-7]{16,})", out.getvalue()).group(1)
    client = Client()
    signed_in = client.post("/login/", {"username": "supervisor", "password": "demo-password"})
    assert client.get(signed_in["Location"])["Location"].startswith("/account/two-factor/verify/")
    code = f"{totp(b32decode(key)):06d}"
    assert client.post("/account/two-factor/verify/", {"code": code})["Location"] == "/"
    assert client.get("/incidents/").status_code == 200
    # The guards have no second step.
    guard = Client()
    guard.post("/login/", {"username": "guard", "password": "demo-password"})
    assert guard.get("/incidents/").status_code == 200


@pytest.mark.django_db
def test_reset_two_factor_sends_the_person_back_to_set_up(personas):
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from facility_log.services.two_factor import new_recovery_codes
    from tests.two_factor_helpers import authenticator

    authenticator(personas.supervisor_a)
    new_recovery_codes(personas.supervisor_a)
    with pytest.raises(CommandError, match="No user named"):
        call_command("reset_two_factor", "nobody", reason="lost phone", stdout=StringIO())
    out = StringIO()
    call_command("reset_two_factor", "supervisor_a", reason="lost phone", stdout=out)
    assert "2 device(s) removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=personas.supervisor_a).exists()
    client = Client()
    client.force_login(personas.supervisor_a)
    assert client.get("/incidents/")["Location"].startswith("/account/two-factor/setup/")
