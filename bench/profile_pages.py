"""Where a page's time goes: each page of bench/pages.py requested in-process (Django's test
client, the bench server's settings: DEBUG=0, cached templates, PostgreSQL) against the volume
bench/data.py built, timed and profiled with cProfile beside the bare 50-row page.

    .venv/bin/python bench/profile_pages.py [--db fl_pages_bench] [--only "incident list"]
        [--requests 30] [--top 25] [--sort tottime|cumulative] [--out /tmp/profiles]

Per page it prints the median in-process time of `--requests` requests, the number of queries
and their share of the time, and the ratio of the bare page's time to the page's (what
gunicorn's throughput ratio tends to when the Python work dominates); with `--top` the
heaviest functions of the page's profile (a `.prof` file per page is written to `--out` for
`python -m pstats` or snakeviz). The "floor:" entries (bench/pages.py FLOOR), the bare page
signed in and the API's cheapest endpoint, are the fixed cost of a signed-in request. Timing
is printed, never asserted; the machine is shared, so the load average is printed too.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from bench.pages import BARE, FLOOR, PAGES, server_env, verified_session  # noqa: E402

HEADERS = {"host": "127.0.0.1", "x-forwarded-proto": "https"}


def setup(db: str, media: str) -> None:
    """The bench server's environment (bench/pages.py), its migrations and static manifest."""
    os.environ.update(server_env(db, media))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)
    from django.db import connection

    from bench.server.urls import BARE_PAGE_TABLE, CREATE_BARE_PAGE_TABLE, FILL_BARE_PAGE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(CREATE_BARE_PAGE_TABLE)
        cursor.execute(f"SELECT count(*) FROM {BARE_PAGE_TABLE}")  # noqa: S608
        if not cursor.fetchone()[0]:
            cursor.execute(FILL_BARE_PAGE_TABLE)


def plan_for_profile() -> dict:
    """The records bench/pages.py measures, a signed-in client and a token client."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from facility_log.models import Alarm, Incident, Run, Shift
    from facility_log.services import accounts

    manager = get_user_model().objects.get(username="manager")
    browser = Client(headers=HEADERS, secure=True)
    verified_session(browser, manager)
    _token, key = accounts.issue_api_token(manager, accounts.system_actor(), reason="profile")
    api = Client(headers={**HEADERS, "authorization": f"Token {key}"}, secure=True)
    bare = Client(headers=HEADERS, secure=True)

    def first(queryset, order):
        return queryset.order_by(order).values_list("pk", flat=True).first()

    hq = {"site__code": "HQ"}
    records = {
        "incident": first(Incident.objects.filter(**hq, status="approved"), "-occurred_from"),
        "alarm": first(Alarm.objects.filter(**hq, state="resolved"), "-raised_at"),
        "run": first(Run.objects.filter(**hq, finished_at__isnull=False), "-started_at"),
        "shift": first(Shift.objects.filter(**hq, ended_at__isnull=False), "-started_at"),
    }
    return {"browser": browser, "api": api, "bare": bare, "records": records}


def client_for(path: str, plan: dict):
    if path.startswith("/bench/bare-"):
        return plan["bare"]
    return plan["api"] if path.startswith("/api/") else plan["browser"]


def timed(client, path: str, n: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (this process: the Python work) of `n` requests."""
    wall, cpu = [], []
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return wall, cpu


def queries(client, path: str, show: bool) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    if show:
        for query in captured.captured_queries:
            print(f"    {float(query['time']) * 1000:6.1f} ms  {query['sql'][:300]}")
    return len(captured), sum(float(q["time"]) for q in captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=data.DEFAULT_DB)
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--top", type=int, default=0, help="print this many functions")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--sql", action="store_true", help="print each page's queries")
    parser.add_argument("--out", default=str(Path("/tmp") / f"{ROOT.name}-profiles"))
    args = parser.parse_args()
    setup(args.db, tempfile.mkdtemp(prefix="profile-media-"))
    plan = plan_for_profile()
    pages = [(BARE, "bare", "/bench/bare-page/"), *PAGES, *FLOOR]
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")} | {BARE}
        pages = [page for page in pages if page[0] in wanted]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}; {args.requests} requests")
    print(f"{'page':<24} {'wall ms':>8} {'cpu ms':>7} {'queries':>8} {'db ms':>7} {'bare/page':>9}")
    bare_cpu = None
    for name, _kind, path in pages:
        path = path.format(**plan["records"])
        client = client_for(path, plan)
        timed(client, path, 3)  # warm: templates compiled, connection open
        wall, cpu = timed(client, path, args.requests)
        wall_ms, cpu_ms = statistics.median(wall) * 1000, statistics.median(cpu) * 1000
        count, db_seconds = queries(client, path, args.sql)
        bare_cpu = cpu_ms if bare_cpu is None else bare_cpu
        print(
            f"{name:<24} {wall_ms:8.1f} {cpu_ms:7.2f} {count:8d} {db_seconds * 1000:7.1f}"
            f" {bare_cpu / cpu_ms:9.3f}",
            flush=True,
        )
        profile = cProfile.Profile()
        profile.enable()
        timed(client, path, args.requests)
        profile.disable()
        profile.dump_stats(out / f"{name.replace(' ', '_').replace('/', '')}.prof")
        if args.top:
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats(args.sort).print_stats(args.top)
            print(text.getvalue())


if __name__ == "__main__":
    main()
