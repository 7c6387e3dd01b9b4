"""Each sample file imports with the counts its content implies, twice adds nothing, and a
bad line refuses the whole file with the line named."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from facility_log.models import AccessEvent, Alarm, ImportBatch
from facility_log.models.access import DEFAULT_ALARM_TYPES
from tests.access.helpers import SAMPLES, csv_rows, sample_doors

# Gallagher Command Centre type names (the sample's types are real ones, by id and group).
GALLAGHER_ALARM_TYPES = {"Forced Door", "Door Open Too Long", "Unit Tampered", "DURESS, Entry OK"}
GALLAGHER_NOT_DOORS = {"Controller Offline"}  # from a controller: skipped, counted


def _import(name: str, fmt: str, site_code: str) -> str:
    out = StringIO()
    call_command("import_access_events", str(SAMPLES / name), site=site_code, fmt=fmt, stdout=out)
    return out.getvalue()


@pytest.fixture
def hq(personas):
    sample_doors(personas.site_a, personas.zone_a)
    return personas.site_a


def _expected_generic(name: str) -> dict:
    rows = csv_rows(SAMPLES / name)
    keys = [(r["source"], r["external_id"]) for r in rows]
    unique = dict.fromkeys(keys)
    alarms = {
        (r["source"], r["external_id"]) for r in rows if r["event_type"] in DEFAULT_ALARM_TYPES
    }
    return {"rows": len(rows), "unique": len(unique), "alarms": len(alarms)}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["generic.csv", "duplicates.csv"])
def test_generic_sample_imports_with_expected_counts_and_twice_adds_nothing(hq, name):
    expected = _expected_generic(name)
    out = _import(name, "generic-csv", hq.code)
    duplicates = expected["rows"] - expected["unique"]
    assert f"{expected['rows']} events read, {expected['unique']} stored" in out
    assert f"{duplicates} duplicates skipped, {expected['alarms']} alarms raised" in out
    assert AccessEvent.objects.filter(site=hq).count() == expected["unique"]
    assert Alarm.objects.filter(site=hq).count() == expected["alarms"]

    again = _import(name, "generic-csv", hq.code)
    assert f"0 stored, {expected['rows']} duplicates skipped" in again
    assert AccessEvent.objects.filter(site=hq).count() == expected["unique"]
    assert Alarm.objects.filter(site=hq).count() == expected["alarms"]


@pytest.mark.django_db
def test_duplicates_sample_stores_repeated_lines_once(hq):
    rows = csv_rows(SAMPLES / "duplicates.csv")
    first_line: dict = {}
    repeats = []
    for line, r in enumerate(rows, start=2):  # line 1 is the header
        key = (r["source"], r["external_id"])
        if key in first_line:
            repeats.append((line, first_line[key]))
        first_line.setdefault(key, line)
    # The README says "lines 32–36 repeat lines 7–11"; the file as shipped has 35 lines and
    # its last five repeat lines 6–10. Either way: five repeats, each stored once.
    assert repeats == [(31, 6), (32, 7), (33, 8), (34, 9), (35, 10)]
    _import("duplicates.csv", "generic-csv", hq.code)
    batch = ImportBatch.objects.get(site=hq)
    assert (batch.total, batch.created, batch.duplicates) == (len(rows), len(first_line), 5)
    assert AccessEvent.objects.filter(site=hq).count() == len(first_line)


@pytest.mark.django_db
def test_kisi_sample_imports_every_body_and_twice_adds_nothing(hq):
    bodies = json.loads((SAMPLES / "kisi-webhooks.json").read_text())
    denied = sum(1 for b in bodies if b["success"] is False)
    _import("kisi-webhooks.json", "kisi-json", hq.code)
    events = AccessEvent.objects.filter(site=hq, source="kisi")
    assert events.count() == len({b["uuid"] for b in bodies})
    assert events.filter(event_type="denied").count() == denied
    assert events.filter(event_type="granted").count() == len(bodies) - denied
    assert set(events.values_list("vendor_type", flat=True)) == {"lock.unlock"}
    _import("kisi-webhooks.json", "kisi-json", hq.code)
    assert AccessEvent.objects.filter(site=hq).count() == len(bodies)


@pytest.mark.django_db
def test_gallagher_sample_maps_every_type_and_twice_adds_nothing(hq):
    page = json.loads((SAMPLES / "gallagher-events.json").read_text())["events"]
    alarms = sum(1 for e in page if e["type"]["name"] in GALLAGHER_ALARM_TYPES)
    skipped = sum(1 for e in page if e["type"]["name"] in GALLAGHER_NOT_DOORS)
    out = _import("gallagher-events.json", "gallagher-json", hq.code)
    assert f"{skipped} event(s) skipped from sources that are not doors: Controller 1" in out
    events = AccessEvent.objects.filter(site=hq, source="gallagher")
    assert events.count() == len(page) - skipped
    assert not events.filter(event_type="other").exists()
    assert events.filter(event_type="held_open").count() == sum(
        1 for e in page if e["type"]["name"] == "Door Open Too Long"
    )
    assert Alarm.objects.filter(site=hq).count() == alarms
    _import("gallagher-events.json", "gallagher-json", hq.code)
    assert AccessEvent.objects.filter(site=hq).count() == len(page) - skipped
    assert Alarm.objects.filter(site=hq).count() == alarms


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "line", "column"),
    [("bad-timestamp-row-41.csv", 41, "occurred_at"), ("unknown-door-row-21.csv", 21, "door")],
)
def test_bad_sample_is_refused_whole_with_the_line_named(hq, name, line, column):
    with pytest.raises(CommandError) as refused:
        _import(name, "generic-csv", hq.code)
    assert f"line {line}, column {column}" in str(refused.value)
    assert "nothing imported" in str(refused.value)
    assert AccessEvent.objects.count() == 0
    assert ImportBatch.objects.count() == 0
    assert Alarm.objects.count() == 0


@pytest.mark.django_db
def test_unknown_door_error_names_the_door(hq):
    with pytest.raises(CommandError, match="no door 'D-NOPE-GATE-B'"):
        _import("unknown-door-row-21.csv", "generic-csv", hq.code)


@pytest.mark.django_db
def test_every_bad_line_is_named_not_only_the_first(hq, tmp_path):
    lines = (SAMPLES / "generic.csv").read_text().splitlines()
    lines[4] = lines[4].replace("2026-03-28", "2026-02-30")  # line 5
    lines[9] = lines[9].replace(",granted,", ",opened_wide,")  # line 10
    lines[14] = lines[14].replace("D-", "X-", 1)  # line 15
    bad = tmp_path / "three-bad.csv"
    bad.write_text("\ufeff" + "\n".join(lines) + "\n")
    with pytest.raises(CommandError) as refused:
        call_command("import_access_events", str(bad), site=hq.code, fmt="generic-csv")
    message = str(refused.value)
    for expected in ("line 5, column occurred_at", "line 10, column event_type", "line 15"):
        assert expected in message
    assert "3 bad line(s)" in message
    assert AccessEvent.objects.count() == 0


@pytest.mark.django_db
def test_missing_column_is_refused_naming_it(hq, tmp_path):
    bad = tmp_path / "no-door.csv"
    bad.write_text("source,external_id,occurred_at,event_type\nctl,1,2026-03-28T22:00:00Z,rex\n")
    with pytest.raises(CommandError, match="column door: Missing required column"):
        call_command("import_access_events", str(bad), site=hq.code, fmt="generic-csv")


@pytest.mark.django_db
def test_import_command_reports_progress_on_stderr(hq):
    err = StringIO()
    call_command(
        "import_access_events",
        str(SAMPLES / "generic.csv"),
        site=hq.code,
        fmt="generic-csv",
        progress_every=100,
        stderr=err,
        stdout=StringIO(),
    )
    lines = err.getvalue().splitlines()
    assert lines[:3] == ["checked 100 rows", "checked 200 rows", "checked 300 rows"]
    assert lines[-1] == "stored 300 of 300 rows"


@pytest.mark.django_db
def test_import_command_refuses_an_unknown_site(personas):
    with pytest.raises(CommandError, match="No site with code 'NOPE'"):
        _import("generic.csv", "generic-csv", "NOPE")


@pytest.mark.django_db
def test_a_door_is_found_by_its_external_id_for_that_source(personas):
    from facility_log.services import access
    from tests.access.helpers import door, ingest, row

    main = door(personas.site_a, personas.zone_a, "D-MAIN")
    access.add_door_external_id(
        main, personas.manager_ab, source="ctl-7", external_id="0x1F", reason="controller 7 wiring"
    )
    ingest(personas.site_a, [row(source="ctl-7", door="0x1F")])
    assert AccessEvent.objects.get().door == main
    with pytest.raises(access.IngestRefused, match="no door '0x1F'"):
        ingest(personas.site_a, [row(source="ctl-8", door="0x1F", external_id="other")])


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_or_not_csv_is_refused_cleanly(hq, tmp_path):
    latin = tmp_path / "latin1.csv"
    header = "source,external_id,occurred_at,door,event_type,cardholder\n"
    latin.write_bytes(
        header.encode() + "ctl,1,2026-03-28T22:00:00Z,D-MAIN,rex,Jos\xe9\n".encode("latin-1")
    )
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_access_events", str(latin), site=hq.code, fmt="generic-csv")
    broken = tmp_path / "nul.csv"
    broken.write_bytes(header.encode() + b'ctl,2,"2026-03-28T22:00:00Z\n')
    with pytest.raises(CommandError, match="refused"):
        call_command("import_access_events", str(broken), site=hq.code, fmt="generic-csv")
    assert AccessEvent.objects.count() == 0
