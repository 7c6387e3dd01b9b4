"""Runs and scans: device time is the truth unless the clock drifts, retries are stored once,
bad input stores nothing, and each kind of exception is found."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from facility_log.models import RoundException, Run, Scan
from facility_log.services import rounds
from facility_log.services.accounts import system_actor
from facility_log.services.rounds import IdempotencyConflict, ScanInput
from tests.rounds_helpers import WHY, night_route, scan, walk

pytestmark = pytest.mark.django_db


def _kinds(run) -> list[str]:
    return sorted(run.exceptions.filter(withdrawn_at__isnull=True).values_list("kind", flat=True))


def _minute(moment):
    return moment.replace(second=0, microsecond=0)


def test_scans_synced_40_minutes_late_with_on_time_device_times_are_complete_and_on_time(
    personas,
):
    """The tablet walked the round in a basement and uploaded everything 40+ minutes later;
    meanwhile check_rounds ran and found the window empty. Once synced, nothing is held
    against the guard."""
    start = _minute(timezone.now() - timedelta(minutes=70))
    route, checkpoints = night_route(personas, minutes=(0, 10, 20))
    local = start.astimezone(personas.site_a.tzinfo)
    rounds.create_schedule(
        route,
        personas.manager_ab,
        reason=WHY,
        kind="fixed",
        fixed_times=[f"{local:%H:%M}"],
        grace_minutes=10,
        active_from=start - timedelta(minutes=1),
    )
    missed = rounds.check_rounds(system_actor(), now=start + timedelta(minutes=29))
    assert [m.kind for m in missed] == ["missed_round"]

    uploaded = timezone.now()  # the device's clock is right; it uploads 40+ min after
    run = rounds.start_run(route, personas.guard_a, started_at=start, client_uuid=uuid.uuid4())
    for checkpoint, minutes in zip(checkpoints, (1, 11, 19), strict=True):
        s = scan(
            personas.guard_a, run, checkpoint, start + timedelta(minutes=minutes), sent_at=uploaded
        )
        assert s.received_at - s.device_time >= timedelta(minutes=40)
        assert s.effective_time == s.device_time
    rounds.finish_run(run, personas.guard_a, finished_at=start + timedelta(minutes=20))

    assert run.window_start == start
    outcome = rounds.run_outcome(run)
    assert outcome.complete and outcome.on_time
    assert _kinds(run) == []
    assert run.scans.count() == 3
    assert not RoundException.objects.filter(withdrawn_at__isnull=True).exists()
    assert RoundException.objects.get().withdrawn_at is not None  # the missed round, withdrawn


def test_a_device_clock_ten_minutes_slow_is_flagged_and_corrected(personas):
    route, checkpoints = night_route(personas, minutes=(0, 10, 20))
    real_start = timezone.now() - timedelta(minutes=30)
    slow = timedelta(minutes=10)
    run = rounds.start_run(route, personas.guard_a, started_at=real_start)
    s = scan(
        personas.guard_a, run, checkpoints[0], real_start - slow, sent_at=timezone.now() - slow
    )
    drift = run.exceptions.get(kind="clock_drift")
    assert drift.scan == s and "+600 s" in drift.detail
    assert abs(s.clock_offset_seconds - 600) <= 2
    assert abs((s.effective_time - real_start).total_seconds()) <= 2  # judged on corrected time


def test_a_device_clock_in_the_future_is_flagged_without_upload_time(personas):
    route, checkpoints = night_route(personas)
    run = rounds.start_run(route, personas.guard_a)
    s = scan(personas.guard_a, run, checkpoints[0], timezone.now() + timedelta(seconds=100))
    assert s.clock_offset_seconds < 0
    assert _kinds(run) == []  # within the 120 s tolerance
    with pytest.raises(ValidationError) as error:
        scan(personas.guard_a, run, checkpoints[1], timezone.now() + timedelta(minutes=10))
    assert "device_time" in error.value.message_dict


def test_the_same_client_uuid_twice_is_one_scan_and_a_different_payload_is_refused(personas):
    route, checkpoints = night_route(personas)
    run = rounds.start_run(route, personas.guard_a)
    data = ScanInput(checkpoints[0].tag_code, uuid.uuid4(), timezone.now())
    first, created = rounds.record_scan(personas.guard_a, data, run=run)
    again, created_again = rounds.record_scan(personas.guard_a, data, run=run)
    assert created and not created_again and first.pk == again.pk
    assert Scan.objects.count() == 1
    changed = ScanInput(checkpoints[1].tag_code, data.client_uuid, data.device_time)
    with pytest.raises(IdempotencyConflict):
        rounds.record_scan(personas.guard_a, changed, run=run)
    assert Scan.objects.count() == 1


def test_typed_codes_ignore_case_and_dashes(personas):
    route, checkpoints = night_route(personas)
    run = rounds.start_run(route, personas.guard_a)
    typed = checkpoints[0].tag_display.lower()
    data = ScanInput(typed, uuid.uuid4(), timezone.now())
    assert rounds.record_scan(personas.guard_a, data, run=run)[0].checkpoint == checkpoints[0]


def test_tag_codes_are_random_unique_and_typeable(personas):
    from facility_log.models.rounds import TAG_ALPHABET, new_tag_code

    _route, checkpoints = night_route(personas, names=["A", "B", "C", "D"], minutes=(0, 1, 2, 3))
    codes = [c.tag_code for c in checkpoints] + [new_tag_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 12 and set(code) <= set(TAG_ALPHABET) for code in codes)
    # Not sequential: consecutive checkpoints share no long prefix, and every symbol is used.
    assert all(a[:4] != b[:4] for a, b in zip(codes[:4], codes[1:4], strict=False))
    assert set("".join(codes)) == set(TAG_ALPHABET)


@pytest.mark.parametrize("which", ["unknown", "other_site"])
def test_unknown_or_other_site_tag_is_refused_and_nothing_stored(personas, which):
    route, _ = night_route(personas)
    if which == "other_site":
        zone = personas.zone_b
        code = rounds.create_checkpoint(
            personas.site_b, personas.manager_ab, zone=zone, name="B gate", reason=WHY
        ).tag_code
    else:
        code = "ZZZZ-ZZZZ-ZZZZ"
    data = ScanInput(code, uuid.uuid4(), timezone.now())
    with pytest.raises(ValidationError) as error:
        rounds.record_scan(personas.guard_a, data, route=route)  # would start a run
    assert error.value.message_dict == {"tag_code": ["No checkpoint at ALPHA has this tag code."]}
    assert Scan.objects.count() == 0 and Run.objects.count() == 0
    assert Run.history.count() == 0


def test_a_scan_for_a_finished_run_is_refused_and_nothing_stored(personas):
    route, checkpoints = night_route(personas)
    run = walk(personas, route, checkpoints, timezone.now() - timedelta(hours=1), (0, 10, 20))
    before = Scan.objects.count()
    with pytest.raises(ValidationError) as error:
        scan(personas.guard_a, run, checkpoints[0], timezone.now())
    assert "run" in error.value.message_dict
    assert Scan.objects.count() == before
    with pytest.raises(ValidationError):
        rounds.finish_run(run, personas.guard_a)


def test_the_first_scan_starts_the_run(personas):
    route, checkpoints = night_route(personas)
    data = ScanInput(checkpoints[0].tag_code, uuid.uuid4(), timezone.now())
    s, _ = rounds.record_scan(personas.guard_a, data, route=route)
    assert s.run.guard == personas.guard_a and s.run.started_at == data.device_time


def test_the_outsider_cannot_walk_a_site_a_route(personas):
    route, checkpoints = night_route(personas)
    with pytest.raises(PermissionDenied):
        rounds.start_run(route, personas.outsider_c)
    run = rounds.start_run(route, personas.guard_a)
    with pytest.raises(PermissionDenied):
        scan(personas.outsider_c, run, checkpoints[0], timezone.now())
    assert Scan.objects.count() == 0


def test_each_kind_of_run_exception_is_found_once(personas):
    route, checkpoints = night_route(
        personas, names=["A", "B", "C", "D"], minutes=(0, 10, 20, 30), must_follow_order=True
    )
    outside = rounds.create_checkpoint(
        personas.site_a, personas.manager_ab, zone=personas.zone_a, name="Canteen", reason=WHY
    )
    a, b, c, _d = checkpoints
    start = timezone.now() - timedelta(hours=2)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    at = lambda minutes: start + timedelta(minutes=minutes)  # noqa: E731
    scan(personas.guard_a, run, a, at(1))
    scan(personas.guard_a, run, c, at(1) + timedelta(seconds=10))  # out of order; too fast
    scan(personas.guard_a, run, outside, at(5))  # not on route
    scan(personas.guard_a, run, c, at(6))  # duplicate
    scan(personas.guard_a, run, b, at(40))  # late (due 10 + 5 grace)
    rounds.finish_run(run, personas.guard_a, finished_at=at(41))  # D missed
    assert _kinds(run) == [
        "duplicate_scan",
        "late",
        "missed_checkpoint",
        "not_on_route",
        "out_of_order",
        "too_fast",
    ]
    count = RoundException.objects.count()
    with_history = RoundException.history.count()
    rounds.sync_run_exceptions(run, final=True)
    assert RoundException.objects.count() == count
    assert RoundException.history.count() == with_history


def test_random_order_shuffles_checkpoints_but_keeps_the_timing(personas):
    names = [f"P{n}" for n in range(8)]
    minutes = tuple(range(0, 80, 10))
    route, checkpoints = night_route(personas, names=names, minutes=minutes, random_order=True)
    plans = [rounds.start_run(route, personas.guard_a).plan for _ in range(4)]
    for plan in plans:
        assert sorted(s["checkpoint"] for s in plan) == sorted(c.pk for c in checkpoints)
        assert [s["minutes"] for s in plan] == list(minutes)
    assert len({tuple(s["checkpoint"] for s in plan) for plan in plans}) > 1


def test_an_open_run_past_its_time_is_overdue_once_and_withdrawn_when_finished_in_time(
    personas,
):
    route, checkpoints = night_route(personas)
    start = timezone.now() - timedelta(hours=3)
    run = rounds.start_run(route, personas.guard_a, started_at=start)
    first = rounds.check_rounds(system_actor())
    assert [e.kind for e in first] == ["overdue"]
    assert rounds.check_rounds(system_actor()) == []
    for checkpoint, minutes in zip(checkpoints, (0, 10, 20), strict=True):
        scan(personas.guard_a, run, checkpoint, start + timedelta(minutes=minutes))
    rounds.finish_run(run, personas.guard_a, finished_at=start + timedelta(minutes=21))
    assert _kinds(run) == []
