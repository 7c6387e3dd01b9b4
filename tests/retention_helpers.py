"""A year and more of records, built through the real services, for the retention tests.

Records are made "in the past" with a test clock (`clock_at`), not by editing them: inside it,
every `django.utils.timezone.now()` call (the services' own times, `auto_now` fields, the
history rows' dates, the ledger entries' times) reads the given moment, so an incident closed
eight years ago has the history row of its closing dated eight years ago, written and chained
by the real services. Times that the services take as arguments (an event's time, a run's
start, a shift's start and end) are passed in directly. Nothing is written behind the
application and the verifier is not loosened: `verify_audit` passes on this data as on any.
"""

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace
from unittest import mock

from django.utils import timezone

from facility_log.models import AccessEvent
from facility_log.services import access, links, rounds, shifts
from facility_log.services import incidents as svc
from facility_log.services.accounts import system_actor
from facility_log.services.retention import place_legal_hold, set_retention_period
from facility_log.services.view_log import record_view
from tests.access.helpers import door, ingest, row
from tests.incident_factories import category, photo
from tests.rounds_helpers import night_route, walk

_real_now = timezone.now
DAY = timedelta(days=1)


@contextmanager
def clock_at(moment: datetime):
    """Test clock: `timezone.now()` reads `moment` inside (advancing with real time)."""
    start = _real_now()
    with mock.patch(
        "django.utils.timezone.now", side_effect=lambda: moment + (_real_now() - start)
    ):
        yield


def ago(days: float) -> datetime:
    return _real_now() - timedelta(days=days)


def closed_incident(p, *, days_ago: float, title: str, site=None, zone=None, void=False):
    """An incident reported, reviewed and closed (or voided as a draft) `days_ago`, with a
    witness, a vehicle, property, a photo and a supplement."""
    site, zone = site or p.site_a, zone or p.zone_a
    with clock_at(ago(days_ago)):
        incident, _ = svc.create_incident(
            p.guard_a if site == p.site_a else p.manager_ab,
            site=site,
            client_uuid=uuid.uuid4(),
            category=category("Theft"),
            zone=zone,
            title=title,
            narrative=f"{title}: what happened.",
            occurred_from=timezone.now() - timedelta(hours=2),
            reported_at=timezone.now(),
            persons=[{"role": "witness", "name": f"Witness of {title}", "statement": "Saw it."}],
            vehicles=[{"registration": "AB-123", "make_model": "Van"}],
            property_items=[{"kind": "stolen", "description": "Laptop"}],
        )
        author = incident.author
        if void:
            return svc.void_incident(incident, author, reason="made in error")
        svc.add_attachment(incident, author, upload=photo(f"{uuid.uuid4().hex}.png"))
        incident = svc.submit_incident(incident, author)
        svc.add_supplement(incident, author, text="Serial 42.", reason="found the serial")
        reviewer = p.supervisor_a if site == p.site_a else p.admin
        incident = svc.approve_incident(incident, reviewer, comment="fine")
        return svc.close_incident(incident, p.manager_ab, reason="done")


def events(site, zone, *, days_ago: float, ids: list[str], event_type="granted"):
    """One import batch of events that occurred `days_ago` (received then, too)."""
    door(site, zone)
    when = ago(days_ago)
    rows = [
        row(line=n + 2, external_id=ext, event_type=event_type, occurred_at=when.isoformat())
        for n, ext in enumerate(ids)
    ]
    with clock_at(when + timedelta(minutes=5)):
        return ingest(site, rows).batch


def event(site, external_id: str) -> AccessEvent:
    return AccessEvent.objects.get(site=site, external_id=external_id)


def seed_year_of_data(p) -> SimpleNamespace:
    """Records of every kind at sites A and B, some past their period and some not.
    `gone` and `kept` name what `purge_expired --apply` must remove and leave."""
    system = system_actor()
    s = SimpleNamespace()
    # Incidents: closed 8 years ago (expired), one of them on hold; closed a year ago (kept);
    # a draft voided 8 years ago (expired); one submitted 8 years ago and never closed (kept).
    s.old_incident = closed_incident(p, days_ago=8 * 365, title="Old theft")
    s.held_incident = closed_incident(p, days_ago=8 * 365, title="Held theft")
    place_legal_hold(s.held_incident, p.manager_ab, reason="civil case 12/2019 pending")
    s.recent_incident = closed_incident(p, days_ago=365, title="Recent theft")
    s.void_incident = closed_incident(p, days_ago=8 * 365, title="Void draft", void=True)
    with clock_at(ago(8 * 365)):
        s.open_incident, _ = svc.create_incident(
            p.guard_a, site=p.site_a, category=category(), zone=p.zone_a, narrative="Open."
        )
        s.open_incident = svc.submit_incident(s.open_incident, p.guard_a)

    # Access events at A: a batch of old ones (expired), a batch mixing old and recent, an old
    # forced door whose alarm goes with it, and an old forced door whose alarm opened an
    # incident (kept with the incident).
    s.old_batch = events(p.site_a, p.zone_a, days_ago=200, ids=["old-1", "old-2", "old-3"])
    s.mixed_old = events(p.site_a, p.zone_a, days_ago=120, ids=["mix-old"])
    s.forced_gone = events(
        p.site_a, p.zone_a, days_ago=100, ids=["forced-gone"], event_type="forced_open"
    )
    s.forced_kept = events(
        p.site_a, p.zone_a, days_ago=150, ids=["forced-kept"], event_type="forced_open"
    )
    s.alarm_incident = links.open_incident_from_alarm(
        event(p.site_a, "forced-kept").alarm, p.supervisor_a
    )
    access.acknowledge_alarm(event(p.site_a, "forced-gone").alarm, p.supervisor_a, note="seen")
    s.recent_batch = events(p.site_a, p.zone_a, days_ago=30, ids=["new-1", "new-2"])
    # Site B keeps access events 10 days only: its 20-day-old events go, A's would stay.
    set_retention_period(
        p.site_b, p.manager_ab, kind="access_events", days=10, reason="works council agreement"
    )
    s.b_batch = events(p.site_b, p.zone_b, days_ago=20, ids=["b-1", "b-2"])
    s.b_recent = events(p.site_b, p.zone_b, days_ago=5, ids=["b-3"])

    # Rounds: a run 400 days ago (expired) with its scans and exceptions; a run 400 days ago
    # whose scan reported an incident (kept); a run 10 days ago (kept); a missed round 400
    # days ago (expired).
    route, checkpoints = night_route(p)
    s.old_run = walk(p, route, checkpoints, ago(400), [0, 1, None])
    s.needed_run = walk(p, route, checkpoints, ago(399), [0, 10, 20])
    s.scan_incident = links.report_from_scan(s.needed_run.scans.first(), p.guard_a)
    s.recent_run = walk(p, route, checkpoints, ago(10), [0, 10, 20])
    rounds.create_schedule(
        route,
        p.manager_ab,
        reason="test",
        kind="fixed",
        fixed_times=["03:00"],
        active_from=ago(403),
    )
    # The check runs at noon UTC, 401 days ago, over the day before: the 03:00 (Berlin) round
    # of that day is always inside it and over, whatever the hour this test runs at.
    checked_at = ago(401).replace(hour=12, minute=0, second=0, microsecond=0)
    with clock_at(checked_at):
        s.missed = rounds.check_rounds(system, now=checked_at, since=checked_at - DAY)

    # Shifts: one ended 400 days ago (expired), one ended 20 days ago (kept), and one that
    # started 400 days ago and is still open (kept: nobody ended it).
    s.old_shift = _shift(p, p.guard_a, ago(401), ago(400), "Old notes: east door sticks.")
    s.recent_shift = _shift(p, p.guard_a, ago(21), ago(20), "Recent notes.")
    s.open_shift, _ = shifts.start_shift(
        p.site_a, p.supervisor_a, client_uuid=uuid.uuid4(), started_at=ago(400)
    )

    # The view log: views 3 years ago (expired) and a year ago (kept).
    with clock_at(ago(3 * 365)):
        s.old_view = record_view(p.auditor_a, s.recent_incident, site=p.site_a, label="old")
    with clock_at(ago(365)):
        s.recent_view = record_view(p.auditor_a, s.recent_incident, site=p.site_a, label="new")
    return s


def _shift(p, guard, started, ended, notes):
    shift, _ = shifts.start_shift(p.site_a, guard, client_uuid=uuid.uuid4(), started_at=started)
    shifts.add_shift_entry(
        shift,
        guard,
        client_uuid=uuid.uuid4(),
        kind="patrol",
        occurred_at=started + timedelta(hours=1),
        text=f"{notes} (log)",
    )
    return shifts.end_shift(shift, guard, ended_at=ended, pass_down_notes=notes)[0]
