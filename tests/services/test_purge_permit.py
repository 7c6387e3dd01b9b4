"""The history tables' triggers let a DELETE through only inside the purge's permit; UPDATE
and any change to the ledger stay refused, on SQLite and PostgreSQL alike."""

import pytest
from django.db import DatabaseError, connection, transaction

from facility_log.db_guards import PERMIT_SETTING, PERMIT_TABLE, purge_permit
from facility_log.models import LedgerEntry, Site
from facility_log.services.verify import verify_audit


class Rollback(Exception):
    pass


def _history_table() -> str:
    return Site.history.model._meta.db_table


def _raw(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _delete_site_history(site) -> int:
    return _raw(f"DELETE FROM {_history_table()} WHERE id = %s", [site.pk])


def _permit_is_on() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting(%s, true)", [PERMIT_SETTING])
            return cursor.fetchone()[0] == "on"
        cursor.execute(f"SELECT COUNT(*) FROM {PERMIT_TABLE}")  # noqa: S608
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_outside_a_purge_a_delete_of_history_rows_is_refused(personas):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _delete_site_history(personas.site_c)
    assert Site.history.filter(id=personas.site_c.pk).exists()


@pytest.mark.django_db
def test_inside_the_permit_history_rows_can_be_deleted_and_nothing_else(personas):
    with pytest.raises(Rollback), purge_permit():
        assert _permit_is_on()
        assert _delete_site_history(personas.site_c) >= 1
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(
                f"UPDATE {_history_table()} SET name = 'Forged' WHERE id = %s", [personas.site_a.pk]
            )
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE seq = 1")
        raise Rollback  # the deletion above is undone with the permit
    assert Site.history.filter(id=personas.site_c.pk).exists()
    assert verify_audit().intact


@pytest.mark.django_db
def test_after_the_permit_block_deletes_are_refused_again(personas):
    with purge_permit():
        pass
    assert not _permit_is_on()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _delete_site_history(personas.site_c)


@pytest.mark.django_db
def test_an_error_inside_the_permit_withdraws_it(personas):
    with transaction.atomic():
        with pytest.raises(Rollback), purge_permit():
            raise Rollback
        assert not _permit_is_on()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _delete_site_history(personas.site_c)
    assert Site.history.filter(id=personas.site_c.pk).exists()


@pytest.mark.django_db
def test_a_purge_run_leaves_no_permit_behind(personas):
    from facility_log.services.accounts import system_actor
    from facility_log.services.retention import purge_expired
    from tests.retention_helpers import seed_year_of_data

    seed_year_of_data(personas)
    purge_expired(system_actor(), apply=True)
    assert not _permit_is_on()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _delete_site_history(personas.site_c)
