"""API tokens: an optional lifetime (FACILITY_LOG["API_TOKEN_LIFETIME_DAYS"]), a last-used
time, and an expired token refused with a 401 that says so. Also: a client's X-Request-ID is
kept only when it is a plausible id."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from facility_log.models import ApiToken
from facility_log.services.accounts import issue_api_token
from facility_log.services.audit import audited_change


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _lifetime(days: int):
    from django.conf import settings

    return override_settings(
        FACILITY_LOG={**settings.FACILITY_LOG, "API_TOKEN_LIFETIME_DAYS": days}
    )


def test_tokens_work_until_revoked_by_default(personas):
    token, key = issue_api_token(personas.manager_ab, personas.admin, reason="door server")
    assert token.expires_at is None
    assert _client(key).get("/api/v1/sites/").status_code == 200


def test_a_token_lives_as_long_as_the_setting_says(personas):
    with _lifetime(30):
        token, _key = issue_api_token(personas.manager_ab, personas.admin, reason="door server")
    expected = timezone.now() + timedelta(days=30)
    assert abs((token.expires_at - expected).total_seconds()) < 60


def test_an_expired_token_is_refused_with_a_clear_401(personas):
    with _lifetime(1):
        token, key = issue_api_token(personas.manager_ab, personas.admin, reason="door server")
    assert _client(key).get("/api/v1/sites/").status_code == 200
    with audited_change(personas.admin, "test: the day has passed"):
        token.expires_at = timezone.now() - timedelta(seconds=1)
        token.save()
    response = _client(key).get("/api/v1/sites/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


def test_use_stamps_the_last_used_time_without_a_history_row(personas):
    token, key = issue_api_token(personas.manager_ab, personas.admin, reason="door server")
    assert token.last_used_at is None
    versions = token.history.count()
    before = timezone.now()
    for _ in range(3):
        assert _client(key).get("/api/v1/sites/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at >= before
    assert token.history.count() == versions
    assert ApiToken.objects.get(pk=token.pk).last_used_at == token.last_used_at


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("tablet-7f3a9c01", True),
        ("abc.DEF_123-xyz", True),
        ("tablet-7f3a9c01\n", False),  # `$` alone would let the newline through
        ("short", False),
        ("x" * 65, False),
        ("<script>alert(1)</script>", False),
        ("id with spaces!", False),
    ],
)
def test_a_clients_request_id_is_kept_only_when_it_is_plausible(personas, sent, kept):
    _token, key = issue_api_token(personas.manager_ab, personas.admin, reason="door server")
    response = _client(key).get("/api/v1/sites/", HTTP_X_REQUEST_ID=sent)
    assert response.status_code == 200
    given = response["X-Request-ID"]
    if kept:
        assert given == sent
    else:
        assert given != sent and len(given) == 32 and given.isalnum()
