"""Access test data, built through the real services."""

import csv
from pathlib import Path

from facility_log.models import AccessEvent, Alarm, Door, ImportBatch, Site, Zone
from facility_log.services import access, access_ingest
from facility_log.services.access_formats import Incoming
from facility_log.services.accounts import system_actor

SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples" / "access-events"
SAMPLE_DOORS = ["D-MAIN", "D-DOCK2", "D-SRV", "D-ROOF", "D-GATE-B"]


def door(site: Site, zone: Zone, code: str = "D-1") -> Door:
    existing = Door.objects.filter(site=site, code=code).first()
    if existing:
        return existing
    return access.create_door(
        site, system_actor(), zone=zone, code=code, name=f"Door {code}", reason="test door"
    )


def sample_doors(site: Site, zone: Zone) -> list[Door]:
    return [door(site, zone, code) for code in SAMPLE_DOORS]


def row(line: int = 2, **values) -> Incoming:
    fields = {
        "source": "ctl-test",
        "external_id": f"ev-{line}",
        "occurred_at": "2026-03-28T22:00:00Z",
        "door": "D-1",
        "event_type": "granted",
    }
    fields.update(values)
    return Incoming(line=line, **fields)


def ingest(site: Site, rows, actor=None, **kwargs) -> access_ingest.IngestResult:
    kwargs.setdefault("channel", ImportBatch.Channel.API)
    return access_ingest.ingest_events(site, actor or system_actor(), rows, **kwargs)


def forced_open_at(site: Site, zone: Zone, external_id: str = "forced-1") -> AccessEvent:
    """A forced-open event at `site` (creating its door), with the alarm it raised."""
    door(site, zone)
    ingest(site, [row(event_type="forced_open", external_id=external_id)])
    return AccessEvent.objects.get(site=site, external_id=external_id)


def site_a_alarm(p) -> Alarm:
    event = AccessEvent.objects.filter(site=p.site_a, external_id="forced-1").first()
    return (event or forced_open_at(p.site_a, p.zone_a)).alarm


def csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def site_a_import_job(p):
    """A finished import job at site A (a small generic CSV, uploaded by its manager)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from facility_log.models import ImportJob
    from facility_log.services import access_jobs

    existing = ImportJob.objects.filter(site=p.site_a).first()
    if existing:
        return existing
    door(p.site_a, p.zone_a, "D-1")
    body = (
        "source,external_id,occurred_at,door,event_type\n"
        "ctl,job-1,2026-03-28T22:00:00Z,D-1,granted\n"
    )
    upload = SimpleUploadedFile("job.csv", body.encode())
    job = access_jobs.start_import_job(
        p.site_a, p.manager_ab, upload=upload, file_format="generic-csv"
    )
    return access_jobs.run_import_job(job)
