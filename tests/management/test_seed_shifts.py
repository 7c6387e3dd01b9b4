"""seed_demo's shifts at HQ: an ended shift with entries and notes, and an open one, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from facility_log.models import Shift, ShiftEntry
from facility_log.services.shifts import previous_handover


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_adds_hq_shifts_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert (Shift.objects.count(), ShiftEntry.objects.count()) == (2, 6)
    open_shift = Shift.objects.get(ended_at__isnull=True)
    received = previous_handover(open_shift.site, before=open_shift.started_at)
    assert received.guard.username == "guard" and "Fire door 3" in received.pass_down_notes
    assert received.entries.count() == 5
