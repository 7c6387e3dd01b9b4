"""Retention purge speed: `purge_expired` dry and applied, then `verify_audit`.

    .venv/bin/python bench/purge.py [--events 100000] [--batch 10000] [--views 2000]
                                    [--backends sqlite,postgres]

For each backend (SQLite in a temporary file; PostgreSQL database `fl_bench_purge` at
127.0.0.1 if reachable), in a process of its own: migrate, import EVENTS access events in
files of BATCH (one in 1,000 a forced opening, which raises an alarm that is then
acknowledged), record VIEWS record views, then run the purge as of 800 days later (so every
event, alarm and view has expired): a dry run, the applied run, and `verify_audit`. Prints the
seconds of each, the rows and tombstones, and the peak memory.
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "fl_bench_purge"


def _write_batch(path: Path, start: int, size: int, now) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["source", "external_id", "occurred_at", "door", "event_type", "cardholder"]
        )
        for i in range(start, start + size):
            kind = "forced_open" if i % 1000 == 999 else "granted"
            when = (now - timedelta(seconds=i)).isoformat()
            writer.writerow(["bench", f"ev-{i:09d}", when, "D-1", kind, f"Holder {i % 500}"])


def _seed(events: int, batch: int, views: int) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from facility_log.models import Alarm
    from facility_log.services import access, accounts, sites
    from facility_log.services.view_log import record_view

    actor = accounts.system_actor()
    site = sites.create_site(actor, code="BENCH", name="Bench", reason="benchmark")
    zone = sites.create_zone(site, actor, name="Lobby", reason="benchmark")
    access.create_door(site, actor, zone=zone, code="D-1", name="Door", reason="benchmark")
    now = timezone.now()
    with tempfile.TemporaryDirectory() as folder:
        for start in range(0, events, batch):
            path = Path(folder) / f"events-{start}.csv"
            _write_batch(path, start, min(batch, events - start), now)
            call_command(
                "import_access_events",
                str(path),
                site="BENCH",
                fmt="generic-csv",
                progress_every=0,
                stdout=StringIO(),
            )
    for alarm in Alarm.objects.filter(site=site):
        access.acknowledge_alarm(alarm, actor, note="bench")
    for _ in range(views):
        record_view(actor, site, site=site, label="bench")


def run_backend(events: int, batch: int, views: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from facility_log.models import AccessEvent, LedgerEntry
    from facility_log.services.accounts import system_actor
    from facility_log.services.retention import purge_expired
    from facility_log.services.verify import verify_audit

    call_command("migrate", verbosity=0)
    _seed(events, batch, views)
    later = timezone.now() + timedelta(days=800)
    entries = LedgerEntry.objects.count()
    timings = {}
    for name, apply in (("dry_run_s", False), ("apply_s", True)):
        started = time.perf_counter()
        run = purge_expired(system_actor(), apply=apply, now=later)
        timings[name] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    result = verify_audit()
    timings["verify_s"] = round(time.perf_counter() - started, 2)
    counts = {c.kind: (c.records, c.rows) for c in run.counts.all() if c.records}
    return {
        "backend": connection.vendor,
        **timings,
        "removed": counts,
        "events_left": AccessEvent.objects.count(),
        "tombstones": LedgerEntry.objects.filter(kind="tombstone").count(),
        "ledger_entries_added": LedgerEntry.objects.count() - entries,
        "intact": result.intact,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _postgres_ready() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
        return True
    except Exception as error:  # noqa: BLE001 (any failure means: skip PostgreSQL)
        print(f"PostgreSQL not reachable ({error}); skipped.", file=sys.stderr)
        return False


def spawn(backend: str, args) -> dict | None:
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        DJANGO_SETTINGS_MODULE="config.settings",
        MEDIA_ROOT=tempfile.mkdtemp(prefix="fl_bench_media_"),
    )
    db = None
    if backend == "sqlite":
        handle, db = tempfile.mkstemp(suffix=".sqlite3")
        os.close(handle)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    elif _postgres_ready():
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
    else:
        return None
    command = [sys.executable, __file__, "--child", "--events", str(args.events)]
    command += ["--batch", str(args.batch), "--views", str(args.views)]
    try:
        out = subprocess.run(
            command, env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    finally:
        for suffix in ("", "-wal", "-shm"):
            if db:
                Path(db + suffix).unlink(missing_ok=True)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--views", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(run_backend(args.events, args.batch, args.views)))
        return
    for backend in args.backends.split(","):
        result = spawn(backend, args)
        if result is not None:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
