"""Profile one checkpoint scan and one /api/v1/sync/ batch of 100 scans in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fl_NAME DEBUG=0 SECRET_KEY=... \
      ALLOWED_HOSTS=testserver .venv/bin/python bench/profile_writes.py [--scans 200] [--top 25]

Migrates the database named by DATABASE_URL (a scratch one: it is filled), builds a site with a
20-stop route and a guard with a token, then sends `--scans` single scans through Django's test
client (queries counted, cProfile around them) and the same number again as /sync/ batches of
100. Prints the queries per request, the mean wall time per record and the top functions by
cumulative time. What to cut is read from here; timing is printed, never asserted.
"""

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Requests come as from behind the TLS proxy (X-Forwarded-Proto): else DEBUG=0 redirects them.
os.environ.setdefault("BEHIND_TLS_PROXY", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", choices=["scan", "sync"], default=None)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.scans import _guard_with_token
    from bench.tablet_sync import build
    from facility_log.services import rounds

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    site, _guard, route, checkpoints = build(20)
    guard = _guard_with_token(site, f"prof-{uuid.uuid4().hex[:6]}")
    headers = {"authorization": f"Token {guard['token']}", "x-forwarded-proto": "https"}
    client = Client(headers=headers)
    began = timezone.now() - timedelta(hours=5)
    count = args.scans // 20 * 2 + 2
    runs = [rounds.start_run(route, guard["user"], started_at=began) for _ in range(count)]

    def scan_body(run, n):
        return {
            "run": run.pk,
            "tag_code": checkpoints[n % 20].tag_code,
            "client_uuid": str(uuid.uuid4()),
            "method": "qr",
            "device_time": (began + timedelta(minutes=n % 20)).isoformat(),
        }

    def single(n):
        body = scan_body(runs[n // 20], n)
        answer = client.post("/api/v1/scans/", json.dumps(body), content_type="application/json")
        assert answer.status_code == 201, answer.content

    def batch(first):
        records = [
            {"type": "scan", **scan_body(runs[(first + i) // 20], first + i)} for i in range(100)
        ]
        body = json.dumps({"records": records})
        answer = client.post("/api/v1/sync/", body, content_type="application/json")
        assert answer.status_code == 200, answer.content
        outcomes = {r.get("status") for r in answer.json()["results"]}
        assert outcomes <= {201}, answer.content[:500]

    if args.only in (None, "scan"):
        single(0)  # warm up
        with CaptureQueriesContext(connection) as ctx:
            single(1)
        print(f"one scan: {len(ctx.captured_queries)} queries")
        for q in ctx.captured_queries:
            print("   ", q["sql"][:160])
        # Unprofiled first: the wall and the CPU time of this process (the server's Python
        # work; the database's is the difference, less the round trips' waiting).
        half = 2 + (args.scans - 2) // 2
        server = database_cpu(connection)
        t, cpu, db_cpu = time.perf_counter(), time.process_time(), server()
        for n in range(2, half):
            single(n)
        wall, cpu, db_cpu = time.perf_counter() - t, time.process_time() - cpu, server() - db_cpu
        each = 1000 / (half - 2)
        print(
            f"single scans: {wall * each:.2f} ms wall, {cpu * each:.2f} ms CPU each, and"
            f" {db_cpu * each:.2f} ms of the database server's CPU (unprofiled)"
        )
        profile = cProfile.Profile()
        t = time.perf_counter()
        profile.enable()
        for n in range(half, args.scans):
            single(n)
        profile.disable()
        elapsed = time.perf_counter() - t
        print(f"single scans: {elapsed / (args.scans - half) * 1000:.2f} ms each (profiled)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)

    if args.only in (None, "sync"):
        base = args.scans + 20 - args.scans % 20
        with CaptureQueriesContext(connection) as ctx:
            batch(base)
        print(f"sync batch of 100 scans: {len(ctx.captured_queries)} queries")
        profile = cProfile.Profile()
        t = time.perf_counter()
        profile.enable()
        for k in range(1, max(2, args.scans // 100)):
            batch(base + 100 * k)
        profile.disable()
        elapsed = time.perf_counter() - t
        per_record = elapsed / ((max(2, args.scans // 100) - 1) * 100) * 1000
        print(f"sync: {per_record:.2f} ms per record (profiled)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


def database_cpu(connection):
    """A function giving the CPU seconds used so far by this connection's PostgreSQL backend
    (read from /proc: the server runs on this machine), or always 0 where it cannot be read."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    return used


if __name__ == "__main__":
    main()
