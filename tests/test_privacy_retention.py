"""PRIVACY.md states the retention defaults the settings hold, exactly."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# The words PRIVACY.md's table starts each kind's row with.
ROW_START = {
    "access_events": "Access-control events",
    "rounds": "Round data",
    "shifts": "Shift logs",
    "incidents": "Incidents that are closed or void",
    "view_log": "Record-view log",
    "visitors": "Visitor day sheets",
}


def test_privacy_md_states_each_retention_default():
    text = (ROOT / "PRIVACY.md").read_text()
    section = text[text.index("## How long") :]
    defaults = settings.FACILITY_LOG["RETENTION_DAYS"]
    assert set(defaults) == set(ROW_START)
    for kind, days in defaults.items():
        row = re.search(rf"^\| {re.escape(ROW_START[kind])}[^\n]*$", section, re.MULTILINE)
        assert row, f"PRIVACY.md has no row for {kind}"
        assert f"| {days} days" in row.group(0), (kind, days, row.group(0))


def test_docs_state_the_same_defaults():
    text = (ROOT / "docs" / "retention.md").read_text()
    for kind, days in settings.FACILITY_LOG["RETENTION_DAYS"].items():
        assert re.search(rf"^\| `{kind}` \| {days} days", text, re.MULTILINE), kind
