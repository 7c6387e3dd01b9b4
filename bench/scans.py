"""Checkpoint scans and the tablet's outbox over HTTP, under gunicorn, beside a bare write.

    .venv/bin/python bench/scans.py [--rounds 3] [--tablets 50] [--paced-seconds 10]

Production-like: gunicorn with 2 sync workers, DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,
PostgreSQL (database `fl_scans_bench` at 127.0.0.1, recreated), requests as from behind a TLS
proxy. The load generator is an asyncio HTTP client in this process; every request opens its
own connection (gunicorn's sync workers close it after each answer). Each round, in rotated
order:

* paced: every tablet sends a scan every 5 s (50 tablets: 10 scans/s), `--paced-seconds` long;
* back to back: every tablet sends `--burst` scans one after another, as fast as answered;
  once with scans 60 s apart on the device (nothing to flag), once 5 s apart (each one
  "implausibly fast": an exception stored with its history);
* outbox: one tablet drains a night's outbox (bench/tablet_sync.py's: shift, 10 rounds of 20
  scans, 20 log entries, an incident and its photo, shift end; 244 records) one request
  after another; and another tablet its night as outbox.js sends it now, round starts,
  scans, finishes and log entries in batches to /api/v1/sync/ (7 requests);

and the same loads against a bare write (bench/server/urls.py: one INSERT in a transaction,
nothing of the application's work), in the same round. Each tablet walks its own runs in
device-time order, as a real one does. Prints each figure's min/median/max over the rounds
and the per-round ratios to the bare write. Timing is printed, never asserted.
"""

import argparse
import asyncio
import json
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.outbox_batches import batches  # noqa: E402

HOST, PORT = "127.0.0.1", 0  # the port: a free one, chosen at start
DB_NAME = os.environ.get("SCANS_BENCH_DB", "fl_scans_bench")  # a name of your own: shared machines
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
STOPS, INTERVAL = 20, 5.0
WORKERS = 2  # gunicorn's sync workers (bench/import_load.py --workers sets it)
LOADS: list[float] = []  # the machine's 1-minute load average at each round's start


def load_average() -> str:
    """The machine's load average (1, 5, 15 min): it is shared, and every figure moves with it."""
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


RUNS_PER_TABLET = 2  # of each kind: room for 40 scans a tablet


def server_env(media: str) -> dict:
    return dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=PG_URL,
        BEHIND_TLS_PROXY="1",
        DJANGO_SETTINGS_MODULE="bench.server.settings",
        MEDIA_ROOT=media,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )


def recreate_database() -> bool:
    """A fresh database; False when PostgreSQL is not reachable (the bench is then skipped)."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    except psycopg.OperationalError as error:
        print(f"scans bench skipped: PostgreSQL not reachable ({error})", file=sys.stderr)
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def drop_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


# --- seeding (a child process with the server's settings) ----------------------------------


def seed(out: Path, tablets: int, rounds_: int) -> None:
    """Migrate, build the site, the tablets' guards, tokens and runs, and each round's outbox;
    count the queries of a scan; write what the load needs as JSON to `out`."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.server.urls import CREATE_BARE_TABLE
    from bench.tablet_sync import build, outbox, photo_bytes
    from facility_log.services import rounds

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_BARE_TABLE)
    site, _guard, route, checkpoints = build(STOPS)
    began = timezone.now() - timedelta(hours=9)
    plan = {"tablets": [], "outboxes": [], "queries": scan_queries(site, began)}
    for n in range(tablets):
        guard = _guard_with_token(site, f"tablet-{n:02d}")
        runs = {
            kind: [
                rounds.start_run(route, guard["user"], started_at=began).pk
                for _ in range(RUNS_PER_TABLET)
            ]
            for kind in ("walk", "fast")
        }
        plan["tablets"].append(
            {
                "token": guard["token"],
                "runs": runs,
                "started": began.isoformat(),
                "codes": [c.tag_code for c in checkpoints],
            }
        )
    plan["batched_outboxes"] = []
    for n in range(rounds_):
        for key, name in (("outboxes", "night"), ("batched_outboxes", "batched")):
            guard = _guard_with_token(site, f"{name}-{n}")
            items, refs = outbox(site, route, checkpoints, 10, 20)
            plan[key].append({"token": guard["token"], "items": items, "refs": refs})
    out.write_text(json.dumps(plan, default=str))
    out.with_suffix(".jpg").write_bytes(photo_bytes())


def _guard_with_token(site, username: str) -> dict:
    from facility_log.services import accounts, sites

    actor = accounts.system_actor()
    user = accounts.create_user(actor, username=username, password=None, reason="bench")
    sites.grant_membership(site, actor, user=user, role="guard", reason="bench")
    _token, key = accounts.issue_api_token(user, actor, reason="bench")
    return {"user": user, "token": key}


def scan_queries(site, began) -> dict:
    """Queries of one scan through the API (token, run, scan, ledger): the 1st and the 40th
    of a 40-stop run, every one on time (nothing to flag)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from facility_log.services import accounts, rounds

    actor = accounts.system_actor()
    zone = site.zones.first()
    cps = [
        rounds.create_checkpoint(site, actor, zone=zone, name=f"Long {n}", reason="bench")
        for n in range(40)
    ]
    route = rounds.create_route(
        site, actor, name="Long", reason="bench", stops=[(c, n) for n, c in enumerate(cps)]
    )
    guard = _guard_with_token(site, "counter")
    run = rounds.start_run(route, guard["user"], started_at=began)
    client = Client(HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Token {guard['token']}")
    counts = {}
    for n, checkpoint in enumerate(cps):
        body = {
            "run": run.pk,
            "tag_code": checkpoint.tag_code,
            "client_uuid": str(uuid.uuid4()),
            "method": "qr",
            "device_time": (began + timedelta(minutes=n)).isoformat(),
        }
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/api/v1/scans/", body, content_type="application/json", secure=True
            )
        assert response.status_code == 201, response.content
        if n in (0, 39):
            counts[f"scan {n + 1}"] = len(queries)
    # The same 40 scans of another run in one request to the batch endpoint.
    run = rounds.start_run(route, guard["user"], started_at=began)
    records = [
        {
            "type": "scan",
            "run": run.pk,
            "tag_code": checkpoint.tag_code,
            "client_uuid": str(uuid.uuid4()),
            "method": "qr",
            "device_time": (began + timedelta(minutes=n)).isoformat(),
        }
        for n, checkpoint in enumerate(cps)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/sync/", {"records": records}, content_type="application/json", secure=True
        )
    assert {r["status"] for r in response.json()["results"]} == {201}, response.content
    counts["40 scans in one batch, per scan"] = round(len(queries) / len(records), 2)
    return counts


# --- the HTTP client ------------------------------------------------------------------------


async def http(method: str, path: str, body: bytes = b"", headers=None) -> tuple[int, bytes, float]:
    """One request on its own connection: (status, body, seconds)."""
    started = time.perf_counter()
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}",
        "Connection: close",
        "X-Forwarded-Proto: https",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    reader, writer = await asyncio.open_connection(HOST, PORT)
    writer.write("\r\n".join(head).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    elapsed = time.perf_counter() - started
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2], elapsed


def _json_headers(token: str | None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    return headers


class Tablet:
    """One tablet: its guard's token and runs; scans walk each run in device-time order."""

    def __init__(self, data: dict):
        self.token, self.runs, self.codes = data["token"], data["runs"], data["codes"]
        self.started = datetime.fromisoformat(data["started"])
        self.sent = {"walk": 0, "fast": 0}

    def scan(self, kind: str) -> tuple[str, bytes, dict]:
        n = self.sent[kind]
        self.sent[kind] += 1
        step = 60 if kind == "walk" else 5  # seconds between two checkpoints on the device
        body = {
            "run": self.runs[kind][n // STOPS],
            "tag_code": self.codes[n % STOPS],
            "client_uuid": str(uuid.uuid4()),
            "method": "qr",
            "device_time": (self.started + timedelta(seconds=step * (n % STOPS))).isoformat(),
            "device_sent_at": datetime.now().astimezone().isoformat(),
        }
        return "/api/v1/scans/", json.dumps(body).encode(), _json_headers(self.token)

    def request(self, kind: str) -> tuple[str, bytes, dict]:
        if kind == "bare":
            return bare_request()
        return self.scan(kind)


def bare_request() -> tuple[str, bytes, dict]:
    body = {
        "client_uuid": str(uuid.uuid4()),
        "device_time": datetime.now().astimezone().isoformat(),
        "note": "bare",
    }
    return "/bench/bare-write/", json.dumps(body).encode(), _json_headers(None)


class Tally:
    """Latencies and failures of one load."""

    def __init__(self):
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}
        self.wall = 0.0
        self.records: int | None = None  # records sent, when not one per request

    async def send(self, path, body, headers) -> tuple[int, bytes]:
        status, payload, elapsed = await http("POST", path, body, headers)
        self.latencies.append(elapsed)
        if status >= 300:
            self.failures[status] = self.failures.get(status, 0) + 1
        return status, payload

    def p95(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1]


async def paced(tablets: list[Tablet], kind: str, seconds: float) -> Tally:
    """Each tablet sends one request every INTERVAL seconds, the tablets evenly staggered."""
    tally, loop = Tally(), asyncio.get_running_loop()
    start = loop.time()

    async def one(tablet: Tablet, offset: float) -> None:
        n = 0
        while offset + n * INTERVAL < seconds:
            await asyncio.sleep(max(0.0, start + offset + n * INTERVAL - loop.time()))
            await tally.send(*tablet.request(kind))
            n += 1

    step = INTERVAL / len(tablets)
    await asyncio.gather(*(one(t, i * step) for i, t in enumerate(tablets)))
    tally.wall = loop.time() - start
    return tally


async def back_to_back(tablets: list[Tablet], kind: str, burst: int) -> Tally:
    tally, loop = Tally(), asyncio.get_running_loop()
    start = loop.time()

    async def one(tablet: Tablet) -> None:
        for _ in range(burst):
            await tally.send(*tablet.request(kind))

    await asyncio.gather(*(one(t) for t in tablets))
    tally.wall = loop.time() - start
    return tally


async def drain_outbox(box: dict, photo: bytes, ids: dict | None = None) -> Tally:
    """Send a night's outbox in order, one request after another, as outbox.js did before
    the batch endpoint (and still does for a shift's start and end, incidents, photos)."""
    tally, ids = Tally(), ({} if ids is None else ids)
    started = time.perf_counter()
    for url, body in box["items"]:
        url = url.format(**{name: ids.get(key, "") for name, key in box["refs"].items()})
        if body == "photo":
            payload, headers = _multipart(photo, box["token"])
        else:
            data = {k: ids[v[1]] if isinstance(v, list) else v for k, v in body.items()}
            payload, headers = json.dumps(data).encode(), _json_headers(box["token"])
        status, answer = await tally.send(url, payload, headers)
        made = body.get("client_uuid") if isinstance(body, dict) else None
        if made and status in (200, 201):
            ids[made] = json.loads(answer)["id"]
    tally.wall = time.perf_counter() - started
    return tally


async def drain_outbox_batched(box: dict, photo: bytes) -> Tally:
    """Send a night's outbox as outbox.js does now: round starts, scans, finishes and log
    entries in batches to /api/v1/sync/ (bench/outbox_batches.py), the rest one request each.
    `records` counts the outbox's records; a record refused inside a batch is a failure."""
    tally, ids = Tally(), {}
    started = time.perf_counter()
    for step in batches(box["items"], box["refs"], ids):
        if step[0] == "one":
            one = await drain_outbox({**box, "items": [step[1]]}, photo, ids)
            tally.latencies += one.latencies
            for status, count in one.failures.items():
                tally.failures[status] = tally.failures.get(status, 0) + count
            continue
        _kind, sent, records = step
        payload = json.dumps({"records": records}).encode()
        status, answer = await tally.send("/api/v1/sync/", payload, _json_headers(box["token"]))
        for (_url, body), result in zip(sent, json.loads(answer)["results"], strict=True):
            if result["status"] in (200, 201):
                if body.get("client_uuid"):
                    ids[body["client_uuid"]] = result["id"]
            else:
                tally.failures[result["status"]] = tally.failures.get(result["status"], 0) + 1
    tally.wall = time.perf_counter() - started
    tally.records = len(box["items"])
    return tally


async def bare_in_sequence(count: int) -> Tally:
    tally = Tally()
    started = time.perf_counter()
    for _ in range(count):
        await tally.send(*bare_request())
    tally.wall = time.perf_counter() - started
    return tally


def _multipart(photo: bytes, token: str) -> tuple[bytes, dict]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="door.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": f"Token {token}",
    }
    return body, headers


# --- the run --------------------------------------------------------------------------------


def start_server(env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--workers", str(WORKERS), "--bind", f"{HOST}:{PORT}", "--log-level", "warning"]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            asyncio.run(http("GET", "/api/v1/me/"))
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


async def warm_up(tablets: list[Tablet]) -> None:
    """Both workers load the application and connect before anything is timed."""
    await back_to_back(tablets[:10], "fast", 1)
    await back_to_back(tablets[:10], "bare", 2)


async def one_round(number, tablets, plan, args, photo) -> dict:
    """One round of every load, in an order rotated by the round's number."""
    results = {}
    LOADS.append(os.getloadavg()[0])

    def rotated(items):
        shift = number % len(items)
        return items[shift:] + items[:shift]

    for kind in rotated(["walk", "bare"]):
        results[f"paced {kind}"] = await paced(tablets, kind, args.paced_seconds)
    for kind in rotated(["walk", "fast", "bare"]):
        results[f"burst {kind}"] = await back_to_back(tablets, kind, args.burst)
    for which in rotated(["outbox", "batched", "bare"]):
        if which == "outbox":
            results["outbox"] = await drain_outbox(plan["outboxes"][number], photo)
        elif which == "batched":
            box = plan["batched_outboxes"][number]
            results["outbox batched"] = await drain_outbox_batched(box, photo)
        else:
            count = len(plan["outboxes"][number]["items"])
            results["outbox bare"] = await bare_in_sequence(count)
    return results


def spread(values, spec: str = "7.1f") -> str:
    """min, median and max of `values`."""
    return " ".join(format(v, spec) for v in (min(values), statistics.median(values), max(values)))


def _rate(tally: Tally) -> float:
    """Records (or requests, one record each) per second."""
    return (tally.records or len(tally.latencies)) / tally.wall


def report(rounds_: list[dict], queries: dict, args) -> None:
    print(
        f"scans bench: gunicorn {WORKERS} sync workers, DEBUG=0, PostgreSQL;"
        f" {args.tablets} tablets;"
        f" {len(rounds_)} interleaved rounds (min / median / max over rounds)"
    )
    print(
        "  load average (1 min) at each round's start: "
        + " ".join(f"{v:.1f}" for v in LOADS)
        + f"; at the end (1/5/15 min): {load_average()} on {os.cpu_count()} cores"
        " (a machine shared with other engineers' jobs: read the ratios)"
    )
    counts = ", ".join(f"{name}: {count}" for name, count in queries.items())
    print(f"  queries per scan through the API (token, run, scan, ledger): {counts}")
    failures = {}
    for result in rounds_:
        for name, tally in result.items():
            for status, count in tally.failures.items():
                failures[f"{name} {status}"] = failures.get(f"{name} {status}", 0) + count
    print(f"  answers other than 2xx: {failures or 'none'}")
    print(f"  {'p95 latency, ms':<48} {'min':>7} {'median':>7} {'max':>7}")
    rows = [
        (f"paced ({args.tablets} x 1 scan / {INTERVAL:.0f} s): scan", "paced walk", "paced bare"),
        ("paced: bare write", "paced bare", None),
        ("back to back: scan", "burst walk", "burst bare"),
        ("back to back: scan flagged implausibly fast", "burst fast", "burst bare"),
        ("back to back: bare write", "burst bare", None),
    ]
    for label, key, base in rows:
        p95s = [r[key].p95() * 1000 for r in rounds_]
        line = f"  {label:<48} {spread(p95s)}"
        if base:
            ratios = [r[key].p95() / r[base].p95() for r in rounds_]
            line += f"   x bare: {spread(ratios, '.2f')}"
        print(line)
    print(f"  {'throughput, requests/s':<48} {'min':>7} {'median':>7} {'max':>7}")
    for label, key, base in [
        ("back to back: scan", "burst walk", "burst bare"),
        ("back to back: scan flagged implausibly fast", "burst fast", "burst bare"),
        ("back to back: bare write", "burst bare", None),
        ("outbox, one request per record (records/s)", "outbox", "outbox bare"),
        ("outbox in batches, /api/v1/sync/ (records/s)", "outbox batched", "outbox bare"),
        ("bare writes one after another", "outbox bare", None),
    ]:
        rates = [_rate(r[key]) for r in rounds_]
        line = f"  {label:<48} {spread(rates)}"
        if base:
            ratios = [_rate(r[base]) / _rate(r[key]) for r in rounds_]
            line += f"   bare x: {spread(ratios, '.2f')}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=5, help="scans per tablet, back to back")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: free)")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(Path(args.seed), args.tablets, args.rounds)
        return
    walked = args.rounds * (args.burst + math.ceil(args.paced_seconds / INTERVAL))
    if walked > STOPS * RUNS_PER_TABLET or args.rounds * args.burst + 1 > STOPS * RUNS_PER_TABLET:
        raise SystemExit("Too many scans per tablet for the runs seeded; lower the load.")
    began = time.perf_counter()
    if not recreate_database():
        return
    global PORT  # the one server the load generator talks to
    PORT = args.port or free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = server_env(folder)
        plan_file = Path(folder) / "plan.json"
        subprocess.run(  # noqa: S603
            [sys.executable, __file__, f"--seed={plan_file}", f"--tablets={args.tablets}"]
            + [f"--rounds={args.rounds}"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        plan = json.loads(plan_file.read_text())
        print(f"seeded in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        photo = plan_file.with_suffix(".jpg").read_bytes()
        server = start_server(env)
        try:
            tablets = [Tablet(t) for t in plan["tablets"]]
            asyncio.run(warm_up(tablets))
            results = [
                asyncio.run(one_round(n, tablets, plan, args, photo)) for n in range(args.rounds)
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"loads done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    report(results, plan["queries"], args)
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
