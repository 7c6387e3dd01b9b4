"""The open alarms counted per (site, type, state) by the database's triggers (migration 0032,
services/alarm_counts.py): right after every kind of write of an alarm, never written by the
application, read by the console, and every difference named by verify_audit."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from facility_log.models import Alarm, AlarmState, OpenAlarmCount
from facility_log.models.base import HistoryBypassError
from facility_log.services import access, alarm_counts, panic
from facility_log.services.verify import verify_audit
from tests.access.helpers import door, ingest, row

pytestmark = pytest.mark.django_db

TRIGGERS = {f"facility_log_alarm_count_{op}" for op in ("insert", "update", "delete")}


def _kept() -> dict[tuple[int, str, str], int]:
    """The kept counts that are not zero (a pair whose alarms all closed keeps a 0)."""
    return {
        (c.site_id, c.event_type, c.state): c.count for c in OpenAlarmCount.objects.all() if c.count
    }


def _problems() -> list[str]:
    return [str(p) for p in verify_audit(record_checkpoint=False).problems]


def _import(site, zone, types: list[str], prefix: str = "e") -> list[Alarm]:
    door(site, zone)
    rows = [
        row(line=n + 2, event_type=kind, external_id=f"{prefix}-{n}")
        for n, kind in enumerate(types)
    ]
    ingest(site, rows)
    return list(Alarm.objects.filter(site=site, event__external_id__startswith=f"{prefix}-"))


def test_the_triggers_are_installed():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'facility_log_alarm'::regclass"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'facility_log_alarm'"
            )
        names = {name for (name,) in cursor.fetchall()}
    assert names >= TRIGGERS


def test_counts_follow_imports_panics_acknowledging_resolving_and_escalating(personas):
    a, b = personas.site_a.pk, personas.site_b.pk
    alarms = _import(personas.site_a, personas.zone_a, ["forced_open"] * 3 + ["tamper", "granted"])
    _import(personas.site_b, personas.zone_b, ["held_open"] * 2, prefix="b")
    assert _kept() == {
        (a, "forced_open", "new"): 3,
        (a, "tamper", "new"): 1,
        (b, "held_open", "new"): 2,
    }
    assert _kept() == alarm_counts.recount()

    forced = [x for x in alarms if x.event_type == "forced_open"]
    access.acknowledge_alarm(forced[0], personas.supervisor_a, note="on my way")
    access.acknowledge_alarms(forced[1:], personas.supervisor_a, note="both seen")
    access.resolve_alarm(forced[0], personas.supervisor_a, note="door closed")
    duress, created = panic.raise_panic(
        personas.guard_a,
        site=personas.site_a,
        client_uuid=uuid.uuid4(),
        pressed_at=timezone.now() - timedelta(minutes=1),
    )
    assert created
    access.set_alarm_rule(
        personas.site_a,
        personas.manager_ab,
        event_type="tamper",
        escalate_after_minutes=0,
        reason="tamper escalates at once",
    )
    call_command("check_alarms", stdout=StringIO())  # escalates: no count moves
    assert _kept() == {
        (a, "forced_open", "acknowledged"): 2,
        (a, "tamper", "new"): 1,
        (a, "duress", "new"): 1,
        (b, "held_open", "new"): 2,
    }
    assert _kept() == alarm_counts.recount()
    assert OpenAlarmCount.objects.get(site_id=a, event_type="forced_open", state="new").count == 0
    assert _problems() == []


def test_a_count_changed_behind_the_application_is_named_and_the_recount_is_intact(personas):
    _import(personas.site_a, personas.zone_a, ["forced_open"] * 2)
    assert _problems() == []
    table = OpenAlarmCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {table} SET "count" = 7')  # noqa: S608
    problems = _problems()
    assert problems == [
        f"no entry (open alarm count (site {personas.site_a.pk}, forced_open, new)): says 7, "
        "the alarms hold 2 (changed behind the database's triggers)"
    ]
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {table} SET "count" = 2')  # noqa: S608
    assert _problems() == []


def test_a_missing_count_row_is_named(personas):
    _import(personas.site_a, personas.zone_a, ["tamper"])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {OpenAlarmCount._meta.db_table}")  # noqa: S608
    assert _problems() == [
        f"no entry (open alarm count (site {personas.site_a.pk}, tamper, new)): says 0, "
        "the alarms hold 1 (changed behind the database's triggers)"
    ]


def test_the_application_cannot_write_the_counts(personas):
    _import(personas.site_a, personas.zone_a, ["tamper"])
    count = OpenAlarmCount.objects.get()
    for write in (
        count.save,
        count.delete,
        lambda: OpenAlarmCount.objects.update(count=0),
        lambda: OpenAlarmCount.objects.all().delete(),
        lambda: OpenAlarmCount.objects.create(site=personas.site_a, event_type="x", state="new"),
        lambda: OpenAlarmCount.objects.bulk_create([]),
    ):
        with pytest.raises(HistoryBypassError):
            write()
    assert _kept() == {(personas.site_a.pk, "tamper", "new"): 1}


def test_open_counts_of_more_sites_than_one_prepared_read_names(personas):
    _import(personas.site_a, personas.zone_a, ["tamper", "tamper"])
    _import(personas.site_b, personas.zone_b, ["duress"], prefix="b")
    many = [personas.site_a.pk, *range(10**6, 10**6 + alarm_counts.PREPARED_SITES)]
    for site_ids in ([personas.site_a.pk], many, [personas.site_a.pk, personas.site_b.pk]):
        found = {
            (c.site_id, c.event_type, c.state): c.count for c in alarm_counts.open_counts(site_ids)
        }
        assert found == alarm_counts.recount(site_ids)
    assert alarm_counts.open_counts([]) == []


def test_console_counts_equal_the_alarms_under_every_filter(personas, client_for):
    _import(personas.site_a, personas.zone_a, ["forced_open"] * 3 + ["tamper", "held_open"])
    _import(personas.site_b, personas.zone_b, ["duress", "tamper"], prefix="b")
    first = Alarm.objects.filter(site=personas.site_a, event_type="forced_open").first()
    access.acknowledge_alarm(first, personas.supervisor_a, note="seen")
    client = client_for("manager_ab")
    scoped = Alarm.objects.exclude(state=AlarmState.RESOLVED)
    for query, narrow in (
        ("", {}),
        ("site=ALPHA", {"site": personas.site_a}),
        ("type=tamper", {"event_type": "tamper"}),
        ("state=acknowledged", {"state": AlarmState.ACKNOWLEDGED}),
        ("state=new&site=BRAVO", {"state": AlarmState.NEW, "site": personas.site_b}),
        ("door=D-1", {"door__code": "D-1"}),
        (
            "door=D-1&state=new&type=forced_open",
            {"door__code": "D-1", "state": "new", "event_type": "forced_open"},
        ),
        ("door=NOPE", {"door__code": "NOPE"}),
    ):
        counts = client.get(f"/access/alarms/feed/?{query}").json()["counts"]
        expected = scoped.filter(**narrow)
        assert counts["total"] == expected.count(), query
        assert counts["new"] == expected.filter(state=AlarmState.NEW).count(), query
        assert counts["acknowledged"] == expected.filter(state="acknowledged").count(), query
    # The outsider's console counts nothing of A's or B's alarms.
    outsider = client_for("outsider_c").get("/access/alarms/feed/").json()
    assert outsider["counts"]["total"] == 0 and outsider["alarms"] == []
