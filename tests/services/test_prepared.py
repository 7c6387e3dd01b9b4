"""Prepared queries (services/prepared.py): on PostgreSQL sent as EXECUTE of a statement
prepared once per connection, reading the same rows as the SQL; a statement PostgreSQL
refuses to prepare falls back to the SQL without harming the transaction; a new connection
or a migration prepares again; the PREPARE is not counted among a request's queries."""

import pytest
from django.db import connection, transaction
from django.db.models import CharField, Func, Value
from django.test.utils import CaptureQueriesContext

from facility_log.api.authentication import _TOKEN
from facility_log.models import ApiToken
from facility_log.models.accounts import hash_token
from facility_log.services import prepared
from facility_log.services.accounts import issue_api_token
from facility_log.services.precompiled import Slot
from facility_log.services.prepared import PreparedQuery

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _token(personas):
    return issue_api_token(personas.guard_a, personas.manager_ab, reason="tablet")


def _sent(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def test_a_prepared_query_reads_what_its_sql_reads(personas):
    token, key = _token(personas)
    with CaptureQueriesContext(connection) as captured:
        found = _TOKEN.first("token", key_hash=hash_token(key))
        missing = _TOKEN.first("token", key_hash=hash_token(key + "x"))
    assert found.pk == token.pk and found.user.username == "guard_a"  # the joined user too
    assert missing is None
    executed = [sql.startswith("EXECUTE fl_prepared_") for sql in _sent(captured)]
    assert executed == [connection.vendor == "postgresql"] * 2


@on_postgresql
def test_the_prepare_is_sent_once_per_connection_and_not_counted(personas, transactional_db):
    token, key = _token(personas)
    connection.close()  # a new connection: nothing prepared on it yet
    with CaptureQueriesContext(connection) as first:
        assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    with CaptureQueriesContext(connection) as second:
        assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    assert len(_sent(first)) == len(_sent(second)) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'fl_prep%%'")
        (prepared_here,) = cursor.fetchone()
    assert prepared_here >= 1


@on_postgresql
def test_a_prepared_statement_outlives_a_rolled_back_transaction(personas, transactional_db):
    token, key = _token(personas)

    class Rollback(Exception):
        pass

    connection.close()
    with pytest.raises(Rollback), transaction.atomic():
        assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk  # prepared here
        raise Rollback
    # Known prepared on this connection: an EXECUTE, which must find its statement.
    assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk


@on_postgresql
def test_a_statement_postgresql_cannot_prepare_runs_as_sql_in_the_same_transaction(personas):
    token, key = _token(personas)
    # A parameter whose type nothing tells (an argument of a function taking any type):
    # PostgreSQL refuses the PREPARE, and the query runs as its SQL; the transaction it was
    # in goes on.
    untyped = PreparedQuery(
        lambda _key, label: (
            ApiToken.objects.filter(pk=token.pk)
            .alias(kind=Func(Value(label), function="pg_typeof", output_field=CharField()))
            .filter(kind__isnull=False)
            .values("id")
        ),
        {"label": Slot("\x1fsentinel label\x1f", CharField())},
    )
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            rows = untyped.rows("label", label="tablet A")
        assert rows == [{"id": token.pk}]
        assert not any(sql.startswith("EXECUTE") for sql in _sent(captured))
        assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    assert untyped.rows("label", label="tablet B") == [{"id": token.pk}]


@on_postgresql
def test_after_a_migration_each_statement_is_prepared_again_under_a_new_name(personas):
    token, key = _token(personas)
    with CaptureQueriesContext(connection) as before:
        _TOKEN.first("token", key_hash=hash_token(key))
    prepared._new_generation()  # as pre_migrate and post_migrate send it
    with CaptureQueriesContext(connection) as after:
        assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    name = [sql.split("(")[0] for sql in _sent(before) + _sent(after)]
    assert name[0].startswith("EXECUTE fl_prepared_") and name[1] != name[0]


@on_postgresql
def test_a_session_that_lost_its_statements_prepares_them_again(personas, transactional_db):
    """A pooler or proxy resetting the session (here `DEALLOCATE ALL`): outside a transaction
    the statement is prepared again and sent again; inside one, the transaction ends as in
    an outage (OperationalError: a 503 "try again") and the next statement prepares again."""
    from django.db import OperationalError

    token, key = _token(personas)
    assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk  # prepared
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(OperationalError), transaction.atomic():
        _TOKEN.first("token", key_hash=hash_token(key))
    assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk


@on_postgresql
def test_only_a_refusal_of_the_statement_itself_makes_it_plain_sql_for_good(db):
    """SQLSTATE class 42 (syntax, an undeterminable type) is a refusal; a failure of another
    kind (here a division by zero, as a dropped connection or a timeout would be) is not."""
    import psycopg

    errors = {}
    with connection.cursor() as cursor:
        for name, sql in [("syntax", "PREPARE fl_bad AS SELEC 1"), ("other", "SELECT 1/0")]:
            try:
                with transaction.atomic():
                    cursor.execute(sql)
            except Exception as error:  # noqa: BLE001 - the driver's error is what is classified
                errors[name] = error.__cause__
    assert all(isinstance(e, psycopg.Error) for e in errors.values())
    assert prepared._refused(errors["syntax"]) and not prepared._refused(errors["other"])


def test_sql_prepared_by_its_text_reads_what_the_sql_reads(personas):
    """The alarm console's union (put together per request) is prepared by its text: the same
    rows as the SQL sent as it is; a value of another type, or SQLite, sends the SQL."""
    from datetime import UTC, datetime

    from facility_log.models import Site

    sql = (
        f'SELECT "code" FROM "{Site._meta.db_table}"'  # noqa: S608 - the table name only
        ' WHERE "id" >= %s AND "code" <> %s AND %s > %s AND %s ORDER BY "code"'
    )
    params = [
        personas.site_a.pk,
        "CHARLIE",
        datetime(2026, 1, 2, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        True,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        plain = cursor.fetchall()
        sent = prepared.sql_prepared_by_text(connection, sql, params)
        cursor.execute(sent, params)
        assert cursor.fetchall() == plain == [("ALPHA",), ("BRAVO",)]
        assert sent.startswith("EXECUTE fl_prepared_") == (connection.vendor == "postgresql")
        assert prepared.sql_prepared_by_text(connection, sql, params) == sent  # once, by text
    assert prepared.sql_prepared_by_text(connection, sql, [*params[:4], None]) == sql
