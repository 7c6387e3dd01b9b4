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
        profile = cProfile.Profile()
        t = time.perf_counter()
        profile.enable()
        for n in range(2, args.scans):
            single(n)
        profile.disable()
        elapsed = time.perf_counter() - t
        print(f"single scans: {(elapsed) / (args.scans - 2) * 1000:.2f} ms each (profiled)")
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


if __name__ == "__main__":
    main()
