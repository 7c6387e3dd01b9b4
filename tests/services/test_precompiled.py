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


def test_queries_run_together_read_what_each_reads_alone(personas, django_assert_num_queries):
    from django.db import connection

    from facility_log.api.incidents.detail import RELATED
    from facility_log.services.precompiled import all_together
    from tests.incident_factories import seed_site_a_incident

    incident = seed_site_a_incident(personas)
    alone = [query.all("detail", incident=incident.pk) for query in RELATED.values()]
    reads = [(query, "detail", {"incident": incident.pk}) for query in RELATED.values()]
    one_trip = connection.vendor == "postgresql"
    with django_assert_num_queries(1 if one_trip else len(reads)):
        together = all_together(reads)
    assert [[(type(r), r.pk) for r in rows] for rows in together] == [
        [(type(r), r.pk) for r in rows] for rows in alone
    ]
    assert together[0] and together[3] and together[4]  # persons, statements, photos
    assert together[3][0].author.username == "guard_a"  # with its author, read in the row
