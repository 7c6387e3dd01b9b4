"""A year of site-A data for the dashboard tests, built through the real services with the
clock set to each moment (alarms are raised at their arrival time, acknowledgements and
submissions stamped with "now").

What the dashboard must find for site A in Dec 2025 – Nov 2026 (site time, Europe/Berlin)
is written out by hand in tests/dashboard/test_dashboard_figures.py.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from facility_log.models import Alarm
from facility_log.services import access, rounds
from facility_log.services import incidents as svc
from facility_log.services.accounts import system_actor
from tests.access.helpers import door, ingest, row
from tests.incident_factories import category, draft
from tests.rounds_helpers import night_route, walk

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 13:00 in Berlin, a Friday


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


class Clock:
    """`django.utils.timezone.now` set by hand (the services read the time from there)."""

    def __init__(self, monkeypatch, at: datetime):
        self.at = at
        monkeypatch.setattr(timezone, "now", lambda: self.at)

    def set(self, at: datetime) -> None:
        self.at = at


# (local time in Berlin, category, severity): reported incidents of site A in the period.
INCIDENTS = [
    ((2025, 12, 1, 0, 30), "Theft", "high"),  # Nov 30 23:30 UTC: a December incident locally
    ((2026, 1, 15, 14, 10), "Trespass", "low"),
    ((2026, 1, 15, 14, 50), "Trespass", "medium"),
    ((2026, 6, 10, 23, 30), "Theft", "critical"),  # 21:30 UTC in summer
    ((2026, 11, 19, 8, 0), "Vandalism", "low"),  # left waiting for review
]
# Alarms: (raised, minutes to acknowledge or None, resolved afterwards)
ALARMS = [
    (berlin(2026, 1, 10, 3, 0), 2.5, True),
    (berlin(2026, 1, 11, 3, 0), 4, True),
    (berlin(2026, 1, 12, 3, 0), 10, True),
    (berlin(2026, 1, 20, 3, 0), 30, True),
    (berlin(2026, 6, 1, 22, 0), 1, False),
    (berlin(2026, 6, 2, 22, 0), 3, False),
    (berlin(2026, 6, 3, 22, 0), 5, False),
    (berlin(2026, 11, 10, 9, 0), None, False),
]
# A schedule at 08:00 daily from Nov 9 (12 windows due by NOW), walked on these days:
WALKED_DAYS = [9, 10, 11, 13, 14, 16, 17, 20]


@dataclass
class Year:
    waiting: object  # the incident left submitted


def seed_year(p, monkeypatch) -> Year:
    clock = Clock(monkeypatch, NOW - timedelta(days=400))
    system = system_actor()
    waiting = None
    for local, category_name, severity in INCIDENTS:
        occurred = berlin(*local)
        left_waiting = local[:3] == (2026, 11, 19)
        clock.set(NOW - timedelta(days=2) if left_waiting else occurred + timedelta(minutes=20))
        incident = draft(
            p, occurred_from=occurred, category=category(category_name), severity=severity
        )
        incident = svc.submit_incident(incident, p.guard_a)
        if left_waiting:
            waiting = incident
        else:
            svc.approve_incident(incident, p.supervisor_a)
    # Not counted: a draft, a void report, one on the evening before the period (local
    # time), and one at another site.
    clock.set(berlin(2026, 3, 3, 12, 0))
    draft(p, occurred_from=berlin(2026, 3, 3, 10, 0))
    void = svc.submit_incident(draft(p, occurred_from=berlin(2026, 4, 4, 10, 0)), p.guard_a)
    svc.void_incident(void, p.manager_ab, reason="entered twice")
    clock.set(berlin(2025, 11, 30, 23, 40))
    svc.submit_incident(draft(p, occurred_from=berlin(2025, 11, 30, 23, 30)), p.guard_a)
    clock.set(berlin(2026, 5, 5, 12, 0))
    svc.submit_incident(_incident_at_b(p, berlin(2026, 5, 5, 10, 0)), p.manager_ab)

    door(p.site_a, p.zone_a, "D-1")
    for i, (raised, minutes, resolve) in enumerate(ALARMS):
        clock.set(raised)
        event = row(
            event_type="forced_open", external_id=f"year-{i}", occurred_at=raised.isoformat()
        )
        ingest(p.site_a, [event])
        alarm = Alarm.objects.get(event__external_id=f"year-{i}", site=p.site_a)
        if minutes is not None:
            clock.set(raised + timedelta(minutes=minutes))
            access.acknowledge_alarm(alarm, p.supervisor_a, note="on the way")
            if resolve:
                clock.set(raised + timedelta(minutes=minutes + 5))
                access.resolve_alarm(alarm, p.supervisor_a, note="door closed")

    clock.set(NOW)
    route, checkpoints = night_route(p, names=("Gate",), minutes=(0,), route_name="Morning round")
    rounds.create_schedule(
        route,
        p.manager_ab,
        reason="test schedule",
        kind="fixed",
        fixed_times=["08:00"],
        grace_minutes=15,
        active_from=berlin(2026, 11, 9, 0, 0),
    )
    for day in WALKED_DAYS:
        walk(p, route, checkpoints, berlin(2026, 11, day, 8, 5), [1])
    walk(p, route, checkpoints, berlin(2026, 11, 15, 15, 0), [1])  # outside any window
    rounds.check_rounds(system, now=NOW, since=berlin(2026, 11, 9, 0, 0))
    return Year(waiting=waiting)


def _incident_at_b(p, occurred: datetime):
    incident, _ = svc.create_incident(
        p.manager_ab,
        site=p.site_b,
        client_uuid=uuid.uuid4(),
        narrative="At the depot.",
        category=category("Theft"),
        zone=p.zone_b,
        occurred_from=occurred,
    )
    return incident
