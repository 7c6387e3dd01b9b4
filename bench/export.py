"""Police packages for many incidents: queries and time per package, against the bare cost of
zipping the same attachment bytes (the baseline, measured in the same run). Asserts nothing
about time; prints whether queries per package stayed constant.

    .venv/bin/python bench/export.py [N] [PHOTOS]        (default 50 incidents, 5 photos each)
"""

import io
import os
import sys
import time
import uuid
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def make_incidents(p, count: int, photos: int):
    from facility_log.services import incidents as svc
    from tests.incident_factories import category, photo

    made = []
    for n in range(count):
        incident, _ = svc.create_incident(
            p.guard_a,
            site=p.site_a,
            client_uuid=uuid.uuid4(),
            category=category("Theft"),
            zone=p.zone_a,
            narrative=f"Bench incident {n}.",
            persons=[{"role": "witness", "name": f"Witness {n}", "statement": "Saw it."}],
        )
        for k in range(photos):
            svc.add_attachment(incident, p.guard_a, upload=photo(f"p{k}.png"), description=str(k))
        made.append(svc.submit_incident(incident, p.guard_a))
    return made


def bare_zip_seconds(incident) -> float:
    started = time.perf_counter()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for attachment in incident.attachments.all():
            with attachment.file.open("rb") as handle:
                archive.writestr(attachment.file.name, handle.read())
    return time.perf_counter() - started


def main(count: int, photos: int) -> None:
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=False)
    from facility_log.services.incident_package import build_incident_package
    from tests.personas import build_personas

    p = build_personas()
    incidents = make_incidents(p, count, photos)
    queries, seconds, bare = [], [], []
    for incident in incidents:
        bare.append(bare_zip_seconds(incident))
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            build_incident_package(incident, p.manager_ab, recipient="Police", reason="bench")
        seconds.append(time.perf_counter() - started)
        queries.append(len(captured))
    per_package = sum(seconds) / count * 1000
    baseline = sum(bare) / count * 1000
    print(f"{count} incidents x {photos} photos, SQLite, one process")
    print(
        f"  queries per package: min {min(queries)}, max {max(queries)} "
        f"({'constant' if min(queries) == max(queries) else 'NOT constant'})"
    )
    print(f"  police package (PDF/A, JSON, history, manifest, zip): {per_package:7.1f} ms each")
    print(f"  bare zip of the same attachment bytes (baseline):     {baseline:7.1f} ms each")
    print(f"  ratio: x{per_package / baseline:.0f} the baseline (the PDF rendering is most of it)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [50, 5][len(args) :]))
