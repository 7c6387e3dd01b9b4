"""`manage.py purge_expired`: cron-friendly (exit 0 with a summary; a clear error otherwise)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from facility_log.db_guards import install_guards
from facility_log.models import Incident, PurgeRun
from facility_log.services.verify import verify_audit
from tests.retention_helpers import closed_incident


@pytest.mark.django_db
def test_a_dry_run_with_nothing_expired_says_so(personas):
    out = StringIO()
    call_command("purge_expired", stdout=out)
    run = PurgeRun.objects.get()
    assert f"dry run #{run.pk}: would remove 0 record(s), 0 row(s), 0 file(s)." in out.getvalue()
    assert run.outcome == "completed"


def _guard_without_the_purge_permit(table: str) -> None:
    """A database still guarded the way it was before the purge existed: DELETE refused."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE OR REPLACE FUNCTION facility_log_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'facility_log: % is append-only (% refused)', "
                "TG_TABLE_NAME, TG_OP; END $$ LANGUAGE plpgsql"
            )
        else:
            cursor.execute(f'DROP TRIGGER "fl_guard_{table}_delete"')
            cursor.execute(
                f'CREATE TRIGGER "fl_guard_{table}_delete" BEFORE DELETE ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, 'facility_log: {table} is append-only'); END"
            )


@pytest.mark.django_db
def test_a_purge_that_cannot_delete_stops_with_a_clear_error_and_leaves_nothing_half_done(
    personas,
):
    incident = closed_incident(personas, days_ago=8 * 365, title="Old")
    _guard_without_the_purge_permit(Incident.history.model._meta.db_table)
    try:
        with pytest.raises(CommandError, match=r"purge stopped: .*append-only"):
            call_command("purge_expired", "--apply", stdout=StringIO())
    finally:
        install_guards()
    # The incident's transaction was rolled back whole: it is there with every part, and the
    # ledger has no tombstone for a row that is still there.
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert incident.persons.count() == 1 and incident.attachments.count() == 1
    result = verify_audit()
    assert result.intact, [str(p) for p in result.problems]
    run = PurgeRun.objects.get()
    assert run.applied and run.outcome.startswith("stopped: ")
