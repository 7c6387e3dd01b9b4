"""A precompiled query refuses None in a slot: its SQL says `= %s`, where the ORM would have
written IS NULL, so a None would silently match nothing instead of what the queryset meant."""

import pytest

from facility_log.api.authentication import _TOKEN
from facility_log.models.accounts import hash_token
from facility_log.services.accounts import issue_api_token


def test_a_slot_given_none_is_refused_not_run(personas):
    with pytest.raises(ValueError, match="cannot take None"):
        _TOKEN.first("token", key_hash=None)


def test_the_same_query_finds_the_token_its_value_names(personas):
    token, key = issue_api_token(personas.guard_a, personas.manager_ab, reason="tablet")
    assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    assert _TOKEN.first("token", key_hash=hash_token(key + "x")) is None
