"""services/csv_export.py: the one helper every CSV goes through."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from facility_log.services.csv_export import (
    NUMBER,
    TIME,
    Column,
    csv_text,
    local_cell,
    text_cell,
    utc_cell,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tlook", "'\tlook"),
        ("\rlook", "'\rlook"),
        ("'quoted", "''quoted"),
        ("07", "'07"),
        ("0042", "'0042"),
        ("1e5", "'1e5"),
        ("3,50", "'3,50"),
        ("José Müller-Straße", "José Müller-Straße"),
        ("Gate 07", "Gate 07"),
        ("2026-03-28", "2026-03-28"),
        ("", ""),
        (None, ""),
    ],
)
def test_text_cells_are_safe_and_keep_leading_zeros(value, written):
    assert text_cell(value) == written


def test_the_quote_rule_is_reversible():
    """A text cell starting with ' holds the value without that first character."""
    for value in ["=1", "'", "''x", "07", "plain", "-", "@"]:
        cell = text_cell(value)
        assert (cell[1:] if cell.startswith("'") else cell) == value


def test_times_are_written_in_utc_and_in_the_site_zone_with_its_offset():
    winter = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    summer = datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert utc_cell(winter) == "2026-03-28T22:00:00Z"
    assert local_cell(winter, BERLIN) == "2026-03-28 23:00:00 +01:00"
    assert local_cell(summer, BERLIN) == "2026-03-30 00:00:00 +02:00"
    assert utc_cell(None) == local_cell(None, BERLIN) == ""


def test_a_file_starts_with_a_bom_quotes_text_and_leaves_numbers_bare():
    columns = [
        Column("name", lambda r: r["name"]),
        Column("count", lambda r: r["count"], NUMBER),
        Column("at", lambda r: r["at"], TIME),
    ]
    rows = [{"name": "José Müller-Straße", "count": 3, "at": datetime(2026, 1, 5, 8, tzinfo=UTC)}]
    data = csv_text(columns, rows, lambda r: BERLIN).encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines == [
        '"name","count","at_utc","at_local"',
        '"José Müller-Straße",3,"2026-01-05T08:00:00Z","2026-01-05 09:00:00 +01:00"',
    ]


def test_every_csv_the_application_writes_goes_through_the_helper():
    """No module writes CSV on its own (the readers of imported files only read)."""
    package = Path(__file__).resolve().parents[2] / "facility_log"
    writers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "csv.writer" in path.read_text() or 'content_type="text/csv' in path.read_text()
    )
    assert writers == ["services/csv_export.py"]


def test_excel_reads_the_bom_and_keeps_accents():
    """Excel sees the BOM, reads UTF-8, and shows the name intact (as cp1252 without a BOM
    it would be mojibake: the reason the BOM is there)."""
    text = csv_text([Column("n", lambda r: r)], ["José Müller-Straße"], lambda r: BERLIN)
    data = text.encode("utf-8")
    assert _as_excel_reads(data)[1] == ["José Müller-Straße"]
    assert "JosÃ©" in data[3:].decode("cp1252", errors="replace")


def _as_excel_reads(data: bytes) -> list[list[str]]:
    """Excel's rule: a UTF-8 BOM means UTF-8; otherwise the ANSI code page (cp1252)."""
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1252")
    return list(csv.reader(io.StringIO(text)))
