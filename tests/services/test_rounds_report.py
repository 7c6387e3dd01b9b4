"""The compliance report over one seeded week equals what was computed by hand."""

from datetime import date, time

import pytest

from facility_log.services import accounts, rounds, sites
from facility_log.services.accounts import system_actor
from facility_log.services.rounds_report import compliance_csv, compliance_report
from tests.rounds_helpers import WHY, night_route, utc, walk

pytestmark = pytest.mark.django_db

# Week of Monday 2026-06-01 .. Sunday 2026-06-07, Europe/Berlin (CEST, UTC+2).
# Schedule: fixed 23:00 local = 21:00 UTC, grace 15 min. Route of 4 stops at 0/10/20/30 min.
WEEK_START = date(2026, 6, 1)


def _build_week(p, second_guard):
    route, cps = night_route(p, names=["A", "B", "C", "D"], minutes=(0, 10, 20, 30))
    rounds.create_schedule(
        route,
        p.manager_ab,
        reason=WHY,
        kind="fixed",
        fixed_times=["23:00"],
        grace_minutes=15,
        active_from=utc(2026, 6, 1),
        active_until=utc(2026, 6, 8),
    )
    night = lambda day: utc(2026, 6, day, 21)  # noqa: E731
    # Mon: guard_a, all 4 on time.
    walk(p, route, cps, night(1), (0, 10, 20, 30))
    # Tue: guard_a, D late (due 30+15=45, scanned at 50): 3 of 4.
    walk(p, route, cps, night(2), (0, 10, 20, 50))
    # Wed: nobody walks: missed round.
    # Thu: second guard, C never scanned: 3 of 4.
    walk(p, route, cps, night(4), (0, 10, None, 30), guard=second_guard)
    # Fri: guard_a, B and C late: 2 of 4.
    walk(p, route, cps, night(5), (0, 30, 40, 44))
    # Sat: second guard, all on time.
    walk(p, route, cps, night(6), (1, 11, 21, 31), guard=second_guard)
    # Sun: missed round.
    rounds.check_rounds(system_actor(), now=utc(2026, 6, 8, 12), since=utc(2026, 6, 1))
    return route


def test_week_of_rounds_report_matches_hand_computed_expectation(personas):
    guard_b = accounts.create_user(personas.admin, username="guard_b", password=None, reason="t")
    sites.grant_membership(personas.site_a, personas.admin, user=guard_b, role="guard", reason="t")
    route = _build_week(personas, guard_b)

    rows = compliance_report(personas.site_a, start=WEEK_START, end=date(2026, 6, 7))
    got = [
        (
            r.day.day,
            r.guard.username if r.guard else None,
            r.runs,
            r.checkpoints_expected,
            r.checkpoints_on_time,
            r.percent_on_time,
            r.missed_rounds,
        )
        for r in rows
    ]
    assert got == [
        (1, "guard_a", 1, 4, 4, 100.0, 0),
        (2, "guard_a", 1, 4, 3, 75.0, 0),
        (3, None, 0, 0, 0, None, 1),
        (4, "guard_b", 1, 4, 3, 75.0, 0),
        (5, "guard_a", 1, 4, 2, 50.0, 0),
        (6, "guard_b", 1, 4, 4, 100.0, 0),
        (7, None, 0, 0, 0, None, 1),
    ]
    # Whole week by hand: 16 of 20 checkpoints on time = 80 %; 2 of 7 rounds missed.
    assert sum(r.checkpoints_on_time for r in rows) == 16
    assert sum(r.checkpoints_expected for r in rows) == 20
    assert sum(r.missed_rounds for r in rows) == 2

    only_a = compliance_report(
        personas.site_a, start=WEEK_START, end=date(2026, 6, 7), guard=personas.guard_a
    )
    assert [(r.day.day, r.checkpoints_on_time) for r in only_a] == [(1, 4), (2, 3), (5, 2)]
    one_route = compliance_report(personas.site_a, start=WEEK_START, end=WEEK_START, route=route)
    assert [r.percent_on_time for r in one_route] == [100.0]


def test_report_csv_has_one_line_per_row(personas):
    route, cps = night_route(personas)
    walk(personas, route, cps, utc(2026, 6, 1, 21), (0, 10, 20))
    rows = compliance_report(personas.site_a, start=WEEK_START, end=WEEK_START)
    text = compliance_csv(personas.site_a, rows)
    # services/csv_export.py: a BOM, text quoted, numbers bare.
    assert text.splitlines() == [
        '\ufeff"site","day","route","guard","runs","checkpoints_expected","checkpoints_on_time",'
        '"percent_on_time","missed_rounds"',
        '"ALPHA","2026-06-01","Night round","guard_a",1,3,3,100.0,0',
    ]


def test_report_day_is_the_local_day(personas):
    """A run at 23:30 local on June 1st is 21:30 UTC; at 00:30 local on June 2nd, 22:30 UTC."""
    route, cps = night_route(personas)
    walk(personas, route, cps, utc(2026, 6, 1, 22, 30), (0, 10, 20))
    rows = compliance_report(personas.site_a, start=WEEK_START, end=WEEK_START)
    assert rows == []
    rows = compliance_report(personas.site_a, start=date(2026, 6, 2), end=date(2026, 6, 2))
    assert [r.day for r in rows] == [date(2026, 6, 2)]
    assert time(0, 30) == utc(2026, 6, 1, 22, 30).astimezone(personas.site_a.tzinfo).time()


def test_report_csv_defuses_spreadsheet_formulas_in_names(personas):
    route, cps = night_route(personas, route_name="=HYPERLINK(1)")
    walk(personas, route, cps, utc(2026, 6, 1, 21), (0, 10, 20))
    rows = compliance_report(personas.site_a, start=WEEK_START, end=WEEK_START)
    assert ',"\'=HYPERLINK(1)",' in compliance_csv(personas.site_a, rows)
