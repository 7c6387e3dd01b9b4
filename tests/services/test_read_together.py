"""Reads sent together: the statements named `generic` run with PostgreSQL's generic plan,
the setting made just before them and undone just after them in the same request, so the
rest of the request and every later query of the connection plan as before."""

import pytest
from django.db import DatabaseError, connection, transaction

from facility_log.services import read_together

SETTING = "SELECT current_setting('plan_cache_mode')"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plan_cache_mode is PostgreSQL's"),
]


def _session_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute(SETTING)
        return cursor.fetchone()[0]


def test_the_generic_statements_alone_run_with_the_generic_plan(django_assert_num_queries):
    before = _session_setting()
    assert before != "force_generic_plan"
    statements = {name: (None, SETTING, []) for name in ("first", "forced", "also forced", "last")}
    with django_assert_num_queries(1):
        fetched, tail = read_together.fetch(
            statements, tail=(SETTING, []), generic=frozenset({"forced", "also forced"})
        )
    assert fetched == {
        "first": [(before,)],
        "forced": [("force_generic_plan",)],
        "also forced": [("force_generic_plan",)],
        "last": [(before,)],
    }
    assert tail == (before,)
    assert _session_setting() == before


def test_a_generic_statement_last_is_reset_before_the_tail():
    before = _session_setting()
    statements = {"plain": (None, SETTING, []), "forced": (None, SETTING, [])}
    fetched, tail = read_together.fetch(
        statements, tail=(SETTING, []), generic=frozenset({"forced"})
    )
    assert fetched == {"plain": [(before,)], "forced": [("force_generic_plan",)]}
    assert tail == (before,)
    assert _session_setting() == before


def test_a_failing_request_leaves_the_setting_as_it_was():
    before = _session_setting()
    statements = {"forced": (None, SETTING, []), "fails": (None, "SELECT 1 / 0", [])}
    with pytest.raises(DatabaseError), transaction.atomic():
        read_together.fetch(statements, generic=frozenset({"forced", "fails"}))
    assert _session_setting() == before
