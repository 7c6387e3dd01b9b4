"""Schedule windows in the site's local wall time, across both daylight-saving changes of
2026 in Europe/Berlin (site A), and runs walked in them."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from facility_log.models import RoundException, Run, Schedule
from facility_log.services import rounds
from facility_log.services.accounts import system_actor
from tests.rounds_helpers import WHY, every_two_hours, night_route, utc, walk

BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.django_db


def _local(windows):
    return [w.astimezone(BERLIN).strftime("%d %H:%M %Z") for w in windows]


def test_spring_night_has_five_windows_and_the_missing_two_oclock_becomes_three(personas):
    route, _ = night_route(personas)
    schedule = every_two_hours(personas, route, active_from=utc(2026, 3, 1))
    windows = rounds.schedule_windows(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert windows == [
        utc(2026, 3, 28, 21),  # 22:00 CET
        utc(2026, 3, 28, 23),  # 00:00 CET
        utc(2026, 3, 29, 1),  # 02:00 does not exist: 03:00 CEST
        utc(2026, 3, 29, 2),  # 04:00 CEST
        utc(2026, 3, 29, 4),  # 06:00 CEST
    ]
    assert _local(windows) == [
        "28 22:00 CET",
        "29 00:00 CET",
        "29 03:00 CEST",
        "29 04:00 CEST",
        "29 06:00 CEST",
    ]


def test_autumn_night_has_five_windows_and_the_repeated_two_oclock_happens_once(personas):
    route, _ = night_route(personas)
    schedule = every_two_hours(personas, route, active_from=utc(2026, 10, 1))
    windows = rounds.schedule_windows(schedule, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert windows == [
        utc(2026, 10, 24, 20),  # 22:00 CEST
        utc(2026, 10, 24, 22),  # 00:00 CEST
        utc(2026, 10, 25, 0),  # 02:00, first occurrence (CEST)
        utc(2026, 10, 25, 3),  # 04:00 CET: three real hours later
        utc(2026, 10, 25, 5),  # 06:00 CET
    ]


@pytest.mark.parametrize(
    ("night_start", "night_end"),
    [
        (utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)),
        (utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)),
    ],
    ids=["spring", "autumn"],
)
def test_runs_walked_on_time_across_dst_are_on_time_and_no_round_is_missed(
    personas, night_start, night_end
):
    route, checkpoints = night_route(personas, minutes=(0, 50, 70))
    schedule = every_two_hours(personas, route, active_from=night_start - timedelta(days=5))
    windows = rounds.schedule_windows(schedule, night_start, night_end)
    runs = [walk(personas, route, checkpoints, w, (0, 50, 70)) for w in windows]
    assert [(r.schedule_id, r.window_start) for r in runs] == [(schedule.pk, w) for w in windows]
    assert all(rounds.run_outcome(r).on_time for r in runs)
    assert not RoundException.objects.exists()
    assert rounds.check_rounds(system_actor(), now=night_end, since=night_start) == []


def test_a_run_crossing_the_autumn_change_is_judged_in_real_minutes(personas):
    """02:00 CEST + 70 minutes is 02:10 CET on the wall: still on time, not 'early'."""
    route, checkpoints = night_route(personas, minutes=(0, 50, 70))
    every_two_hours(personas, route, active_from=utc(2026, 10, 1))
    run = walk(personas, route, checkpoints, utc(2026, 10, 25, 0), (2, 52, 80))
    assert run.window_start == utc(2026, 10, 25, 0)
    assert not RoundException.objects.exists()
    assert rounds.run_outcome(run).on_time
    late = walk(personas, route, checkpoints, utc(2026, 10, 25, 3), (0, 50, 70 + 16))
    assert rounds.run_outcome(late).complete and not rounds.run_outcome(late).on_time
    assert list(late.exceptions.values_list("kind", flat=True)) == ["late"]


def test_a_run_missing_its_window_grace_is_not_tied_to_the_window(personas):
    route, checkpoints = night_route(personas)
    every_two_hours(personas, route, active_from=utc(2026, 3, 1), grace=15)
    run = walk(personas, route, checkpoints, utc(2026, 3, 28, 21, 16), (0, 10, 20))
    assert run.schedule is None and run.window_start is None


def test_fixed_times_are_local_and_deduplicated(personas):
    route, _ = night_route(personas)
    schedule = rounds.create_schedule(
        route,
        personas.manager_ab,
        reason=WHY,
        kind="fixed",
        fixed_times=["02:00", "03:00", "23:30"],
        active_from=utc(2026, 3, 1),
    )
    windows = rounds.schedule_windows(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    # 02:00 does not exist on the 29th and lands on 03:00: one window, not two.
    assert windows == [utc(2026, 3, 28, 22, 30), utc(2026, 3, 29, 1)]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"kind": "every", "start_time": time(22), "end_time": time(22), "every_hours": 2},
            "end_time",
        ),
        (
            {
                "kind": "every",
                "start_time": time(22),
                "end_time": time(6),
                "every_hours": 2,
                "active_from": utc(2026, 5, 1),
                "active_until": utc(2026, 4, 1),
            },
            "active_until",
        ),
        ({"kind": "every", "start_time": time(22), "end_time": time(6)}, "every_hours"),
        ({"kind": "fixed", "fixed_times": ["25:00"]}, "fixed_times"),
        ({"kind": "fixed", "fixed_times": []}, "fixed_times"),
    ],
)
def test_a_schedule_whose_window_cannot_happen_is_refused_naming_the_field(personas, fields, named):
    route, _ = night_route(personas)
    with pytest.raises(ValidationError) as error:
        rounds.create_schedule(route, personas.manager_ab, reason=WHY, **fields)
    assert named in error.value.message_dict
    assert Schedule.objects.count() == 0
    assert Schedule.history.count() == 0


def test_window_period_ending_before_it_starts_is_refused(personas):
    route, _ = night_route(personas)
    schedule = every_two_hours(personas, route, active_from=utc(2026, 3, 1))
    with pytest.raises(ValidationError) as error:
        rounds.schedule_windows(schedule, utc(2026, 3, 29), utc(2026, 3, 28))
    assert "until" in error.value.message_dict


def test_overnight_window_from_22_to_06_is_valid_and_runs_past_midnight(personas):
    route, _ = night_route(personas)
    schedule = every_two_hours(personas, route, active_from=utc(2026, 1, 1))
    assert schedule.pk and Run.objects.count() == 0
    windows = rounds.schedule_windows(schedule, utc(2026, 1, 10, 12), utc(2026, 1, 11, 12))
    assert len(windows) == 5 and windows[-1] == utc(2026, 1, 11, 5)
