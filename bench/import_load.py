"""Does a large import stop the site? Guards' writes over HTTP while a big access-event file is
imported, against the same writes with nothing else running.

    .venv/bin/python bench/import_load.py [--backend postgres|sqlite] [--events 200000]
                                          [--clients 20] [--interval 1.0] [--quiet-seconds 20]
                                          [--workers 2] [--port N]

Production-like: gunicorn with `--workers` sync workers (2), DEBUG=0, PostgreSQL (database
`fl_importload_bench` or $IMPORTLOAD_BENCH_DB, recreated) or a fresh SQLite file. Seeds a
site with five doors, a 20-stop route and one guard with an API token per client, and
writes an N-event generic CSV in which one event in ten raises an alarm (forced open, held
open, tamper), as in real files.

Each client writes once every `--interval` seconds, alternating an incident draft
(`POST /api/v1/incidents/`) and a checkpoint scan (`POST /api/v1/scans/`):

1. quiet: `--quiet-seconds` of that load alone;
2. import: the same load while `manage.py import_access_events` imports the file in its own
   process, until the import ends.

Prints each phase's requests, errors (by status, and any answer that mentions "database is
locked"), p50/p95/max, the import's time and rate, and the machine's load average (it is
shared: compare the import phase with the quiet one of the same run). The issue's bar: p95
under 200 ms and no error during a 200,000-event import. Timing is printed, never asserted.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scans  # noqa: E402  (the HTTP client, server start and database helpers)
from bench.ledger_lock import DOORS, generate  # noqa: E402  (the same N-event file, 10 % alarms)

ROOT = Path(__file__).resolve().parent.parent
# A database name of your own on a shared machine.
DB_NAME = os.environ.get("IMPORTLOAD_BENCH_DB", "fl_importload_bench")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
STOPS = 20


def seed(out: Path, clients: int) -> None:
    """Migrate; the site, its doors and route; a guard, token and open run per client."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.tablet_sync import build
    from facility_log.services import access, accounts, rounds

    call_command("migrate", verbosity=0)
    site, _guard, route, checkpoints = build(STOPS)
    actor = accounts.system_actor()
    for code in DOORS:
        access.create_door(site, actor, zone=site.zones.first(), code=code, name=code, reason="b")
    began = timezone.now() - timedelta(hours=2)
    plan = {"site": site.code, "clients": []}
    for n in range(clients):
        guard = scans._guard_with_token(site, f"client-{n:02d}")
        runs = [rounds.start_run(route, guard["user"], started_at=began).pk for _ in range(30)]
        plan["clients"].append(
            {
                "token": guard["token"],
                "runs": runs,
                "codes": [c.tag_code for c in checkpoints],
                "started": began.isoformat(),
            }  # fmt: skip
        )
    out.write_text(json.dumps(plan))


class Client:
    """One guard's device: alternately an incident draft and the next scan of its runs."""

    def __init__(self, data: dict, site: str):
        self.token, self.runs, self.codes = data["token"], data["runs"], data["codes"]
        self.started = datetime.fromisoformat(data["started"])
        self.site, self.sent = site, 0

    def request(self) -> tuple[str, bytes, dict]:
        n, self.sent = self.sent, self.sent + 1
        headers = {"Content-Type": "application/json", "Authorization": f"Token {self.token}"}
        if n % 2 == 0:
            body = {
                "site": self.site,
                "client_uuid": str(uuid.uuid4()),
                "title": "Propped door",
                "severity": "medium",
                "occurred_from": (self.started + timedelta(minutes=n)).isoformat(),
                "narrative": "Side door found propped open during the import.",
            }
            return "/api/v1/incidents/", json.dumps(body).encode(), headers
        scan = n // 2
        body = {
            "run": self.runs[scan // STOPS % len(self.runs)],
            "tag_code": self.codes[scan % STOPS],
            "client_uuid": str(uuid.uuid4()),
            "method": "qr",
            "device_time": (self.started + timedelta(minutes=scan % STOPS)).isoformat(),
        }
        return "/api/v1/scans/", json.dumps(body).encode(), headers


class Tally:
    """Latencies, failures by status, and answers that say the database was locked."""

    def __init__(self):
        self.latencies: list[float] = []
        self.failures: dict[int, int] = {}
        self.locked = 0

    async def send(self, path, body, headers) -> None:
        try:
            status, payload, elapsed = await scans.http("POST", path, body, headers)
        except OSError:
            status, payload, elapsed = 599, b"connection failed", 0.0
        self.latencies.append(elapsed)
        if status >= 300:
            self.failures[status] = self.failures.get(status, 0) + 1
        if b"database is locked" in payload:
            self.locked += 1

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies) or [float("nan")]
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        return (
            f"{name:<8} requests {len(self.latencies):>6}  p50 "
            f"{statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
            f"max {ordered[-1] * 1000:8.1f} ms  errors {self.failures or 0}  "
            f"'database is locked' {self.locked}"
        )


async def load(clients: list[Client], interval: float, until) -> Tally:
    """Every client writes once per interval, staggered, until `until()` says stop."""
    tally, loop = Tally(), asyncio.get_running_loop()
    start = loop.time()

    async def one(client: Client, offset: float) -> None:
        n = 0
        while not until():
            await asyncio.sleep(max(0.0, start + offset + n * interval - loop.time()))
            await tally.send(*client.request())
            n += 1

    step = interval / len(clients)
    await asyncio.gather(*(one(c, i * step) for i, c in enumerate(clients)))
    return tally


async def measure(clients, args, env, csv_path: Path, site: str) -> None:
    loop = asyncio.get_running_loop()
    quiet_end = loop.time() + args.quiet_seconds
    quiet = await load(clients, args.interval, lambda: loop.time() >= quiet_end)
    print(quiet.line("quiet"), f" load {scans.load_average()}", flush=True)

    command = [sys.executable, "manage.py", "import_access_events", str(csv_path),
               "--site", site, "--format", "generic-csv"]  # fmt: skip
    began = time.perf_counter()
    importer = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    during = await load(clients, args.interval, lambda: importer.poll() is not None)
    elapsed = time.perf_counter() - began
    output = importer.stdout.read().decode(errors="replace").strip().splitlines()
    print(during.line("import"), flush=True)
    print(
        f"import: exit {importer.returncode}, {elapsed:.1f} s, "
        f"{args.events / elapsed:,.0f} events/s; last line: {output[-1] if output else ''}"
    )
    ratio = (
        sorted(during.latencies)[int(len(during.latencies) * 0.95) - 1]
        / sorted(quiet.latencies)[int(len(quiet.latencies) * 0.95) - 1]
    )
    print(f"p95 during the import / quiet p95: {ratio:.1f}x; load average {scans.load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between a client's writes"
    )
    parser.add_argument("--quiet-seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: free)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's sync workers")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fl-importload-"))
    if args.backend == "postgres":
        scans.DB_NAME, scans.PG_URL = DB_NAME, PG_URL
        if not scans.recreate_database():
            return
        url = PG_URL
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    scans.PORT = args.port or scans.free_port()
    scans.WORKERS = args.workers
    env = dict(scans.server_env(str(work / "media")), DATABASE_URL=url)
    plan_path = work / "plan.json"
    seed_call = f"import bench.import_load as b, pathlib; b.seed(pathlib.Path({str(plan_path)!r}), {args.clients})"  # noqa: E501
    subprocess.run([sys.executable, "-c", seed_call], cwd=ROOT, env=env, check=True)  # noqa: S603
    plan = json.loads(plan_path.read_text())
    csv_path = work / "events.csv"
    generate(csv_path, args.events)
    print(
        f"{args.backend}: {args.events:,} events (10 % raise alarms), {args.clients} clients "
        f"each writing every {args.interval:g} s, gunicorn {args.workers} workers; "
        f"load average {scans.load_average()} on {os.cpu_count()} cores (shared machine)"
    )
    server = scans.start_server(env)
    try:
        clients = [Client(data, plan["site"]) for data in plan["clients"]]
        asyncio.run(measure(clients, args, env, csv_path, plan["site"]))
    finally:
        server.terminate()
        server.wait()
        if args.backend == "postgres":
            scans.drop_database()


if __name__ == "__main__":
    main()
