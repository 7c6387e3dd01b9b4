"""Shift pages: a site's shifts, and the daily activity report of a shift and of a site-day,
as pages and PDFs, in the site's time zone, in a fixed number of queries."""

import re
import shutil
import subprocess
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facility_log.services import incidents as incident_services
from facility_log.services.rounds import local_to_utc
from tests.incident_factories import category, submitted
from tests.rounds_helpers import night_route, walk
from tests.shifts_helpers import ago, entry, start, worked

pytestmark = pytest.mark.django_db


def _pdf_text(response, tmp_path) -> str:
    """The PDF's text in reading order, whitespace collapsed (table cells wrap)."""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def _local(site, day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour, minute)), site.tzinfo)


def _yesterday(site) -> date:
    return timezone.now().astimezone(site.tzinfo).date() - timedelta(days=1)


def _shift_with_everything(p):
    """Yesterday 08:00-20:00 at site A: notes received, two entries, a round, an incident."""
    day = _yesterday(p.site_a)
    worked(
        p,
        at=_local(p.site_a, day, 0),
        hours=7.5,
        guard=p.supervisor_a,
        notes="Handover: fire door 3 does not latch.",
    )
    shift = start(p, at=_local(p.site_a, day, 8))
    entry(shift, "Contractor for the lift signed in at reception", at=_local(p.site_a, day, 9))
    entry(shift, "Water on the floor in hall 2", at=_local(p.site_a, day, 8, 30), kind="patrol")
    route, checkpoints = night_route(p, route_name="Perimeter walk")
    walk(p, route, checkpoints, _local(p.site_a, day, 10), (0, 10, None))
    incident = submitted(p, occurred_from=_local(p.site_a, day, 11), title="Broken window")
    from facility_log.services.shifts import end_shift

    end_shift(shift, p.guard_a, ended_at=_local(p.site_a, day, 20), pass_down_notes="Lift fixed.")
    return shift, route, incident


def test_shift_report_lists_notes_entries_round_and_incident(personas, client_for):
    shift, route, incident = _shift_with_everything(personas)
    html = client_for("auditor_a").get(reverse("shift-report", args=[shift.pk])).content.decode()
    assert "Handover: fire door 3 does not latch." in html  # received
    assert "Lift fixed." in html  # left
    water, lift = html.index("Water on the floor"), html.index("Contractor for the lift")
    assert water < lift  # time order, not insertion order
    assert "Perimeter walk" in html and "2 of 3" in html and "Missed checkpoint" in html
    assert incident.number in html and "Broken window" in html
    assert reverse("incident-page", args=[incident.pk]) in html
    local = shift.started_at.astimezone(personas.site_a.tzinfo)
    assert f"{local:%Y-%m-%d} 08:00 {local.tzname()} (UTC+0" in html


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_shift_report_pdf_carries_the_same(personas, client_for, tmp_path):
    shift, route, incident = _shift_with_everything(personas)
    response = client_for("guard_a").get(reverse("shift-report-pdf", args=[shift.pk]))
    assert response["Content-Type"] == "application/pdf"
    day = _yesterday(personas.site_a)
    assert response["Content-Disposition"] == (
        f'attachment; filename="dar-ALPHA-{day:%Y-%m-%d}-shift-{shift.pk}.pdf"'
    )
    text = _pdf_text(response, tmp_path)
    for expected in (
        "Alpha Plant (ALPHA)",
        "Page 1 of",
        "Contractor for the lift signed in at reception",
        "Handover: fire door 3 does not latch.",
        "Perimeter walk",
        incident.number,
    ):
        assert expected in text, expected


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_site_day_report_and_pdf(personas, client_for, tmp_path):
    shift, route, incident = _shift_with_everything(personas)
    day = f"{_yesterday(personas.site_a):%Y-%m-%d}"
    client = client_for("supervisor_a")
    html = client.get(reverse("site-activity", args=["ALPHA", day])).content.decode()
    for expected in ("Water on the floor", "Perimeter walk", incident.number, "Lift fixed."):
        assert expected in html, expected
    assert reverse("shift-report", args=[shift.pk]) in html
    response = client.get(reverse("site-activity-pdf", args=["ALPHA", day]))
    assert response["Content-Disposition"] == f'attachment; filename="dar-ALPHA-{day}.pdf"'
    text = _pdf_text(response, tmp_path)
    for expected in ("Water on the floor", "Perimeter walk", incident.number, day, "Page 1 of"):
        assert expected in text, expected


def test_site_day_is_the_local_day_of_the_site(personas, client_for):
    """At New York (UTC-4/-5), 23:30 local belongs to that day, though it is the next day in
    UTC; 00:15 local belongs to the next day."""
    site = personas.site_c
    day = _yesterday(site) - timedelta(days=1)
    late = start(personas, at=_local(site, day, 23, 30), guard=personas.outsider_c, site=site)
    entry(late, "Night delivery at the lab dock", at=_local(site, day, 23, 40), kind="delivery")
    from facility_log.services.shifts import end_shift

    end_shift(late, personas.outsider_c, ended_at=_local(site, day, 23, 55))
    incident_services.create_incident(
        personas.outsider_c,
        site=site,
        client_uuid=uuid.uuid4(),
        category=category(),
        title="Lab door alarm at night",
        occurred_from=_local(site, day, 23, 45),
    )
    early = worked(
        personas,
        at=_local(site, day + timedelta(days=1), 0, 15),
        hours=1,
        guard=personas.outsider_c,
        site=site,
    )
    entry(early, "Early walk of the car park", at=early.started_at)
    client = client_for("outsider_c")
    that_day = client.get(reverse("site-activity", args=["CHARLIE", f"{day:%Y-%m-%d}"]))
    next_day = client.get(
        reverse("site-activity", args=["CHARLIE", f"{day + timedelta(days=1):%Y-%m-%d}"])
    )
    html, next_html = that_day.content.decode(), next_day.content.decode()
    assert "Night delivery at the lab dock" in html and "Lab door alarm at night" in html
    assert "Early walk of the car park" not in html
    assert "Early walk of the car park" in next_html
    assert "Night delivery" not in next_html and "Lab door alarm" not in next_html
    assert "23:40 EDT (UTC-04:00)" in html or "23:40 EST (UTC-05:00)" in html


def test_site_shifts_page_lists_shifts_and_leads_to_a_day(personas, client_for):
    ended = worked(personas, at=ago(hours=20), hours=8)
    current = start(personas, at=ago(hours=2))
    client = client_for("guard_a")
    html = client.get(reverse("site-shifts", args=["ALPHA"])).content.decode()
    for shift in (ended, current):
        assert reverse("shift-report", args=[shift.pk]) in html
    today = timezone.now().astimezone(personas.site_a.tzinfo).date()
    assert reverse("site-activity", args=["ALPHA", f"{today:%Y-%m-%d}"]) in html
    picked = client.get(reverse("site-shifts", args=["ALPHA"]), {"day": "2026-01-31"})
    assert picked.status_code == 302
    assert picked["Location"] == reverse("site-activity", args=["ALPHA", "2026-01-31"])
    assert (
        client.get(reverse("site-page", args=["ALPHA"]))
        .content.decode()
        .count(reverse("site-shifts", args=["ALPHA"]))
    )


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "2026-1-5", "20260105"])
def test_a_bad_day_is_a_404(personas, client_for, bad):
    client = client_for("guard_a")
    assert client.get(reverse("site-activity", args=["ALPHA", bad])).status_code == 404
    assert client.get(reverse("site-activity-pdf", args=["ALPHA", bad])).status_code == 404
    assert client.get(reverse("site-shifts", args=["ALPHA"]), {"day": bad}).status_code == 404


def test_outsider_gets_404_on_every_shift_page_of_site_a(personas, client_for):
    shift, _route, _incident = _shift_with_everything(personas)
    day = f"{_yesterday(personas.site_a):%Y-%m-%d}"
    client = client_for("outsider_c")
    for url in (
        reverse("shift-report", args=[shift.pk]),
        reverse("shift-report-pdf", args=[shift.pk]),
        reverse("site-shifts", args=["ALPHA"]),
        reverse("site-activity", args=["ALPHA", day]),
        reverse("site-activity-pdf", args=["ALPHA", day]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Water on the floor" not in response.content


def _fill(p, shift, day, route, checkpoints, n: int, offset: int) -> None:
    """n more entries, runs, incidents and (short, supervisor's) shifts on `day`."""
    for i in range(offset, offset + n):
        at = _local(p.site_a, day, 8) + timedelta(minutes=1 + i)
        entry(shift, f"Entry {i}", at=at)
        walk(p, route, checkpoints, _local(p.site_a, day, 9) + timedelta(minutes=4 * i), (0, 1))
        submitted(p, occurred_from=_local(p.site_a, day, 12) + timedelta(minutes=i))
        other = _local(p.site_a, day, 13) + timedelta(minutes=3 * i)
        worked(p, at=other, hours=1 / 30, guard=p.supervisor_a, notes=f"Notes {i}")


@pytest.mark.parametrize("name", ["shift-report", "site-activity", "site-shifts"])
def test_report_pages_query_count_does_not_grow_with_rows(personas, client_for, name):
    day = _yesterday(personas.site_a)
    shift = start(personas, at=_local(personas.site_a, day, 7, 30))
    route, checkpoints = night_route(personas, names=("Gate", "Dock"), minutes=(0, 5))
    args = {
        "shift-report": [shift.pk],
        "site-activity": ["ALPHA", f"{day:%Y-%m-%d}"],
        "site-shifts": ["ALPHA"],
    }[name]
    client = client_for("supervisor_a")
    _fill(personas, shift, day, route, checkpoints, 3, 0)
    with CaptureQueriesContext(connection) as few:
        html = client.get(reverse(name, args=args)).content.decode()
    assert name == "site-shifts" or html.count("Entry ") == 3
    _fill(personas, shift, day, route, checkpoints, 27, 3)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse(name, args=args)).content.decode()
    assert name == "site-shifts" or html.count("Entry ") == 30
    assert len(many) == len(few), (len(few), len(many))


def _unmasked(page: bytes) -> bytes:
    """The page without its CSRF token, masked anew on every response."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page)


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_shift_list_pages_are_the_bytes_the_orm_paginated(
    personas, client_for, monkeypatch, language
):
    """The site's shifts counted and paged by prepared statements: each page, one past the
    end and an unreadable page number read as Django's Paginator over the queryset read."""
    from facility_log.views import shifts as shift_views

    for n in range(5):
        worked(personas, at=ago(hours=20 + 10 * n), hours=8, notes=f"<b>n{n}</b>")
    current = start(personas, at=ago(hours=2))
    entry(current, "Gate checked", at=ago(hours=1))  # an entry counted on its row
    monkeypatch.setattr(shift_views, "PAGE_SIZE", 2)
    url = reverse("site-shifts", args=["ALPHA"])
    queries = ["", "?page=2", "?page=3", "?page=4", "?page=99", "?page=x"]
    for who in ("guard_a", "manager_ab"):
        client = client_for(who)
        client.cookies["django_language"] = language
        new = [client.get(url + query).content for query in queries]
        with monkeypatch.context() as old_path:
            old_path.setattr(shift_views, "_SiteShifts", shift_views._shift_rows)
            old = [client.get(url + query).content for query in queries]
        assert [_unmasked(page) for page in new] == [_unmasked(page) for page in old], who
        assert b"Page 1 of 3" in new[0] or b"Seite 1 von 3" in new[0]
    assert client_for("outsider_c").get(url).status_code == 404


def test_a_site_with_no_shifts_shows_an_empty_list(personas, client_for):
    """The empty first page: the Paginator asks for no rows at all (a slice [0:0])."""
    page = client_for("manager_ab").get(reverse("site-shifts", args=["BRAVO"]))
    assert page.status_code == 200
    assert "No shifts yet." in page.content.decode()
