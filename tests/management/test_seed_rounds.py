"""seed_demo's guard rounds at HQ: created once, walked twice, one late run."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from facility_log.models import Checkpoint, Route, Run, Scan


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_adds_hq_rounds_once():
    call_command("seed_demo", stdout=StringIO())
    counts = (Checkpoint.objects.count(), Route.objects.count(), Run.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert counts == (6, 1, 2)
    assert (Checkpoint.objects.count(), Route.objects.count(), Run.objects.count()) == counts
    assert Scan.objects.count() == 12
    assert Run.objects.filter(exceptions__kind="late").distinct().count() == 1
    assert not Run.objects.filter(exceptions__kind="out_of_order").exists()
