"""Building shift data through the real services, for the shift tests."""

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from facility_log.services import shifts

WHY = "test shift data"


def ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def start(p, *, at: datetime, guard=None, site=None):
    """A shift started by `guard` (default guard_a) at `site` (default site A)."""
    shift, created = shifts.start_shift(
        site or p.site_a, guard or p.guard_a, client_uuid=uuid.uuid4(), started_at=at
    )
    assert created
    return shift


def entry(shift, text: str, *, at: datetime, kind: str = "observation", actor=None):
    made, _ = shifts.add_shift_entry(
        shift,
        actor or shift.guard,
        client_uuid=uuid.uuid4(),
        kind=kind,
        occurred_at=at,
        text=text,
    )
    return made


def worked(p, *, at: datetime, hours: float = 8, notes: str = "", guard=None, site=None):
    """A shift started at `at` and ended `hours` later with `notes`."""
    shift = start(p, at=at, guard=guard, site=site)
    shifts.end_shift(
        shift, shift.guard, ended_at=at + timedelta(hours=hours), pass_down_notes=notes
    )
    return shift


def site_a_shifts(p):
    """Site A's shifts for the cross-site check, built once per personas: an ended shift with
    a distinctive entry and pass-down notes, and an open one."""
    from types import SimpleNamespace

    if getattr(p, "_shifts", None) is None:
        ended = worked(p, at=ago(hours=20), hours=8, notes="Alpha handover: the east door sticks.")
        first = entry(ended, "Alpha log: boiler pressure normal.", at=ended.started_at)
        current = start(p, at=ago(hours=2))
        p._shifts = SimpleNamespace(ended=ended, entry=first, open=current)
    return p._shifts
