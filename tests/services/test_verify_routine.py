"""The verifier never cries wolf on routine traffic: every ordinary way of sending the same
events again, and every event type a vendor sends, leaves `verify_audit` intact."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from facility_log.models import AccessEvent, ImportBatch
from facility_log.services import access, sites
from facility_log.services.verify import verify_audit
from tests.access.helpers import SAMPLES, door, ingest, row, sample_doors
from tests.access.test_webhook import SECRET, _bodies, _post, _sign


def _problems() -> list[str]:
    return [str(p) for p in verify_audit().problems]


@pytest.fixture
def hq(personas):
    site = sites.create_site(personas.admin, code="HQ", name="HQ", reason="r")
    zone = sites.create_zone(site, personas.admin, name="Doors", reason="r")
    sample_doors(site, zone)
    return site


SAMPLE_FORMATS = {
    "generic.csv": "generic-csv",
    "duplicates.csv": "generic-csv",
    "gallagher-events.json": "gallagher-json",
    "kisi-webhooks.json": "kisi-json",
}


@pytest.mark.django_db
def test_importing_every_sample_twice_verifies(hq):
    for name, fmt in [*SAMPLE_FORMATS.items(), *SAMPLE_FORMATS.items()]:
        call_command(
            "import_access_events",
            str(SAMPLES / name),
            site="HQ",
            fmt=fmt,
            stdout=StringIO(),
            stderr=StringIO(),
        )
    second_round = ImportBatch.objects.order_by("-pk")[: len(SAMPLE_FORMATS)]
    assert [batch.created for batch in second_round] == [0] * len(SAMPLE_FORMATS)
    assert _problems() == []


@pytest.mark.django_db
def test_an_api_batch_posted_twice_verifies(personas):
    door(personas.site_a, personas.zone_a)
    rows = [row(line=n, external_id=f"twice-{n}") for n in range(2, 6)]
    ingest(personas.site_a, rows)
    again = ingest(personas.site_a, rows)
    assert (again.created, again.duplicates) == (0, 4)
    assert _problems() == []


@pytest.mark.django_db
def test_a_replayed_signed_webhook_and_an_unmapped_kisi_type_verify(personas):
    sample_doors(personas.site_a, personas.zone_a)
    access.set_webhook_secret(personas.site_a, personas.manager_ab, secret=SECRET, reason="r")
    for body in (_bodies()[0], dict(_bodies()[0], type="lock.battery_low", uuid="battery-1")):
        raw = json.dumps(body).encode()
        assert _post(personas.site_a, raw, _sign(raw)).status_code == 201
        assert _post(personas.site_a, raw, _sign(raw)).status_code == 200
    assert AccessEvent.objects.get(external_id="battery-1").event_type == "other"
    assert _problems() == []
