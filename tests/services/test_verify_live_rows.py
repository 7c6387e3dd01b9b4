"""Live rows are held to their latest history row: a record changed, inserted or deleted with
SQL (no history row written) is named, though every ledger entry still matches its row."""

import pytest
from django.db import connection

from facility_log.db_guards import drop_guards, install_guards
from facility_log.models import Alarm, ImportBatch, Incident, LedgerEntry, Site
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, forced_open_at, ingest, row


def _raw(sql: str, params=()) -> None:
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    install_guards()


def _problems(**options) -> list[str]:
    return [str(p) for p in verify_audit(**options).problems]


@pytest.mark.django_db
@pytest.mark.parametrize("since_checkpoint", [False, True], ids=["full", "since-checkpoint"])
def test_an_acknowledged_alarm_set_back_to_new_with_sql_is_named(personas, since_checkpoint):
    from facility_log.services import access

    alarm = forced_open_at(personas.site_a, personas.zone_a).alarm
    verify_audit(record_checkpoint=True)
    access.acknowledge_alarm(alarm, personas.supervisor_a, note="guard sent")
    _raw(f'UPDATE "{Alarm._meta.db_table}" SET state = %s WHERE id = %s', ["new", alarm.pk])
    problems = _problems(since_checkpoint=since_checkpoint)
    assert len(problems) == 1
    assert problems[0].startswith(f"no entry (alarm #{alarm.pk}): differs from its last history")
    assert "in state" in problems[0]


@pytest.mark.django_db
def test_a_live_row_inserted_or_deleted_with_sql_is_named(personas):
    site = personas.site_c
    columns = [f.column for f in Site._meta.concrete_fields if f.column not in ("id", "code")]
    names = ", ".join(f'"{c}"' for c in columns)
    _raw(
        f'INSERT INTO "{Site._meta.db_table}" (code, {names}) '
        f'SELECT %s, {names} FROM "{Site._meta.db_table}" WHERE id = %s',
        ["FORGED", site.pk],
    )
    forged = Site.objects.get(code="FORGED")
    problems = _problems()
    assert problems == [
        f"no entry (site #{forged.pk}): has no history (written behind the application)"
    ]


@pytest.mark.django_db
def test_approved_narrative_rewritten_with_sql_is_named(personas):
    from facility_log.services import incidents as svc
    from tests.incident_factories import submitted

    incident = svc.approve_incident(submitted(personas), personas.supervisor_a, comment="ok")
    _raw(f'UPDATE "{Incident._meta.db_table}" SET narrative = %s WHERE id = %s', ["x", incident.pk])
    problems = _problems()
    assert len(problems) == 1 and f"incident #{incident.pk}" in problems[0]
    assert "narrative" in problems[0]


@pytest.mark.django_db
@pytest.mark.parametrize("since_checkpoint", [False, True], ids=["full", "since-checkpoint"])
def test_the_entry_of_a_batch_of_duplicates_cannot_vanish(personas, since_checkpoint):
    door(personas.site_a, personas.zone_a)
    ingest(personas.site_a, [row(external_id="twice-1")])
    if since_checkpoint:
        verify_audit(record_checkpoint=True)
    again = ingest(personas.site_a, [row(external_id="twice-1")]).batch
    entry = LedgerEntry.objects.get(kind="batch", object_pk=str(again.pk))
    _raw(f'DELETE FROM "{LedgerEntry._meta.db_table}" WHERE seq = %s', [entry.seq])
    problems = _problems(since_checkpoint=since_checkpoint)
    assert f"no entry (import batch #{again.pk}): has no batch entry" in problems
    assert ImportBatch.objects.filter(pk=again.pk).exists()
