"""Sign-in throttling (django-axes): a username is paused *from one address* after too many
wrong passwords, on the sign-in page and the admin's; others at that address (tablets behind
one NAT) still sign in; after the cool-off the right password works again; every failed and
refused sign-in is logged."""

import logging
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests.personas import PASSWORD

TABLETS_NAT = "203.0.113.7"


def _sign_in(client, username, password, address=TABLETS_NAT, url="/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_fifty_wrong_passwords_pause_that_user_at_that_address_only(personas, caplog):
    caplog.set_level(logging.WARNING, logger="facility_log.auth")
    attacker = Client()
    for _ in range(50):
        response = _sign_in(attacker, "guard_a", "wrong-password")
        assert response.status_code in (200, 429)

    # The right password is refused now, with a message saying what happened and for how long.
    response = _sign_in(attacker, "guard_a", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many wrong passwords" in page and "guard_a" in page
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"{minutes} minutes" in page
    assert "_auth_user_id" not in attacker.session

    # Another guard on a tablet behind the same NAT still signs in...
    colleague = Client()
    assert _sign_in(colleague, "outsider_c", PASSWORD).status_code == 302
    assert "_auth_user_id" in colleague.session
    # ...and so does guard_a from another address (a stranger cannot lock a guard out).
    elsewhere = Client()
    assert _sign_in(elsewhere, "guard_a", PASSWORD, address="198.51.100.9").status_code == 302

    # Every failure and every refusal is in the log, with the username and address.
    failed = [r for r in caplog.records if r.getMessage().startswith("sign-in failed")]
    refused = [r for r in caplog.records if r.getMessage().startswith("sign-in refused")]
    assert len(failed) >= settings.AXES_FAILURE_LIMIT
    assert len(failed) + len(refused) >= 51
    assert refused and "guard_a" in refused[-1].getMessage()
    assert TABLETS_NAT in refused[-1].getMessage()
    assert all("wrong-password" not in r.getMessage() for r in caplog.records)

    # After the cool-off the right password works again (the attempts are dated back rather
    # than the test waiting for 15 minutes).
    past = settings.AXES_COOLOFF_TIME + timedelta(seconds=5)
    for attempt in AccessAttempt.objects.filter(username="guard_a"):
        attempt.attempt_time -= past
        attempt.save()
    again = Client()
    assert _sign_in(again, "guard_a", PASSWORD).status_code == 302
    assert "_auth_user_id" in again.session


def test_the_admin_sign_in_is_throttled_too(personas):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _sign_in(attacker, "admin", "wrong-password", url="/admin/login/")
    response = _sign_in(attacker, "admin", PASSWORD, url="/admin/login/")
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_a_few_mistakes_do_not_pause_anyone(personas):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "guard_a", "wrong-password").status_code == 200
    assert _sign_in(client, "guard_a", PASSWORD).status_code == 302
