"""Right after seed_demo, the README's import command works on the shipped samples."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from facility_log.models import AccessEvent, Door, VendorTypeMapping
from tests.access.helpers import SAMPLE_DOORS, SAMPLES, csv_rows


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_creates_the_sample_doors_at_hq_once_and_the_readme_import_works():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    doors = Door.objects.filter(site__code="HQ")
    assert sorted(doors.values_list("code", flat=True)) == sorted(SAMPLE_DOORS)
    assert all(door.zone.site.code == "HQ" for door in doors)
    assert Door.history.count() == len(SAMPLE_DOORS)
    # Gallagher's defaults are its published type and group ids (in code, not rows).
    assert VendorTypeMapping.objects.filter(vendor="kisi").count() == 1
    out = StringIO()
    call_command(
        "import_access_events",
        "samples/access-events/generic.csv",
        site="HQ",
        fmt="generic-csv",
        stdout=out,
    )
    assert AccessEvent.objects.count() == len(csv_rows(SAMPLES / "generic.csv"))


# Corrected in the repository (issue 13): the shared copies still carry made-up Gallagher type
# names and ids; the repository's are Command Centre's real ones. New vendor samples (UniFi,
# Verkada, Gallagher's published example) exist only in the repository.
CORRECTED_IN_REPOSITORY = {"README.md", "gallagher-events.json"}


def test_samples_in_the_repository_match_the_shared_ones():
    from pathlib import Path

    shared = Path("/work/shared/data/access-events")
    if not shared.exists():
        pytest.skip("the shared sample folder is not on this machine")
    for path in shared.iterdir():
        if path.name not in CORRECTED_IN_REPOSITORY:
            assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), path.name
