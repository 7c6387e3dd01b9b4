"""The dashboard's figures for a seeded year of site A, against figures worked out by hand
from tests/dashboard_helpers.py (site time: Europe/Berlin)."""

from datetime import date

import pytest

from facility_log.models import RoundException
from facility_log.services.dashboard import Period, dashboard_figures, month_period
from facility_log.services.dashboard.figures import median, p90
from facility_log.services.rounds.sign_off import sign_off_exceptions
from tests.dashboard_helpers import NOW, WALKED_DAYS, seed_year

YEAR = Period(date(2025, 12, 1), date(2026, 11, 30))


@pytest.fixture
def year(personas, monkeypatch):
    return seed_year(personas, monkeypatch)


def _by_month(dash, attribute):
    return {f"{row.start:%Y-%m}": getattr(row, attribute) for row in dash.buckets}


@pytest.mark.django_db
def test_incidents_by_month_category_and_severity_match_the_hand_count(personas, year):
    dash = dashboard_figures([personas.site_a], YEAR, now=NOW)
    assert dash.period.unit == "month"
    # Dec: the theft at 00:30 on Dec 1 in Berlin (Nov 30 in UTC); Jan: two trespasses;
    # Jun: a theft; Nov: a vandalism. Not: the draft, the void report, the one at 23:30 on
    # Nov 30 in Berlin, the one at site B.
    months = _by_month(dash, "incidents")
    assert months == {
        "2025-12": 1,
        "2026-01": 2,
        "2026-02": 0,
        "2026-03": 0,
        "2026-04": 0,
        "2026-05": 0,
        "2026-06": 1,
        "2026-07": 0,
        "2026-08": 0,
        "2026-09": 0,
        "2026-10": 0,
        "2026-11": 1,
    }
    assert dash.incidents == 5
    assert [(name, n) for _, name, n in dash.categories] == [
        ("Trespass", 2),
        ("Theft", 2),
        ("Vandalism", 1),
    ]
    assert [(value, n) for value, _, n in dash.severities] == [
        ("low", 2),
        ("medium", 1),
        ("high", 1),
        ("critical", 1),
    ]
    january = next(row for row in dash.buckets if row.start == date(2026, 1, 1))
    assert dict(january.by_severity) == {"low": 1, "medium": 1}


@pytest.mark.django_db
def test_heat_map_is_in_the_sites_local_time(personas, year):
    dash = dashboard_figures([personas.site_a], YEAR, now=NOW)
    cells = {
        (day, hour): n for day, counts in dash.heatmap_rows for hour, n in enumerate(counts) if n
    }
    # Mon 00:30 (Sun 23:30 UTC), Thu 14:10 and 14:50, Wed 23:30 (21:30 UTC), Thu 08:00.
    assert cells == {("Mon", 0): 1, ("Thu", 14): 2, ("Wed", 23): 1, ("Thu", 8): 1}


@pytest.mark.django_db
def test_round_compliance_counts_windows_due_walked_and_missed(personas, year):
    dash = dashboard_figures([personas.site_a], YEAR, now=NOW)
    # 08:00 every day from Nov 9 to Nov 20 (13:00 on the 20th: its grace is over): 12 due,
    # 8 walked, 4 recorded missed by check_rounds, and one run outside the schedule.
    november = next(row for row in dash.buckets if row.start == date(2026, 11, 1))
    assert (november.windows_due, november.windows_walked, november.missed_recorded) == (12, 8, 4)
    assert november.unscheduled_runs == 1
    assert (dash.windows_due, dash.windows_walked, dash.compliance_percent) == (12, 8, 66.7)
    assert sum(row.windows_due for row in dash.buckets if row.start != date(2026, 11, 1)) == 0


@pytest.mark.django_db
def test_round_compliance_per_day_and_per_week(personas, year):
    november = dashboard_figures([personas.site_a], month_period(2026, 11), now=NOW)
    assert november.period.unit == "day"
    by_day = {row.first_day.day: (row.windows_due, row.windows_walked) for row in november.buckets}
    assert by_day == {
        day: ((1, int(day in WALKED_DAYS)) if 9 <= day <= 20 else (0, 0)) for day in range(1, 31)
    }
    # Eight weeks (Monday first), the first and last cut to the period: Nov 2–8, 9–15 (7 due,
    # walked 9, 10, 11, 13, 14), 16–22 (5 due by NOW, walked 16, 17, 20), …
    weeks = dashboard_figures(
        [personas.site_a], Period(date(2026, 11, 2), date(2026, 12, 27)), now=NOW
    )
    assert weeks.period.unit == "week"
    by_week = {row.first_day: (row.windows_due, row.windows_walked) for row in weeks.buckets}
    assert by_week[date(2026, 11, 9)] == (7, 5)
    assert by_week[date(2026, 11, 16)] == (5, 3)
    assert sum(due for due, _ in by_week.values()) == 12


@pytest.mark.django_db
def test_alarm_time_to_acknowledge_median_and_p90(personas, year):
    dash = dashboard_figures([personas.site_a], YEAR, now=NOW)
    # Acknowledged after 2.5, 4, 10, 30 (January) and 1, 3, 5 (June) minutes; one in
    # November never. Sorted: 1, 2.5, 3, 4, 5, 10, 30: median 4; p90 by nearest rank is the
    # ceil(0.9 × 7) = 7th value, 30.
    assert (dash.alarms_raised, dash.alarms_acknowledged, dash.alarms_unacknowledged) == (8, 7, 1)
    assert (dash.ack_median, dash.ack_p90) == (4, 30)
    january = next(row for row in dash.buckets if row.start == date(2026, 1, 1))
    june = next(row for row in dash.buckets if row.start == date(2026, 6, 1))
    assert (january.ack_median, january.ack_p90) == (7.0, 30)  # (4 + 10) / 2; 4th of 4
    assert (june.ack_median, june.ack_p90) == (3, 5)


@pytest.mark.django_db
def test_open_items_count_what_waits_now_with_its_age(personas, year):
    dash = dashboard_figures([personas.site_a], YEAR, now=NOW)
    items = {item.kind: item for item in dash.open_items}
    # Waiting for review: the vandalism report submitted two days ago, and the one from
    # before the period (open items are what waits now, whenever it came in), submitted on
    # 2025-11-30 at 23:40 in Berlin (22:40 UTC).
    reports = items["reports"]
    assert (reports.count, reports.over_1_day, reports.over_7_days) == (2, 2, 1)
    assert reports.oldest.isoformat() == "2025-11-30T22:40:00+00:00"
    assert reports.oldest_age_hours == 8509.3  # 354 days 13 h 20 min
    assert reports.oldest_age_text == "354.6 days"
    # Not resolved: the three June alarms (acknowledged) and November's (new); the oldest
    # raised on June 1 at 22:00 in Berlin (20:00 UTC).
    alarms = items["alarms"]
    assert (alarms.count, alarms.over_1_day, alarms.over_7_days) == (4, 4, 4)
    assert alarms.oldest_age_hours == (NOW - alarms.oldest).total_seconds() / 3600
    assert alarms.oldest.isoformat() == "2026-06-01T20:00:00+00:00"
    # The four missed rounds, found by check_rounds at NOW; one signed off leaves three.
    exceptions = items["exceptions"]
    assert (exceptions.count, exceptions.over_1_day) == (4, 0)
    first = RoundException.objects.filter(site=personas.site_a).first()
    sign_off_exceptions(personas.site_a, personas.supervisor_a, [first.pk], comment="called")
    dash = dashboard_figures([personas.site_a], YEAR, now=NOW)
    assert next(i for i in dash.open_items if i.kind == "exceptions").count == 3


@pytest.mark.django_db
def test_across_sites_each_site_counts_on_its_own(personas, year):
    dash = dashboard_figures([personas.site_a, personas.site_b], YEAR, now=NOW)
    per_site = {row.site.code: row.incidents for row in dash.per_site}
    assert per_site == {"ALPHA": 5, "BRAVO": 1}
    assert dash.incidents == 6
    assert _by_month(dash, "incidents")["2026-05"] == 1


def test_median_and_p90_by_hand():
    assert median([]) is None and p90([]) is None
    assert median([3]) == 3 and p90([3]) == 3
    assert median([1, 2, 3, 4]) == 2.5
    assert p90(list(range(1, 11))) == 9  # the 9th of 10
    assert p90(list(range(1, 12))) == 10  # ceil(9.9) = 10th of 11
