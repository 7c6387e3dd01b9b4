"""Hints written under the old rule (last 4 characters) are cleared by migration 0006 through
`clear_credential_hints`, and the ledger still verifies afterwards.

The old rows are simulated as the old writer left them: hints of 4 characters, with the batch
digest the writer chained over them.
"""

import importlib
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import connection

from facility_log.models import AccessEvent, ImportBatch, LedgerEntry
from facility_log.services import ledger
from facility_log.services.credentials import clear_credential_hints
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, ingest, row

OLD_HINTS = {"1234567890": "7890", "4321": "4321", "98765": "8765"}


@contextmanager
def _old_column():
    """The column as it was before migration 0006 (4 characters; SQLite does not enforce
    lengths, PostgreSQL does, and undoes this with the test's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE facility_log_accessevent ALTER COLUMN credential_hint TYPE varchar(4)"
            )
    yield


def _batch(site, *credentials, prefix: str) -> ImportBatch:
    rows = [
        row(line=n + 2, external_id=f"{prefix}-{n}", credential=credential)
        for n, credential in enumerate(credentials)
    ]
    return ingest(site, rows).batch


def _as_the_old_writer_left_it(batch: ImportBatch, credentials: list[str]) -> None:
    events = AccessEvent._base_manager.filter(batch=batch).order_by("pk")
    for event, credential in zip(events, credentials, strict=True):
        hint = OLD_HINTS.get(credential, "")
        AccessEvent._base_manager.filter(pk=event.pk).update(credential_hint=hint)
    ledger.record_batch(batch, ledger.batch_digest(events))


@pytest.fixture
def old_batches(personas):
    door(personas.site_a, personas.zone_a)
    first = ["1234567890", "4321", ""]
    second = ["98765"]
    with _old_column():
        batches = [
            _batch(personas.site_a, *first, prefix="a"),
            _batch(personas.site_a, *second, prefix="b"),
            _batch(personas.site_a, "", prefix="c"),
        ]
        _as_the_old_writer_left_it(batches[0], first)
        _as_the_old_writer_left_it(batches[1], second)
        assert verify_audit().intact
        assert AccessEvent.objects.exclude(credential_hint="").count() == 3
        yield batches


def _batch_entries(batch) -> int:
    return LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.BATCH, object_type="facility_log.importbatch", object_pk=str(batch.pk)
    ).count()


@pytest.mark.django_db
def test_old_hints_are_cleared_and_each_batch_is_rechained(old_batches):
    entries = [_batch_entries(b) for b in old_batches]

    result = clear_credential_hints()

    assert (result.events, result.rechained, result.left_broken) == (3, 2, [])
    assert not AccessEvent.objects.exclude(credential_hint="").exists()
    assert [_batch_entries(b) for b in old_batches] == [entries[0] + 1, entries[1] + 1, entries[2]]
    verification = verify_audit()
    assert verification.intact, [str(p) for p in verification.problems]


@pytest.mark.django_db
def test_clearing_does_not_hide_a_batch_changed_behind_the_application(old_batches):
    tampered = old_batches[1]
    AccessEvent._base_manager.filter(batch=tampered).update(cardholder="Someone Else")
    assert not verify_audit().intact

    result = clear_credential_hints()

    assert result.left_broken == [tampered.pk]
    assert not AccessEvent.objects.exclude(credential_hint="").exists()
    problems = [str(p) for p in verify_audit().problems]
    assert len(problems) == 1 and "rows of this batch were changed" in problems[0]
    assert f"#{tampered.pk}" in problems[0]


@pytest.mark.django_db
def test_the_migration_step_leaves_a_ledger_without_hints_alone(personas):
    door(personas.site_a, personas.zone_a)
    _batch(personas.site_a, "1234", "", prefix="new")  # no hint under the 8-character rule
    migration = importlib.import_module("facility_log.migrations.0007_credential_hint")
    head = ledger.ledger_head()

    migration.clear_old_hints(apps, None)

    assert ledger.ledger_head() == head
    assert verify_audit().intact
