"""Checkpointed verification, head files kept outside the server, and tombstones: the
nightly check reads only what is new and still catches what is new; a kept head proves the
chain was not rewritten; a purge leaves the ledger verifying."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from facility_log.db_guards import drop_guards, install_guards
from facility_log.models import LedgerCheckpoint, LedgerEntry, Site
from facility_log.services import ledger, sites
from facility_log.services.ledger_seal import SealError, read_head_file
from facility_log.services.verify import verify_audit


def _raw(sql: str, params=()) -> None:
    drop_guards()  # as an attacker with database access would
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    install_guards()


def _history_table() -> str:
    return Site.history.model._meta.db_table


def _rename(site, name):
    return sites.update_site(site, _admin(), name=name, reason="r")


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


@pytest.mark.django_db
def test_a_checkpointed_check_reads_only_entries_after_the_checkpoint(personas):
    full = verify_audit(record_checkpoint=True)
    assert full.intact and full.since is None
    checkpoint = LedgerCheckpoint.objects.get()
    _rename(personas.site_a, "Alpha II")
    _rename(personas.site_b, "Bravo II")
    since = verify_audit(since_checkpoint=True)
    assert since.intact, since.problems
    assert since.since == checkpoint.seq
    # the checkpoint's own entry and the two site changes
    assert since.entries == LedgerEntry.objects.count() - checkpoint.seq == 3
    assert since.head == ledger.ledger_head()


@pytest.mark.django_db
def test_tampering_after_the_checkpoint_is_found_by_the_checkpointed_check(personas):
    verify_audit(record_checkpoint=True)
    _rename(personas.site_a, "Alpha II")
    newest = Site.history.filter(id=personas.site_a.pk).latest()
    _raw(f"UPDATE {_history_table()} SET name = 'Forged' WHERE history_id = %s", [newest.pk])
    problems = [str(p) for p in verify_audit(since_checkpoint=True).problems]
    assert "was changed after it was recorded" in problems[0]
    # and the live row no longer matches its (forged) latest history row
    assert len(problems) == 2 and "differs from its last history row" in problems[1]
    entry = LedgerEntry.objects.get(
        object_type="facility_log.historicalsite", object_pk=str(newest.pk)
    )
    assert problems[0].startswith(f"entry #{entry.seq} (site #{personas.site_a.pk})")


@pytest.mark.django_db
def test_old_tampering_is_left_to_the_full_check(personas):
    oldest = Site.history.filter(id=personas.site_a.pk).earliest()
    verify_audit(record_checkpoint=True)
    _raw(f"UPDATE {_history_table()} SET name = 'Forged' WHERE history_id = %s", [oldest.pk])
    assert verify_audit(since_checkpoint=True).intact  # by design: only what is new
    problems = [str(p) for p in verify_audit().problems]
    assert "was changed after it was recorded" in problems[0]
    assert f"site #{personas.site_a.pk}" in problems[0]


@pytest.mark.django_db
def test_a_row_inserted_behind_the_application_after_the_checkpoint_is_found(personas):
    verify_audit(record_checkpoint=True)
    row = Site.history.filter(id=personas.site_a.pk).earliest()
    columns = [
        f.column for f in Site.history.model._meta.concrete_fields if f.column != "history_id"
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    _raw(
        f'INSERT INTO "{_history_table()}" ({names}) SELECT {names} FROM "{_history_table()}" '
        "WHERE history_id = %s",
        [row.pk],
    )
    problems = [str(p) for p in verify_audit(since_checkpoint=True).problems]
    assert len(problems) == 1 and "has no ledger entry" in problems[0]


@pytest.mark.django_db
def test_a_forged_checkpoint_is_refused_and_the_check_runs_in_full(personas):
    verify_audit(record_checkpoint=True)
    checkpoint = LedgerCheckpoint.objects.get()
    _raw(
        f'UPDATE "{LedgerCheckpoint._meta.db_table}" SET high_water = %s WHERE id = %s',
        ['{"facility_log.historicalsite": 999999}', checkpoint.pk],
    )
    result = verify_audit(since_checkpoint=True)
    assert result.since is None  # fell back to a full check
    problems = [str(p) for p in result.problems]
    assert "its signature does not match" in problems[0]
    assert any("was changed after it was recorded" in p for p in problems)


@pytest.mark.django_db
def test_a_rewritten_ledger_no_longer_holds_the_checkpoint(personas):
    verify_audit(record_checkpoint=True)
    checkpoint = LedgerCheckpoint.objects.get()
    _raw(
        f'UPDATE "{LedgerEntry._meta.db_table}" SET hash = %s WHERE seq = %s',
        ["f" * 64, checkpoint.seq],
    )
    problems = [str(p) for p in verify_audit(since_checkpoint=True).problems]
    assert "no longer holds the entry the checkpoint signed" in problems[0]


@pytest.mark.django_db
def test_head_file_is_written_kept_and_later_proves_the_chain_extends_it(personas, tmp_path):
    head_file = tmp_path / "head.txt"
    out = StringIO()
    call_command("verify_audit", head_file=str(head_file), stdout=out)
    head = read_head_file(head_file.read_text())
    assert (head.seq, head.hash) == (
        LedgerCheckpoint.objects.get().seq,
        LedgerCheckpoint.objects.get().hash,
    )
    _rename(personas.site_a, "Alpha II")
    call_command("verify_audit", expect_head=str(head_file), since_checkpoint=True, stdout=out)
    assert "ledger intact" in out.getvalue()
    # Someone rewrites the chain from the kept head onwards: the kept head no longer matches.
    _raw(
        f'UPDATE "{LedgerEntry._meta.db_table}" SET hash = %s WHERE seq = %s', ["e" * 64, head.seq]
    )
    with pytest.raises(CommandError, match="ledger BROKEN"):
        call_command("verify_audit", expect_head=str(head_file), stdout=StringIO())
    problems = [str(p) for p in verify_audit((head.seq, head.hash)).problems]
    assert (
        f"entry #{head.seq} (ledger head): differs from the head kept outside the server"
        in problems
    )


@pytest.mark.django_db
def test_an_altered_head_file_is_refused(tmp_path, personas):
    head_file = tmp_path / "head.txt"
    call_command("verify_audit", head_file=str(head_file), stdout=StringIO())
    text = head_file.read_text()
    forged = Path(tmp_path / "forged.txt")
    seq_line = next(line for line in text.splitlines() if line.startswith("seq: "))
    forged.write_text(text.replace(seq_line, "seq: 1"))
    with pytest.raises(SealError, match="signature does not match"):
        read_head_file(forged.read_text())
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("verify_audit", expect_head=str(forged), stdout=StringIO())


def _purge_site_history_row(row) -> None:
    """What the retention purge does for one history row: tombstone, then delete. (The
    tests purge an older history row of a site renamed since, so the live row still matches
    its latest history row.)"""
    digest = ledger.stored_row_digest(type(row), row.pk)
    ledger.record_tombstone(model=type(row), pk=row.pk, digest=digest, rule="test rule")
    _raw(f"DELETE FROM {_history_table()} WHERE history_id = %s", [row.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("since_checkpoint", [False, True], ids=["full", "since-checkpoint"])
def test_a_purged_row_with_its_tombstone_verifies(personas, since_checkpoint):
    _rename(personas.site_b, "Bravo II")
    verify_audit(record_checkpoint=True)
    _purge_site_history_row(Site.history.filter(id=personas.site_b.pk).earliest())
    result = verify_audit(since_checkpoint=since_checkpoint)
    assert result.intact, result.problems


@pytest.mark.django_db
def test_a_row_changed_before_its_purge_is_still_named(personas):
    _rename(personas.site_b, "Bravo II")
    row = Site.history.filter(id=personas.site_b.pk).earliest()
    _raw(f"UPDATE {_history_table()} SET name = 'Forged' WHERE history_id = %s", [row.pk])
    _purge_site_history_row(row)
    problems = [str(p) for p in verify_audit().problems]
    assert len(problems) == 1 and "was changed before it was purged" in problems[0]


@pytest.mark.django_db
def test_a_tombstone_without_a_purge_leaves_the_row_unaccounted(personas):
    row = Site.history.filter(id=personas.site_b.pk).earliest()
    digest = ledger.stored_row_digest(type(row), row.pk)
    ledger.record_tombstone(model=type(row), pk=row.pk, digest=digest, rule="test rule")
    problems = [str(p) for p in verify_audit().problems]
    assert len(problems) == 1 and "has no ledger entry" in problems[0]
