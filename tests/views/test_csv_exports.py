"""Every CSV export, filled with hostile values in every text field a user or a door system
can set: no cell a spreadsheet would run as a formula, accents intact when Excel opens it,
leading zeros kept, and the site's local time beside UTC."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Role
from facility_log.services import accounts, sites
from facility_log.services.accounts import system_actor
from tests.access.helpers import door, ingest, row
from tests.incident_factories import submitted
from tests.rounds_helpers import night_route, walk

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NAME = "José Müller-Straße"


def _hostile(p) -> None:
    """Records whose every free-text field starts with a formula character."""
    why = "hostile test values"
    evil = accounts.create_user(
        system_actor(), username="@evil", password="x-" * 8, first_name="E", reason=why
    )
    sites.grant_membership(p.site_a, system_actor(), user=evil, role=Role.GUARD, reason=why)
    zone = sites.create_zone(p.site_a, p.manager_ab, name="=ZONE()", reason=why)
    submitted(
        p,
        author=evil,
        zone=zone,
        title="=HYPERLINK(1)",
        narrative="+narrative",
        location_text="-location",
        police_case_number="@case",
    )
    submitted(p, title=NAME, police_case_number="0042")
    door(p.site_a, p.zone_a, code="=D1")
    ingest(
        p.site_a,
        [
            row(
                line=2,
                door="=D1",
                source="=source",
                external_id="+ext",
                cardholder="-cardholder",
                credential="12345607",
            ),
            row(line=3, door="=D1", external_id="07", cardholder=NAME, source="\tsrc"),
        ],
    )
    vendor_row = row(line=2, door="=D1", external_id="k-1", vendor="kisi", vendor_type="@vendor")
    ingest(p.site_a, [vendor_row], vendor="kisi")
    route, cps = night_route(p, route_name="@route")
    walk(p, route, cps, timezone.now() - timedelta(hours=2), (0, 10, 20), guard=evil)


def _exports(p) -> dict[str, str]:
    today = timezone.now().astimezone(p.site_a.tzinfo).date()
    rounds = reverse("rounds-report-csv", args=[p.site_a.code])
    return {
        "incidents": reverse("incident-export"),
        "access events": reverse("access-event-list") + "?format=csv",
        "rounds compliance": f"{rounds}?start={today - timedelta(days=1)}&end={today}",
    }


def _as_excel_reads(data: bytes) -> list[list[str]]:
    """Excel's rule: a UTF-8 BOM means UTF-8, anything else the ANSI code page (cp1252)."""
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1252")
    return list(csv.reader(io.StringIO(text, newline="")))


def _download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.getvalue()


def test_no_cell_of_any_export_starts_a_formula(personas, client_for):
    _hostile(personas)
    client = client_for("manager_ab")
    for name, url in _exports(personas).items():
        rows = _as_excel_reads(_download(client, url))
        assert len(rows) > 1, name
        cells = [cell for line in rows for cell in line]
        bad = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
        assert not bad, (name, bad)
        assert any(cell.startswith("'") for cell in cells), (name, "the hostile values are there")


def test_the_hostile_values_come_back_whole_after_the_quote(personas, client_for):
    _hostile(personas)
    client = client_for("manager_ab")
    exports = _exports(personas)
    expected = {
        "incidents": {"=HYPERLINK(1)", "+narrative", "-location", "@case", "=ZONE()", "@evil"},
        "access events": {"=D1", "=source", "+ext", "-cardholder", "@vendor", "\tsrc", "07"},
        "rounds compliance": {"@route", "@evil"},
    }
    for name, values in expected.items():
        cells = {c for line in _as_excel_reads(_download(client, exports[name])) for c in line}
        unquoted = {c[1:] if c.startswith("'") else c for c in cells}
        assert values <= unquoted, (name, values - unquoted)


def test_accents_survive_excel_and_leading_zeros_are_kept_as_text(personas, client_for):
    _hostile(personas)
    client = client_for("manager_ab")
    incidents = _as_excel_reads(_download(client, reverse("incident-export")))
    header = incidents[0]
    titles = [line[header.index("title")] for line in incidents[1:]]
    assert NAME in titles
    assert "'0042" in [line[header.index("police_case_number")] for line in incidents[1:]]
    data = _download(client, reverse("access-event-list") + "?format=csv")
    events = _as_excel_reads(data)
    header = events[0]
    assert NAME in [line[header.index("cardholder")] for line in events[1:]]
    assert "'07" in [line[header.index("credential_hint")] for line in events[1:]]
    assert b'"\'07"' in data  # quoted text: a spreadsheet importing it as text keeps it too


def test_times_are_in_utc_and_in_the_sites_zone(personas, client_for):
    _hostile(personas)
    events = _as_excel_reads(
        _download(client_for("manager_ab"), reverse("access-event-list") + "?format=csv")
    )
    header = events[0]
    assert header[2:4] == ["occurred_at_utc", "occurred_at_local"]
    line = events[1]
    # 2026-03-28 22:00 UTC is 23:00 in Berlin (site A), winter time.
    assert line[2:4] == ["2026-03-28T22:00:00Z", "2026-03-28 23:00:00 +01:00"]
    incidents = _as_excel_reads(_download(client_for("manager_ab"), reverse("incident-export")))
    assert "occurred_from_local" in incidents[0] and "occurred_to_utc" in incidents[0]


def test_exports_cost_the_same_queries_for_more_rows(personas, client_for):
    _hostile(personas)
    client = client_for("manager_ab")
    urls = _exports(personas)
    counts_before = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            _download(client, url)
        counts_before[name] = len(queries)
    _hostile_again(personas)
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            _download(client, url)
        assert len(queries) == counts_before[name], name


def _hostile_again(p) -> None:
    submitted(p, title="=again")
    ingest(p.site_a, [row(line=2, door="=D1", external_id=f"more-{n}") for n in range(5)])
    route, cps = night_route(p, route_name="@route2", names=("A2", "B2", "C2"))
    walk(p, route, cps, timezone.now() - timedelta(hours=1), (0, 10, 20))
