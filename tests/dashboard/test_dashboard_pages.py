"""The dashboard pages and the monthly site report: who sees them, what they show, what
they cost in queries, and a PDF that qpdf and pdftotext accept."""

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from facility_log.models import Incident
from facility_log.services import access
from facility_log.services import incidents as svc
from tests.access.helpers import door, ingest, row
from tests.dashboard_helpers import NOW, Clock, berlin, seed_year
from tests.incident_factories import category, draft
from tests.rounds_helpers import night_route, walk

YEAR_QUERY = {"date_from": "2025-12-01", "date_to": "2026-11-30"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["supervisor_a", "manager_ab", "auditor_a", "admin"])
def test_supervisors_managers_and_auditors_see_the_site_dashboard(name, personas, client_for):
    response = client_for(name).get(reverse("site-dashboard", args=["ALPHA"]))
    assert response.status_code == 200
    assert b"<svg" in response.content
    assert b"Last 30 days" in response.content


@pytest.mark.django_db
def test_a_guard_is_refused_and_the_outsider_told_nothing(personas, client_for):
    guard, outsider = client_for("guard_a"), client_for("outsider_c")
    for name, kwargs in [
        ("site-dashboard", {"code": "ALPHA"}),
        ("site-monthly-report-pdf", {"code": "ALPHA", "month": "2026-01"}),
        ("site-monthly-report-csv", {"code": "ALPHA", "month": "2026-01"}),
    ]:
        url = reverse(name, kwargs=kwargs)
        assert guard.get(url).status_code == 403
        response = outsider.get(url)
        assert response.status_code == 404
        assert b"Alpha" not in response.content
    assert guard.get(reverse("dashboard")).status_code == 403
    assert outsider.get(reverse("dashboard")).status_code == 403


@pytest.mark.django_db
def test_the_dashboard_across_sites_lists_only_the_users_sites(personas, client_for, monkeypatch):
    seed_year(personas, monkeypatch)
    body = client_for("manager_ab").get(reverse("dashboard"), YEAR_QUERY).content.decode()
    assert "ALPHA – Alpha Plant" in body and "BRAVO – Bravo Depot" in body
    assert "CHARLIE" not in body
    # The supervisor of A sees A alone.
    body = client_for("supervisor_a").get(reverse("dashboard"), YEAR_QUERY).content.decode()
    assert "ALPHA – Alpha Plant" in body and "BRAVO" not in body


@pytest.mark.django_db
def test_charts_link_to_the_lists_they_count(personas, client_for, monkeypatch):
    seed_year(personas, monkeypatch)
    client = client_for("supervisor_a")
    body = client.get(reverse("site-dashboard", args=["ALPHA"]), YEAR_QUERY).content.decode()
    trespass = category("Trespass").pk
    link = (
        f"/incidents/?site=ALPHA&amp;date_from=2025-12-01&amp;date_to=2026-11-30"
        f"&amp;category={trespass}"
    )
    assert f'<a href="{link}">' in body
    assert "<title>Trespass: 2</title>" in body
    # The link opens the incident list with those two incidents (the list also shows the
    # void report of April, which the dashboard does not count).
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    counted = Incident.objects.filter(site=personas.site_a, category=trespass, status="approved")
    assert counted.count() == 2
    for incident in counted:
        assert incident.number in listed
    # The January bar of the incidents over time, and the rounds report of November.
    assert "/incidents/?site=ALPHA&amp;date_from=2026-01-01&amp;date_to=2026-01-31" in body
    assert "/sites/ALPHA/rounds/report/?start=2026-11-01&amp;end=2026-11-30" in body
    assert "8/12" in body  # November's rounds: walked of due, written on the bar


@pytest.mark.django_db
def test_bad_period_names_the_field(personas, client_for):
    client = client_for("supervisor_a")
    url = reverse("site-dashboard", args=["ALPHA"])
    response = client.get(url, {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()
    assert b"<svg" not in response.content
    response = client.get(url, {"date_from": "2020-01-01", "date_to": "2026-04-01"})
    assert "At most 731 days at once." in response.content.decode()
    response = client.get(url, {"preset": "last_month"})
    assert b"<svg" in response.content


@pytest.mark.django_db
def test_an_impossible_month_is_not_found(personas, client_for):
    client = client_for("supervisor_a")
    for month in ("2026-13", "2026-1", "26-01", "latest"):
        url = f"/sites/ALPHA/reports/monthly/{month}.pdf"
        assert client.get(url).status_code == 404, month


def _add_volume(p, monkeypatch, n: int, offset_days: int) -> None:
    """`n` more incidents, alarms (acknowledged) and runs at site A, and incidents at B."""
    clock = Clock(monkeypatch, NOW)
    door(p.site_a, p.zone_a, "D-1")
    route, checkpoints = night_route(
        p, names=(f"Cp{offset_days}",), minutes=(0,), route_name=f"Route {offset_days}"
    )
    for i in range(n):
        at = berlin(2026, 3, 1, 8, 0) + timedelta(days=offset_days + i, hours=i)
        clock.set(at)
        svc.submit_incident(draft(p, occurred_from=at, severity="medium"), p.guard_a)
        ingest(
            p.site_a,
            [
                row(
                    event_type="forced_open",
                    external_id=f"v{offset_days}-{i}",
                    occurred_at=at.isoformat(),
                )
            ],
        )
        alarm = p.site_a.alarms.get(event__external_id=f"v{offset_days}-{i}")
        clock.set(at + timedelta(minutes=i + 1))
        access.acknowledge_alarm(alarm, p.supervisor_a, note="seen")
        walk(p, route, checkpoints, at, [1])


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["site-dashboard", "dashboard"])
def test_the_dashboard_costs_the_same_queries_for_a_year_however_many_rows(
    name, personas, client_for, monkeypatch
):
    seed_year(personas, monkeypatch)
    client = client_for("manager_ab")
    url = reverse(name, args=["ALPHA"] if name == "site-dashboard" else [])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, YEAR_QUERY).status_code == 200
        return len(captured)

    before = queries()
    _add_volume(personas, monkeypatch, 3, 0)
    small = queries()
    _add_volume(personas, monkeypatch, 30, 100)
    assert queries() == small == before
    # Sign-in and session, the site and the role (site page), then 11 for the figures. The
    # session's authenticator is read with the user (facility_log/signed_in.py), no query more;
    # on PostgreSQL the session, its authenticator and the memberships are one round trip.
    if connection.vendor == "postgresql":
        assert before == 14
    else:
        assert before == {"site-dashboard": 16, "dashboard": 15}[name]


@pytest.mark.django_db
def test_monthly_csv_has_the_figures(personas, client_for, monkeypatch):
    seed_year(personas, monkeypatch)
    response = client_for("manager_ab").get(
        reverse("site-monthly-report-csv", args=["ALPHA", "2026-01"])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="monthly-ALPHA-2026-01.csv"'
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    lines = text.splitlines()
    assert lines[0] == '\ufeff"site","figure","bucket","key","value"'
    assert '"ALPHA","incidents","","total",2' in lines
    assert '"ALPHA","incidents_by_category","","Trespass",2' in lines
    assert '"ALPHA","alarms","","minutes_to_acknowledge_median",7.0' in lines
    assert '"ALPHA","alarms","","minutes_to_acknowledge_p90",30.0' in lines
    assert '"ALPHA","incidents_per_day","2026-01-15","total",2' in lines
    assert '"ALPHA","incidents_by_weekday_hour","Thu","\'14",2' in lines


@pytest.mark.django_db
@pytest.mark.skipif(
    not (shutil.which("qpdf") and shutil.which("pdftotext")),
    reason="qpdf and poppler-utils (pdftotext) are not installed",
)
def test_monthly_pdf_passes_qpdf_and_reads_as_text(personas, client_for, monkeypatch, tmp_path):
    seed_year(personas, monkeypatch)
    response = client_for("auditor_a").get(
        reverse("site-monthly-report-pdf", args=["ALPHA", "2026-01"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "monthly.pdf"
    pdf.write_bytes(response.content)
    check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(text.split())  # lines wrap where the page ends them
    assert "Monthly site report: Alpha Plant, 2026-01" in text
    assert "Trespass" in text
    assert "median 7 min" in text and "90th percentile 30 min" in text
    assert "Reports waiting for review" in text
    assert "Page 1 of" in text


@pytest.mark.django_db
def test_the_incident_list_reads_a_chosen_sites_dates_as_its_local_days(
    personas, client_for, monkeypatch
):
    """The dashboard's links name local days: 00:30 on 1 December in Berlin is 23:30 on
    30 November in UTC, and the list for site A on 1 December holds it."""
    Clock(monkeypatch, NOW)
    late = svc.submit_incident(
        draft(personas, occurred_from=berlin(2025, 12, 1, 0, 30)), personas.guard_a
    )
    client = client_for("supervisor_a")
    url = reverse("incident-list")
    day = {"site": "ALPHA", "date_from": "2025-12-01", "date_to": "2025-12-01"}
    assert late.number in client.get(url, day).content.decode()
    day_before = {"site": "ALPHA", "date_from": "2025-11-30", "date_to": "2025-11-30"}
    assert late.number not in client.get(url, day_before).content.decode()
    # Without a site the days stay UTC days, as before.
    assert late.number in client.get(url, {"date_from": "2025-11-30"}).content.decode()


@pytest.mark.django_db
def test_monthly_pdf_html_names_nothing_to_fetch(personas, monkeypatch):
    """Rendered from one string with no base URL: no stylesheet, image, font or link for a
    restrictive url_fetcher to refuse."""
    from facility_log.services.dashboard import dashboard_figures, month_period
    from facility_log.services.dashboard.report import charts_for

    seed_year(personas, monkeypatch)
    dash = dashboard_figures([personas.site_a], month_period(2026, 1), now=NOW)
    html = render_to_string(
        "facility_log/dashboard/monthly_pdf.html",
        {
            "dash": dash,
            "site": personas.site_a,
            "month": "2026-01",
            "generated_at": NOW,
            "charts": charts_for(dash, links=False),
        },
    )
    html = html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, never fetched
    for fetchable in ("<link", "src=", "url(", "href=", "@import", "http:", "https:"):
        assert fetchable not in html, fetchable
    assert html.count("<svg") == 6
