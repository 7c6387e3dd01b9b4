"""Access events are chained per import batch: verify_audit catches an event changed,
removed or added behind the application's back."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from facility_log.models import AccessEvent, LedgerEntry
from facility_log.models.access import ImportBatch
from facility_log.services.verify import verify_audit
from tests.access.helpers import SAMPLES, sample_doors


@pytest.fixture
def imported(personas):
    from facility_log.services import sites

    site = sites.create_site(personas.admin, code="HQ", name="HQ", reason="r")
    zone = sites.create_zone(site, personas.admin, name="Doors", reason="r")
    sample_doors(site, zone)
    call_command(
        "import_access_events",
        str(SAMPLES / "generic.csv"),
        site="HQ",
        fmt="generic-csv",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    return ImportBatch.objects.get()


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_an_import_is_one_batch_entry_and_verifies(imported):
    entry = LedgerEntry.objects.get(kind="batch")
    assert entry.object_pk == str(imported.pk)
    assert verify_audit().intact


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE {t} SET cardholder = 'Someone Else' WHERE id = (SELECT MIN(id) FROM {t})",
        "DELETE FROM {t} WHERE id = (SELECT MAX(id) FROM {t})",
    ],
)
def test_an_event_changed_or_removed_behind_the_application_is_named(imported, tamper):
    _raw(tamper.format(t=AccessEvent._meta.db_table))
    problems = [str(p) for p in verify_audit().problems]
    assert problems == [
        f"entry #{LedgerEntry.objects.get(kind='batch').seq} (import batch #{imported.pk}): "
        "rows of this batch were changed"
    ]


@pytest.mark.django_db
def test_events_inserted_under_a_made_up_batch_are_found(imported):
    event = AccessEvent.objects.values().first()
    _raw(
        f"INSERT INTO {ImportBatch._meta.db_table} (site_id, channel, source_format, file_name,"
        " actor_name, request_id, created_at, total, created, duplicates)"
        " SELECT site_id, channel, source_format, file_name, actor_name, request_id,"
        f" created_at, total, created, duplicates FROM {ImportBatch._meta.db_table}"
    )
    fake_batch = ImportBatch.objects.order_by("-pk").first().pk
    columns = [c for c in event if c not in ("id", "batch_id", "external_id")]
    _raw(
        f"INSERT INTO {AccessEvent._meta.db_table} ({', '.join(columns)}, batch_id, external_id)"
        f" VALUES ({', '.join(['%s'] * len(columns))}, %s, %s)",
        [event[c] for c in columns] + [fake_batch, "forged-1"],
    )
    problems = " | ".join(str(p) for p in verify_audit().problems)
    assert f"(access event batch {fake_batch}): rows have no ledger entry" in problems
    assert f"(import batch {fake_batch}): has no ledger entry" in problems
