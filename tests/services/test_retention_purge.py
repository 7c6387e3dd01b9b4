"""`purge_expired` on a year and more of records: exactly the expired go, with their parts,
history rows and files, each leaving a tombstone; the ledger verifies afterwards; a package
exported before the purge still verifies; a dry run changes nothing."""

import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from facility_log.models import (
    AccessEvent,
    Alarm,
    Attachment,
    Incident,
    IncidentSource,
    InvolvedPerson,
    LedgerEntry,
    PurgeCount,
    PurgeRun,
    RecordView,
    RoundException,
    Run,
    Scan,
    Shift,
    ShiftEntry,
    Supplement,
)
from facility_log.services.accounts import system_actor
from facility_log.services.incident_package import (
    build_incident_package,
    verify_incident_package,
)
from facility_log.services.ledger import EMPTY_BATCH_DIGEST, batch_digest
from facility_log.services.retention import purge_expired
from facility_log.services.verify import covered_models, verify_audit
from tests.retention_helpers import event, seed_year_of_data


def _purge_applied():
    """`purge_expired --apply`, its files deleted as its commit would (the test's own
    transaction never commits: Django runs the commit callbacks here instead)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return purge_expired(system_actor(), apply=True)


def _intact() -> None:
    result = verify_audit()
    assert result.intact, [str(p) for p in result.problems]


def _row_counts() -> dict[str, int]:
    """Rows of every table the purge may touch (history tables included)."""
    return {m._meta.label: m._base_manager.count() for m in covered_models()} | {
        m._meta.label: m.objects.count() for m in (Incident, AccessEvent, Alarm, Run, Shift)
    }


@pytest.fixture
def seeded(personas):
    data = seed_year_of_data(personas)
    _intact()
    return data


@pytest.mark.django_db
def test_apply_removes_exactly_the_expired_records_and_the_ledger_verifies(
    seeded, personas, django_capture_on_commit_callbacks
):
    s, p = seeded, personas
    old_files = list(s.old_incident.attachments.values_list("file", flat=True))
    assert old_files and all(default_storage.exists(name) for name in old_files)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_expired", "--apply", stdout=StringIO())

    # Incidents: the old closed one and the old void draft go with every part; the held, the
    # recent and the never-closed ones stay, and so do the incidents opened from an alarm or
    # a scan.
    remaining = set(Incident.objects.values_list("pk", flat=True))
    assert remaining == {
        s.held_incident.pk,
        s.recent_incident.pk,
        s.open_incident.pk,
        s.alarm_incident.pk,
        s.scan_incident.pk,
    }
    for gone in (s.old_incident, s.void_incident):
        assert not Incident.history.filter(id=gone.pk).exists()
        assert not InvolvedPerson.history.filter(incident_id=gone.pk).exists()
        assert not Supplement.objects.filter(incident_id=gone.pk).exists()
        assert not Attachment.objects.filter(incident_id=gone.pk).exists()
    assert not any(default_storage.exists(name) for name in old_files)
    assert s.held_incident.attachments.count() == 1

    # Access events: older than 90 days at A go, except the forced door whose alarm opened an
    # incident; at B (10 days) the 20-day-old ones go.
    left = set(AccessEvent.objects.values_list("external_id", flat=True))
    assert left == {"forced-kept", "new-1", "new-2", "b-3"}
    assert Alarm.objects.count() == 1
    assert event(p.site_a, "forced-kept").alarm.incident_source.incident == s.alarm_incident
    assert not Alarm.history.exclude(id=event(p.site_a, "forced-kept").alarm.pk).exists()

    # Rounds: the old run goes with its scans and exceptions; the run whose scan reported an
    # incident and the recent run stay; the old missed round goes.
    assert set(Run.objects.values_list("pk", flat=True)) == {s.needed_run.pk, s.recent_run.pk}
    assert not Scan.objects.filter(run_id=s.old_run.pk).exists()
    assert not Run.history.filter(id=s.old_run.pk).exists()
    assert s.missed and not RoundException.objects.filter(pk__in=[e.pk for e in s.missed])
    assert not RoundException.history.filter(run_id=s.old_run.pk).exists()

    # Shifts: the one that ended 400 days ago goes with its log; the recent and the open stay.
    assert set(Shift.objects.values_list("pk", flat=True)) == {
        s.recent_shift.pk,
        s.open_shift.pk,
    }
    assert not ShiftEntry.objects.filter(shift_id=s.old_shift.pk).exists()
    assert not Shift.history.filter(pass_down_notes__startswith="Old notes").exists()

    # The view log: older than two years goes.
    assert list(
        RecordView.objects.values_list("pk", flat=True).filter(
            pk__in=[s.old_view.pk, s.recent_view.pk]
        )
    ) == [s.recent_view.pk]

    _intact()


@pytest.mark.django_db
def test_every_removed_covered_row_leaves_a_tombstone_and_batches_are_rechained(seeded, personas):
    s = seeded
    covered_before = {
        (m._meta.label_lower, str(pk))
        for m in covered_models()
        for pk in m._base_manager.values_list("pk", flat=True)
    }
    _purge_applied()
    covered_after = {
        (m._meta.label_lower, str(pk))
        for m in covered_models()
        for pk in m._base_manager.values_list("pk", flat=True)
    }
    removed = covered_before - covered_after
    tombstones = set(
        LedgerEntry.objects.filter(kind="tombstone").values_list("object_type", "object_pk")
    )
    assert removed and tombstones == removed
    rules = set(LedgerEntry.objects.filter(kind="tombstone").values_list("record_label", flat=True))
    assert any("(incidents after 2557 days at ALPHA)" in r for r in rules)

    # The fully purged batch ends with the empty digest; a batch left with events ends with
    # their digest; untouched batches keep their single entry.
    def latest(batch):
        entries = LedgerEntry.objects.filter(kind="batch", object_pk=str(batch.pk))
        return entries.order_by("-seq").first()

    assert latest(s.old_batch).digest == EMPTY_BATCH_DIGEST
    assert "after purge of 3 events (access_events after 90 days at ALPHA)" in (
        latest(s.old_batch).record_label
    )
    kept = AccessEvent.objects.filter(batch=s.forced_kept)
    assert latest(s.forced_kept).digest == batch_digest(kept) != EMPTY_BATCH_DIGEST
    assert LedgerEntry.objects.filter(kind="batch", object_pk=str(s.recent_batch.pk)).count() == 1
    _intact()


@pytest.mark.django_db
def test_dry_run_changes_nothing_and_reports_what_would_go(seeded):
    before = _row_counts()
    out = StringIO()
    call_command("purge_expired", stdout=out)
    text = out.getvalue()
    assert "ALPHA incidents (kept 2557 days" in text
    assert "would remove 2 record(s)" in text and "1 on legal hold" in text
    assert "BRAVO access_events (kept 10 days" in text
    assert "Nothing was removed; run with --apply" in text
    after = _row_counts()
    # The only addition is the record of the dry run itself.
    grown = {k: after[k] - before[k] for k in before if after[k] != before[k]}
    assert grown == {
        "facility_log.PurgeRun": 1,
        "facility_log.PurgeCount": PurgeCount.objects.count(),
    }
    run = PurgeRun.objects.get()
    assert not run.applied and run.outcome == "completed"
    assert LedgerEntry.objects.filter(kind="tombstone").count() == 0
    _intact()


@pytest.mark.django_db
def test_the_run_is_recorded_with_counts_per_site_and_kind_and_a_second_run_finds_nothing(
    seeded, personas
):
    first = _purge_applied()
    counts = {(c.site.code, c.kind): c for c in first.counts.select_related("site")}
    assert counts[("ALPHA", "incidents")].records == 2
    assert counts[("ALPHA", "incidents")].held == 1
    assert counts[("ALPHA", "incidents")].files == 1
    assert counts[("ALPHA", "access_events")].records == 5
    assert counts[("ALPHA", "access_events")].kept == 1
    assert counts[("BRAVO", "access_events")].records == 2
    assert counts[("BRAVO", "access_events")].days == 10
    assert counts[("ALPHA", "rounds")].records == 2  # the old run and the missed round
    assert counts[("ALPHA", "rounds")].kept == 1
    assert counts[("ALPHA", "shifts")].records == 1
    assert counts[("ALPHA", "view_log")].records == 1
    assert first.applied and first.actor_name == "system" and first.outcome == "completed"

    again = _purge_applied()
    assert sum(c.records for c in again.counts.all()) == 0
    assert LedgerEntry.objects.filter(kind="batch", created_at__gte=again.started_at).count() == 0
    _intact()


@pytest.mark.django_db
def test_releasing_a_hold_lets_the_next_purge_remove_the_incident(seeded, personas):
    from facility_log.services.retention import release_legal_hold

    _purge_applied()
    assert Incident.objects.filter(pk=seeded.held_incident.pk).exists()
    release_legal_hold(seeded.held_incident, personas.manager_ab, reason="case closed")
    _purge_applied()
    assert not Incident.objects.filter(pk=seeded.held_incident.pk).exists()
    _intact()


@pytest.mark.django_db
def test_a_package_exported_before_the_purge_still_verifies(seeded, personas, tmp_path: Path):
    packages = {}
    for name in ("old_incident", "held_incident"):
        data, _ = build_incident_package(
            getattr(seeded, name), personas.manager_ab, recipient="Police", reason="case"
        )
        packages[name] = tmp_path / f"{name}.zip"
        packages[name].write_bytes(data)
    _purge_applied()
    assert not Incident.objects.filter(pk=seeded.old_incident.pk).exists()
    for path in packages.values():
        assert verify_incident_package(path) == []
        out = StringIO()
        call_command("verify_package", str(path), stdout=out)
        assert "package intact" in out.getvalue()
    with zipfile.ZipFile(packages["old_incident"]) as archive:
        assert any(n.startswith("attachments/") for n in archive.namelist())
    _intact()


@pytest.mark.django_db
def test_a_row_altered_before_its_purge_is_still_named(seeded, personas):
    from django.db import connection

    from facility_log.db_guards import drop_guards, install_guards

    row = InvolvedPerson.history.filter(incident_id=seeded.old_incident.pk).first()
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {InvolvedPerson.history.model._meta.db_table} SET name = 'Forged' "
            "WHERE history_id = %s",
            [row.pk],
        )
    install_guards()
    _purge_applied()
    problems = [str(p) for p in verify_audit().problems]
    assert any("was changed before it was purged" in p for p in problems), problems


@pytest.mark.django_db
def test_incident_sources_free_their_alarm_once_the_incident_is_purged(personas):
    """An alarm that opened an incident stays while the incident does; when the incident
    expires, both go in the same run (incidents are purged first)."""
    from facility_log.services import incidents as svc
    from facility_log.services import links
    from tests.retention_helpers import ago, clock_at, events

    batch = events(
        personas.site_a, personas.zone_a, days_ago=8 * 365, ids=["f-1"], event_type="forced_open"
    )
    with clock_at(ago(8 * 365)):
        alarm = AccessEvent.objects.get(batch=batch).alarm
        incident = links.open_incident_from_alarm(alarm, personas.supervisor_a)
        incident = svc.submit_incident(incident, personas.supervisor_a)
        incident = svc.approve_incident(incident, personas.manager_ab)
        svc.close_incident(incident, personas.manager_ab, reason="door fixed")
    _purge_applied()
    assert not IncidentSource.objects.exists()
    assert not Incident.objects.filter(pk=incident.pk).exists()
    assert not AccessEvent.objects.filter(batch=batch).exists()
    assert not Alarm.objects.filter(pk=alarm.pk).exists()
    _intact()


@pytest.mark.django_db
def test_a_hold_placed_after_the_plan_was_made_still_keeps_the_incident(personas):
    from facility_log.services.retention import _execute, place_legal_hold
    from facility_log.services.retention_plans import Tally, plan_incidents
    from facility_log.services.verify import covered_models as covered
    from tests.retention_helpers import ago, closed_incident

    incident = closed_incident(personas, days_ago=8 * 365, title="Late hold")
    tally = Tally(personas.site_a, "incidents", 2557, ago(2557))
    (removal,) = list(plan_incidents(tally))
    place_legal_hold(incident, personas.manager_ab, reason="police asked this morning")
    _execute(removal, tally, system_actor(), frozenset(covered()))
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert (tally.records, tally.held) == (0, 1)
    _intact()
