"""A guard's tablet back online after a night in the basement: how fast its outbox drains.

    .venv/bin/python bench/tablet_sync.py [--rounds 10] [--entries 20]

Sends what the tablet's outbox would send, in its order and with its payloads, through the
API in-process (Django's test client, a signed-in guard, CSRF checked as in the browser):
the shift start, N rounds (start, 20 scans, finish), M shift-log entries, an incident draft
and its photo, and the shift end: a ten-hour night. Then sends the very same outbox again (a replay:
every answer must be 200 and nothing new stored). Then another guard's night the way
outbox.js sends it today: round starts, scans, finishes and log entries in batches of up to
100 to /api/v1/sync/, the rest one request each; and that outbox again. The baseline,
measured in the same run, is the cheapest signed-in API call (`GET /api/v1/me/`) made as
many times.

Runs on a throwaway SQLite database unless DATABASE_URL is set. Timing is printed, never
asserted.
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from PIL import Image  # noqa: E402

from bench.outbox_batches import batches  # noqa: E402
from facility_log.models import Attachment, Incident, Scan, ShiftEntry  # noqa: E402
from facility_log.services import accounts, rounds, sites  # noqa: E402

STOPS = 20


def build(stops: int):
    actor = accounts.system_actor()
    site = sites.create_site(actor, code="BENCH", name="Bench", time_zone="UTC", reason="b")
    zone = sites.create_zone(site, actor, name="Basement", reason="bench")
    guard = accounts.create_user(actor, username="bench-guard", password="x" * 16, reason="b")
    sites.grant_membership(site, actor, user=guard, role="guard", reason="bench")
    checkpoints = [
        rounds.create_checkpoint(site, actor, zone=zone, name=f"CP {n}", reason="bench")
        for n in range(stops)
    ]
    route = rounds.create_route(
        site, actor, name="Night", reason="bench", stops=[(c, n) for n, c in enumerate(checkpoints)]
    )
    return site, guard, route, checkpoints


def outbox(site, route, checkpoints, rounds_: int, entries: int) -> tuple[list, dict]:
    """The tablet's outbox after a night offline, in the order it was made: the shift start,
    each round (start, one scan per checkpoint, finish), the log entries, an incident draft and
    its photo, the shift end. Items are (url, payload, photo-of); ("ref", uuid) in a payload
    and {name} in a url stand for the server id of an earlier record, as in outbox.js."""
    start = timezone.now() - timedelta(hours=10)
    shift, incident = str(uuid.uuid4()), str(uuid.uuid4())
    refs = {"shift": shift, "incident": incident}
    items = [("/api/v1/shifts/", {"site": site.code, "client_uuid": shift, "started_at": start})]
    for n in range(rounds_):
        run, began = str(uuid.uuid4()), start + timedelta(minutes=1 + 50 * n)
        refs[f"run{n}"] = run
        items.append(
            ("/api/v1/runs/", {"route": route.pk, "client_uuid": run, "started_at": began})
        )
        for i, checkpoint in enumerate(checkpoints):
            body = {
                "run": ("ref", run),
                "tag_code": checkpoint.tag_code,
                "client_uuid": str(uuid.uuid4()),
                "method": "manual",
                "device_time": began + timedelta(minutes=i),
            }
            items.append(("/api/v1/scans/", body))
        done = {"finished_at": began + timedelta(minutes=len(checkpoints))}
        items.append((f"/api/v1/runs/{{run{n}}}/finish/", done))
    for n in range(entries):
        body = {
            "shift": ("ref", shift),
            "client_uuid": str(uuid.uuid4()),
            "kind": "patrol",
            "occurred_at": start + timedelta(minutes=2 + 25 * n),
            "text": f"Patrol {n}: all doors locked.",
        }
        items.append(("/api/v1/shift-entries/", body))
    incident_body = {
        "site": site.code,
        "client_uuid": incident,
        "title": "Propped door",
        "severity": "medium",
        "occurred_from": start + timedelta(hours=1),
        "narrative": "Side door found propped open.",
    }
    items.append(("/api/v1/incidents/", incident_body))
    items.append(("/api/v1/incidents/{incident}/attachments/", "photo"))
    end = {"ended_at": start + timedelta(hours=10), "pass_down_notes": "Quiet night."}
    items.append(("/api/v1/shifts/{shift}/end/", end))
    return items, refs


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "#446").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def send_all(client: Client, items, refs: dict, ids: dict, csrf: str, photo: bytes) -> list[int]:
    statuses = []
    for url, body in items:
        url = url.format(**{name: ids.get(uuid_, "") for name, uuid_ in refs.items()})
        if body == "photo":
            upload = io.BytesIO(photo)
            upload.name = "door.jpg"
            response = client.post(url, {"file": upload}, headers={"X-CSRFToken": csrf})
        else:
            data = {k: ids[v[1]] if isinstance(v, tuple) else v for k, v in body.items()}
            payload = json.dumps(data, default=str)
            response = client.post(
                url, payload, content_type="application/json", headers={"X-CSRFToken": csrf}
            )
        statuses.append(response.status_code)
        made = body.get("client_uuid") if isinstance(body, dict) else None
        if made and response.status_code in (200, 201):
            ids[made] = response.json()["id"]
    return statuses


def send_batched(client: Client, items, refs: dict, ids: dict, csrf: str, photo: bytes):
    """The same outbox as outbox.js sends it now: runs of batchable items to /api/v1/sync/,
    the others one request each. Returns the statuses per record and the requests made."""
    statuses, requests = [], 0
    for step in batches(items, refs, ids):
        requests += 1
        if step[0] == "one":
            statuses += send_all(client, [step[1]], refs, ids, csrf, photo)
            continue
        _kind, sent, records = step
        payload = json.dumps({"records": records}, default=str)
        response = client.post(
            "/api/v1/sync/", payload, content_type="application/json", headers={"X-CSRFToken": csrf}
        )
        for (_url, body), result in zip(sent, response.json()["results"], strict=True):
            statuses.append(result["status"])
            if body.get("client_uuid") and result["status"] in (200, 201):
                ids[body["client_uuid"]] = result["id"]
    return statuses, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds of 20 checkpoints")
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    site, guard, route, checkpoints = build(STOPS)
    items, refs = outbox(site, route, checkpoints, args.rounds, args.entries)
    client = Client(enforce_csrf_checks=True)
    client.force_login(guard)
    client.get("/tablet/")  # sets the CSRF cookie, as opening the page does
    csrf = client.cookies["csrftoken"].value
    photo = photo_bytes()
    ids: dict = {}

    started = time.perf_counter()
    first = send_all(client, items, refs, ids, csrf, photo)
    drained = time.perf_counter() - started
    started = time.perf_counter()
    again = send_all(client, items, refs, ids, csrf, photo)
    replayed = time.perf_counter() - started
    started = time.perf_counter()
    for _ in items:
        client.get("/api/v1/me/")
    baseline = time.perf_counter() - started

    # The same night from another guard's tablet, sent in batches (outbox.js today).
    second = accounts.create_user(
        accounts.system_actor(), username="bench-guard-2", password="x" * 16, reason="bench"
    )
    sites.grant_membership(site, accounts.system_actor(), user=second, role="guard", reason="b")
    items2, refs2 = outbox(site, route, checkpoints, args.rounds, args.entries)
    client.force_login(second)
    client.get("/tablet/")
    csrf = client.cookies["csrftoken"].value
    ids2: dict = {}
    started = time.perf_counter()
    batched, requests = send_batched(client, items2, refs2, ids2, csrf, photo)
    drained_batched = time.perf_counter() - started
    started = time.perf_counter()
    batched_again, _ = send_batched(client, items2, refs2, ids2, csrf, photo)
    replayed_batched = time.perf_counter() - started

    n = len(items)
    stored = (Scan.objects.count(), ShiftEntry.objects.count(), Incident.objects.count())
    print(
        f"tablet sync bench: an outbox of {n} records ({args.rounds} rounds of {STOPS} scans,"
        f" {args.entries} log entries, shift, incident + photo), {django.db.connection.vendor}"
    )
    print(f"  statuses first send {sorted(set(first))}, replay {sorted(set(again))}")
    print(
        f"  in batches ({requests} requests): statuses first send {sorted(set(batched))},"
        f" replay {sorted(set(batched_again))}"
    )
    print(f"  stored scans/entries/incidents/photos {stored + (Attachment.objects.count(),)}")
    for name, value in [
        ("baseline: GET /api/v1/me/ x n", baseline),
        ("first send (everything new)", drained),
        ("replay of the same outbox", replayed),
        ("first send, in batches", drained_batched),
        ("replay, in batches", replayed_batched),
    ]:
        print(
            f"  {name:<32} {value:6.2f} s  {n / value:7.0f} records/s"
            f"  ({value / baseline:5.2f}x baseline)"
        )


if __name__ == "__main__":
    main()
