"""The auditors' search of the view log: who may open it, what each auditor sees, the filters
(days in each site's zone), keyset pages of 50 and a query count that does not grow."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.services import view_log
from tests.incident_factories import draft

URL = "/audit/views/"


def _read_at(monkeypatch, when: datetime, viewer, obj, site, label: str, via="page"):
    monkeypatch.setattr(timezone, "now", lambda: when)
    view = view_log.record_view(viewer, obj, site=site, label=label, via=via)
    monkeypatch.undo()
    return view


def _labels(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_is_registered_at_its_url():
    assert reverse("audit-view-log") == URL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("auditor_a", 200), ("manager_ab", 200), ("guard_a", 403), ("outsider_c", 403)],
)
def test_the_view_log_is_for_auditors_and_managers(personas, client_for, who, status):
    assert client_for(who).get(URL).status_code == status


@pytest.mark.django_db
def test_each_auditor_sees_only_the_sites_audited(personas, client_for):
    view_log.record_view(personas.guard_a, personas.zone_a, site=personas.site_a, label="ZA-read")
    view_log.record_view(
        personas.manager_ab, personas.zone_b, site=personas.site_b, label="ZB-read"
    )
    html = _labels(client_for("auditor_a").get(URL))
    assert "ZA-read" in html and "ZB-read" not in html
    html = _labels(client_for("manager_ab").get(URL))
    assert "ZA-read" in html and "ZB-read" in html
    # A site the auditor does not audit cannot be chosen: nothing is shown.
    assert "ZA-read" not in _labels(client_for("auditor_a").get(URL, {"site": "BRAVO"}))


@pytest.mark.django_db
def test_search_by_user_record_and_route(personas, client_for):
    incident = draft(personas)
    view_log.incident_read(personas.guard_a, incident, "page")
    view_log.incident_read(personas.supervisor_a, incident, "history")
    view_log.record_view(personas.guard_a, personas.zone_a, site=personas.site_a, label="Lobby")
    client = client_for("auditor_a")
    by_user = _labels(client.get(URL, {"user": "supervisor"}))
    assert "supervisor_a" in by_user and "Lobby" not in by_user
    by_record = _labels(client.get(URL, {"record": incident.label}))
    assert by_record.count(f"<td>{incident.label}</td>") == 2 and "Lobby" not in by_record
    by_route = _labels(client.get(URL, {"via": "history"}))
    assert "history page" in by_route and "guard_a" not in by_route.split("<tbody>")[1]


@pytest.mark.django_db
def test_days_are_the_sites_local_days_and_times_carry_the_offset(
    personas, client_for, monkeypatch
):
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # Berlin: the 29th, 00:30; London: 28th
    _read_at(monkeypatch, late, personas.guard_a, personas.zone_a, personas.site_a, "A-late")
    _read_at(monkeypatch, late, personas.manager_ab, personas.zone_b, personas.site_b, "B-late")
    client = client_for("manager_ab")
    on_29th = _labels(client.get(URL, {"day_from": "2026-03-29", "day_to": "2026-03-29"}))
    assert "A-late" in on_29th and "B-late" not in on_29th
    assert "2026-03-29 00:30 CET (UTC+01:00)" in on_29th
    on_28th = _labels(client.get(URL, {"day_to": "2026-03-28"}))
    assert "B-late" in on_28th and "A-late" not in on_28th
    assert "2026-03-28 23:30 GMT (UTC+00:00)" in on_28th
    alpha_28th = _labels(client.get(URL, {"site": "ALPHA", "day_from": "2026-03-28"}))
    assert "A-late" in alpha_28th and "B-late" not in alpha_28th
    backwards = client.get(URL, {"day_from": "2026-03-29", "day_to": "2026-03-28"})
    assert "The last day is before the first." in _labels(backwards)


def _many_reads(personas, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        view_log.record_view(
            personas.guard_a, personas.zone_a, site=personas.site_a, label=f"read-{n:04d}"
        )


def _page_labels(html: str) -> list[str]:
    import re

    return re.findall(r"<td>(read-\d{4})</td>", html)


@pytest.mark.django_db
def test_pages_of_50_newest_first_with_nothing_lost_or_repeated(personas, client_for):
    _many_reads(personas, 120)
    client = client_for("auditor_a")
    seen, url, pages = [], f"{URL}?user=guard", 0
    while url:
        html = _labels(client.get(url))
        labels = _page_labels(html)
        assert len(labels) <= 50
        seen += labels
        pages += 1
        older = [part for part in html.split('href="') if "before=" in part.split('"')[0]]
        url = URL + older[0].split('"')[0].replace("&amp;", "&") if older else None
        assert url is None or "user=guard" in url
    assert pages == 3
    assert seen == [f"read-{n:04d}" for n in range(119, -1, -1)]


@pytest.mark.django_db
def test_newer_links_lead_back_to_the_same_pages_while_reads_are_logged(personas, client_for):
    _many_reads(personas, 120)
    client = client_for("auditor_a")

    def link(html: str, name: str) -> str | None:
        found = [p for p in html.split('href="') if f"{name}=" in p.split('"')[0]]
        return URL + found[0].split('"')[0].replace("&amp;", "&") if found else None

    first = _labels(client.get(f"{URL}?user=guard"))
    assert link(first, "after") is None
    second = _labels(client.get(link(first, "before")))
    third = _labels(client.get(link(second, "before")))
    _many_reads(personas, 3, start=500)  # logged meanwhile: they go before the first page
    back = _labels(client.get(link(third, "after")))
    assert _page_labels(back) == _page_labels(second)
    assert _page_labels(_labels(client.get(link(back, "after")))) == _page_labels(first)


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_log(personas, client_for):
    client = client_for("manager_ab")
    query = {"record": "read", "day_from": "2020-01-01", "day_to": "2099-12-31"}

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            _labels(client.get(URL, query))
        return len(captured)

    _many_reads(personas, 10)
    few = count()
    _many_reads(personas, 110, start=10)
    many = count()
    assert many == few, (few, many)
    print(f"view-log page: {few} queries for 10 and 120 rows")
