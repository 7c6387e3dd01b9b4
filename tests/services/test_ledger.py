"""The ledger: every history row chained, tampering found and named, rows guarded by triggers."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from facility_log.db_guards import drop_guards, install_guards
from facility_log.models import LedgerCheckpoint, LedgerEntry, Site
from facility_log.services import sites
from facility_log.services.ledger import GENESIS_HASH, entry_hash, ledger_head
from facility_log.services.verify import covered_models, verify_audit


def _history_table() -> str:
    return Site.history.model._meta.db_table


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_every_history_row_has_exactly_one_entry_and_the_chain_verifies(personas):
    history_rows = sum(m.objects.count() for m in covered_models())
    assert LedgerEntry.objects.count() == history_rows
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert all(entry_hash(e) == e.hash for e in entries)
    assert verify_audit().intact


@pytest.mark.django_db
def test_an_entry_names_who_and_what(personas):
    sites.update_site(personas.site_a, personas.manager_ab, name="Alpha II", reason="r")
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert entry.kind == "history"
    assert entry.actor_name == "manager_ab"
    assert entry.record_label == f"site #{personas.site_a.pk}"


@pytest.mark.django_db
def test_verify_audit_command_passes_on_clean_data(personas):
    out = StringIO()
    seq, head = ledger_head()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().strip() == (
        f"ledger intact: {seq} entries checked (full); head {seq}:{head}"
    )
    # The intact check left a signed checkpoint (itself chained as the next entry).
    checkpoint = LedgerCheckpoint.objects.get()
    assert (checkpoint.seq, checkpoint.hash, checkpoint.full) == (seq, head, True)
    newest = LedgerEntry.objects.order_by("-seq").first()
    assert newest.object_type == "facility_log.ledgercheckpoint"


@pytest.mark.django_db
def test_history_row_changed_with_raw_sql_is_named(personas):
    row = Site.history.filter(id=personas.site_a.pk).earliest()
    drop_guards()  # as an attacker with database access would
    _raw(f"UPDATE {_history_table()} SET name = %s WHERE history_id = %s", ["Forged", row.pk])
    install_guards()
    with pytest.raises(CommandError, match=rf"site #{personas.site_a.pk}.*changed after"):
        call_command("verify_audit", stdout=StringIO())


@pytest.mark.django_db
def test_history_row_deleted_is_named(personas):
    row = Site.history.filter(id=personas.site_b.pk).earliest()
    drop_guards()
    _raw(f"DELETE FROM {_history_table()} WHERE history_id = %s", [row.pk])
    install_guards()
    result = verify_audit()
    assert not result.intact
    assert f"site #{personas.site_b.pk}" in str(result.problems[0])
    assert "missing" in str(result.problems[0])


@pytest.mark.django_db
def test_history_row_inserted_behind_the_application_is_found(personas):
    row = Site.history.filter(id=personas.site_a.pk).values().first()
    columns = [c for c in row if c != "history_id"]
    placeholders = ", ".join(["%s"] * len(columns))
    _raw(
        f"INSERT INTO {_history_table()} ({', '.join(columns)}) VALUES ({placeholders})",
        [row[c] for c in columns],
    )
    problems = [str(p) for p in verify_audit().problems]
    assert any("has no ledger entry" in p for p in problems), problems


@pytest.mark.django_db
def test_ledger_entry_altered_or_removed_is_found(personas):
    table = LedgerEntry._meta.db_table
    drop_guards()
    _raw(f"UPDATE {table} SET actor_name = %s WHERE seq = %s", ["nobody", 3])
    result = verify_audit()
    assert result.problems[0].seq == 3
    assert "altered" in str(result.problems[0])
    _raw(f"DELETE FROM {table} WHERE seq = %s", [5])
    install_guards()
    assert any("missing" in str(p) for p in verify_audit().problems)


@pytest.mark.django_db
def test_a_rewritten_chain_is_caught_against_the_head_kept_outside(personas):
    seq, head = ledger_head()
    assert verify_audit(expect_head=(seq, head)).intact
    # An attacker rewrites the last entry and recomputes its hash consistently.
    last = LedgerEntry.objects.get(seq=seq)
    last.actor_name = "rewritten"
    new_hash = entry_hash(last)
    drop_guards()
    _raw(
        f"UPDATE {LedgerEntry._meta.db_table} SET actor_name = %s, hash = %s WHERE seq = %s",
        ["rewritten", new_hash, seq],
    )
    install_guards()
    assert verify_audit().intact  # self-consistent…
    with pytest.raises(CommandError, match="differs from the head kept outside"):
        call_command("verify_audit", f"--expect-head={seq}:{head}", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET history_change_reason = 'x'", "DELETE FROM {t}"]
)
def test_triggers_refuse_update_and_delete_on_history_tables(personas, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw(statement.format(t=_history_table()))
    assert verify_audit().intact


@pytest.mark.django_db
def test_triggers_refuse_changes_to_the_ledger(personas):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE seq = 1")
    assert LedgerEntry.objects.filter(seq=1).exists()


def test_bad_expect_head_is_a_clear_error(db):
    with pytest.raises(CommandError, match="--expect-head takes a head file"):
        call_command("verify_audit", "--expect-head=abc", stdout=StringIO())


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers with IMMEDIATE transactions",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    from facility_log.services.accounts import system_actor

    actor = system_actor()
    site = sites.create_site(actor, code="CONC", name="Concurrency", reason="r")
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                sites.create_zone(site, actor, name=f"T{n}-{i}", reason="parallel")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = verify_audit()
    assert result.intact, [str(p) for p in result.problems]
    assert result.entries == LedgerEntry.objects.count()


@pytest.mark.django_db
def test_an_entry_given_its_digest_goes_with_its_rolled_back_savepoint(personas):
    # A scan's entry gets its digest when its run's scans are read (no read-back at the
    # end); if the scan's savepoint is rolled back afterwards, the entry must go with it.
    import contextlib
    from datetime import timedelta

    from django.utils import timezone

    from facility_log.models import Scan
    from facility_log.services import rounds
    from facility_log.services.audit import audited_change
    from tests.rounds_helpers import WHY, night_route, scan

    route, checkpoints = night_route(personas)
    start = timezone.now() - timedelta(hours=1)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    with audited_change(personas.guard_a, WHY):
        with contextlib.suppress(RuntimeError), audited_change(personas.guard_a, WHY):
            scan(personas.guard_a, run, checkpoints[0], start + timedelta(minutes=1))
            raise RuntimeError  # after the scan's own block, inside the enclosing one
        scan(personas.guard_a, run, checkpoints[1], start + timedelta(minutes=11))
    assert Scan.objects.count() == 1
    assert LedgerEntry.objects.filter(object_type="facility_log.scan").count() == 1
    assert verify_audit().intact


@pytest.mark.django_db
def test_many_entries_chained_at_once_verify(personas):
    # An import's chunk chains hundreds of entries in one step (COPY on PostgreSQL, from
    # ledger.COPY_MIN_ENTRIES): each is stored exactly as hashed, and the chain holds.
    from facility_log.models import Zone
    from facility_log.services import ledger
    from facility_log.services.audit import audited_change, create_in_bulk

    count = ledger.COPY_MIN_ENTRIES + 50
    before = LedgerEntry.objects.count()
    with audited_change(personas.manager_ab, "bulk zones"):
        create_in_bulk(Zone, [Zone(site=personas.site_a, name=f"Z{n}") for n in range(count)])
    added = LedgerEntry.objects.order_by("seq")[before:]
    assert len(added) == count
    assert all(entry.hash == entry_hash(entry) for entry in added)
    assert {e.actor_name for e in added} == {personas.manager_ab.get_username()}
    assert verify_audit().intact
