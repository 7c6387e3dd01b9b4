"""Accounts and tokens: deactivated never deleted, tokens stored only as hashes."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied

from facility_log.models import ApiToken
from facility_log.services import accounts


@pytest.mark.django_db
def test_a_token_is_stored_only_as_its_hash(personas):
    token, key = accounts.issue_api_token(personas.guard_a, personas.admin, reason="tablet 3")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert token.history.get().history_change_reason == "tablet 3"


@pytest.mark.django_db
def test_deactivating_a_user_revokes_their_tokens_and_keeps_history(personas):
    token, _key = accounts.issue_api_token(personas.guard_a, personas.admin, reason="t")
    accounts.deactivate_user(personas.guard_a, personas.admin, reason="contract ended")
    token.refresh_from_db()
    assert token.revoked_at is not None
    row = personas.guard_a.history.latest()
    assert (row.is_active, row.history_user_name, row.history_change_reason) == (
        False,
        "admin",
        "contract ended",
    )


@pytest.mark.django_db
def test_only_superusers_create_or_deactivate_accounts(personas):
    with pytest.raises(PermissionDenied):
        accounts.create_user(personas.manager_ab, username="x", password=None, reason="r")
    with pytest.raises(PermissionDenied):
        accounts.deactivate_user(personas.guard_a, personas.manager_ab, reason="r")


@pytest.mark.django_db
def test_the_system_actor_cannot_sign_in(personas, client):
    system = accounts.system_actor()
    assert not system.is_active and not system.has_usable_password()
    # Sign-in throttling (django-axes) needs the request a real sign-in has.
    assert not client.login(request=_sign_in_request(), username=system.username, password="")


@pytest.mark.django_db
def test_signing_in_does_not_write_a_history_row(personas, client):
    from tests.personas import PASSWORD

    before = personas.guard_a.history.count()
    assert client.login(request=_sign_in_request(), username="guard_a", password=PASSWORD)
    personas.guard_a.refresh_from_db()
    assert personas.guard_a.last_login is not None
    assert personas.guard_a.history.count() == before


def _sign_in_request():
    from django.test import RequestFactory

    return RequestFactory().post("/login/")
