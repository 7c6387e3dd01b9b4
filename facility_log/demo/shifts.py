"""Demo shifts at HQ: last night's shift by the demo guard, with log entries and pass-down
notes, and today's shift still open (started by the supervisor), which reads those notes.
Idempotent: the shifts carry fixed client UUIDs, so nothing is added when they exist."""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from facility_log.models import Shift, Site
from facility_log.services import shifts

REASON = "demo data (manage.py seed_demo)"
NIGHT_UUID = uuid.UUID("00000000-0000-4000-8000-00000000d001")
DAY_UUID = uuid.UUID("00000000-0000-4000-8000-00000000d002")
ENTRIES = [
    (5, "patrol", "Walked the fence line and the car park; all gates locked."),
    (90, "delivery", "Overnight courier left two parcels for facilities at the gatehouse."),
    (200, "maintenance", "Server room air conditioning alarm cleared itself after 3 minutes."),
    (330, "visitor", "Contractor for the lift arrived early; waited in the lobby until 06:00."),
    (470, "observation", "Water on the floor by the loading dock; reported to facilities."),
]
NOTES = (
    "Lift contractor is back at 14:00. Fire door 3 on the loading dock does not latch; "
    "check it every round. Two parcels for facilities at the gatehouse."
)


def seed_shifts(actor) -> str:
    """Create HQ's demo shifts once; returns a line for the command's output."""
    site = Site.objects.filter(code="HQ").first()
    users = get_user_model().objects
    guard = users.filter(username="guard").first()
    supervisor = users.filter(username="supervisor").first()
    if site is None or guard is None or supervisor is None:
        return "shifts: no HQ or demo people"
    if Shift.objects.filter(client_uuid__in=[NIGHT_UUID, DAY_UUID]).exists():
        return "shifts: already there"
    now = timezone.now()
    start = (now - timedelta(hours=11)).replace(second=0, microsecond=0)
    night, _ = shifts.start_shift(
        site, guard, client_uuid=NIGHT_UUID, started_at=start, reason=REASON
    )
    for minutes, kind, text in ENTRIES:
        shifts.add_shift_entry(
            night,
            guard,
            client_uuid=uuid.uuid5(NIGHT_UUID, str(minutes)),
            kind=kind,
            occurred_at=start + timedelta(minutes=minutes),
            text=text,
            reason=REASON,
        )
    ended = start + timedelta(hours=8)
    shifts.end_shift(night, guard, ended_at=ended, pass_down_notes=NOTES, reason=REASON)
    day, _ = shifts.start_shift(
        site,
        supervisor,
        client_uuid=DAY_UUID,
        started_at=ended + timedelta(minutes=5),
        reason=REASON,
    )
    shifts.add_shift_entry(
        day,
        supervisor,
        client_uuid=uuid.uuid5(DAY_UUID, "1"),
        kind="observation",
        occurred_at=day.started_at + timedelta(minutes=10),
        text="Read the pass-down notes; checked fire door 3, still not latching.",
        reason=REASON,
    )
    return "shifts: last night's shift with 5 entries and notes, and an open shift at HQ"
