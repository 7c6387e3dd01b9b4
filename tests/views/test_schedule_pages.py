"""Schedules from the set-up pages: a manager adds one and sees a week of its windows in the
site's time, with the clock-change days marked."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from facility_log.models import Schedule
from facility_log.services import rounds
from tests.rounds_helpers import WHY, night_route

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_schedule_and_sees_its_week(personas, client_for):
    route, _ = night_route(personas)
    client = client_for("manager_ab")
    response = client.post(
        reverse("schedule-add", args=["ALPHA"]),
        {
            "route": route.pk,
            "kind": "fixed",
            "fixed_times": "08:00, 21:30",
            "grace_minutes": "15",
            "reason": "day and evening rounds",
        },
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    schedule = Schedule.objects.get()
    assert schedule.fixed_times == ["08:00", "21:30"]
    tomorrow = timezone.localtime(timezone.now(), personas.site_a.tzinfo).date() + timedelta(days=1)
    html = client.get(
        reverse("schedules", args=["ALPHA"]), {"week": tomorrow.isoformat()}
    ).content.decode()
    # Seven days, each with both windows in Berlin wall-clock time.
    assert html.count(">08:00</time> Night round") == 7
    assert html.count(">21:30</time> Night round") == 7


def test_the_week_marks_the_clock_change_and_keeps_wall_clock_times(personas, client_for):
    route, _ = night_route(personas)
    rounds.create_schedule(
        route,
        personas.manager_ab,
        reason=WHY,
        kind="every",
        start_time=time(22),
        end_time=time(6),
        every_hours=2,
        active_from=timezone.now() - timedelta(days=400),
    )
    # Europe/Berlin: summer time ends on Sunday 25 October 2026 (03:00 → 02:00).
    days = rounds.week_view(personas.site_a, date(2026, 10, 22))
    change = {day.day: day.clock_change for day in days if day.clock_change}
    assert change == {date(2026, 10, 25): "clocks go back 1 h (UTC+02:00 → UTC+01:00)"}
    sunday = next(day for day in days if day.day == date(2026, 10, 25))
    # 00:00, 02:00 (once, though it happens twice), 04:00, 06:00 and 22:00 on the wall clock.
    assert [w.local.strftime("%H:%M") for w in sunday.windows] == [
        "00:00",
        "02:00",
        "04:00",
        "06:00",
        "22:00",
    ]
    html = (
        client_for("manager_ab")
        .get(reverse("schedules", args=["ALPHA"]), {"week": "2026-10-22"})
        .content.decode()
    )
    assert "Daylight saving: clocks go back 1 h" in html
    spring = rounds.week_view(personas.site_a, date(2027, 3, 25))
    assert [d.clock_change for d in spring if d.clock_change] == [
        "clocks go forward 1 h (UTC+01:00 → UTC+02:00)"
    ]


def test_schedule_errors_name_the_field_and_save_nothing(personas, client_for):
    route, _ = night_route(personas)
    client = client_for("manager_ab")
    url = reverse("schedule-add", args=["ALPHA"])
    html = client.post(
        url, {"route": route.pk, "kind": "every", "grace_minutes": "15", "reason": "x"}
    ).content.decode()
    assert "Required for a schedule that repeats every N hours" in html
    html = client.post(
        url,
        {
            "route": route.pk,
            "kind": "fixed",
            "fixed_times": "25:00",
            "grace_minutes": "5",
            "reason": "x",
        },
    ).content.decode()
    assert "&#x27;25:00&#x27; is not a time" in html or "'25:00' is not a time" in html
    assert not Schedule.objects.exists()
    bad_week = client.get(reverse("schedules", args=["ALPHA"]), {"week": "soon"}, follow=True)
    assert "The week must be a date" in bad_week.content.decode()


def test_ending_a_schedule_asks_why_and_stops_its_windows(personas, client_for):
    route, _ = night_route(personas)
    schedule = rounds.create_schedule(
        route,
        personas.manager_ab,
        reason=WHY,
        kind="fixed",
        fixed_times=["08:00"],
        active_from=timezone.now() - timedelta(days=1),
    )
    client = client_for("manager_ab")
    url = reverse("schedule-end", args=["ALPHA", schedule.pk])
    assert "End the schedule" in client.get(url).content.decode()
    client.post(url, {"reason": "site closed at weekends"})
    schedule.refresh_from_db()
    assert not schedule.is_active
    assert schedule.history.latest().history_change_reason == "site closed at weekends"
    today = timezone.localtime(timezone.now(), personas.site_a.tzinfo).date()
    assert all(not d.windows for d in rounds.week_view(personas.site_a, today + timedelta(days=1)))


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "outsider_c"])
def test_only_managers_set_up_schedules(personas, client_for, who):
    route, _ = night_route(personas)
    client = client_for(who)
    assert client.get(reverse("schedules", args=["ALPHA"])).status_code in (403, 404)
    response = client.post(
        reverse("schedule-add", args=["ALPHA"]),
        {
            "route": route.pk,
            "kind": "fixed",
            "fixed_times": "08:00",
            "grace_minutes": "5",
            "reason": "x",
        },
    )
    assert response.status_code in (403, 404)
    assert not Schedule.objects.exists()
