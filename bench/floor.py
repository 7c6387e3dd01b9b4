"""The fixed cost of a signed-in request, before and after reading the user with the session's
authenticator (facility_log/signed_in.py), and what sessions read from Redis would save (Django's
cached_db engine: measured here only, not used by the app; docs/performance.md says why):
each variant in its own process, in-process requests as bench/profile_pages.py makes them,
variants interleaved over rounds.

    .venv/bin/python bench/floor.py [--db fl_pages_bench] [--rounds 5] [--requests 200]
        [--only "floor: signed-in bare page,incident list"] [--redis redis://127.0.0.1:6379/15]
        [--steps]

With `--steps`, the reads alone instead, interleaved in one process (no pages, no middleware).

Variants: `before` (Django's and django-otp's middleware: session, user and device, one query
each), `one query` (user and device in one), `+ redis sessions` (that, with CACHE_URL naming
Redis and Django's cached_db engine set for this process only: the session from the cache).
Per page and variant it prints the min/median/max over
rounds of the median CPU and wall milliseconds of `--requests` requests, and the queries of
one request. Timing is printed, never asserted; the load average is printed too.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402

VARIANTS = ["before", "one query", "+ redis sessions"]
DEFAULT_PAGES = [
    "bare page (50 rows)",
    "floor: signed-in bare page",
    "floor: API me",
    "incident list",
    "API incidents",
    "incident page",
]
DJANGO_MIDDLEWARE = {
    "facility_log.signed_in.AuthenticationMiddleware": (
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    ),
    "facility_log.signed_in.OTPMiddleware": "django_otp.middleware.OTPMiddleware",
}


def child(variant: str, names: list[str], requests: int, db: str, redis: str) -> None:
    """Measure `names` under `variant` in this process; print one JSON line."""
    from bench import profile_pages
    from bench.pages import BARE, FLOOR, PAGES

    if variant == "+ redis sessions":
        os.environ["CACHE_URL"] = redis
    profile_pages.setup(db, tempfile.mkdtemp(prefix="floor-media-"))
    from django.conf import settings
    from django.core.cache import cache

    if variant == "before":
        settings.MIDDLEWARE = [DJANGO_MIDDLEWARE.get(m, m) for m in settings.MIDDLEWARE]
    if variant == "+ redis sessions":
        # Read by the session middleware when the first request builds it.
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
        cache.clear()
    plan = profile_pages.plan_for_profile()
    pages = {name: path for name, _kind, path in [(BARE, "", "/bench/bare-page/"), *PAGES, *FLOOR]}
    results = {}
    for name in names:
        path = pages[name].format(**plan["records"])
        client = profile_pages.client_for(path, plan)
        profile_pages.timed(client, path, 5)
        wall, cpu = profile_pages.timed(client, path, requests)
        count, _db = profile_pages.queries(client, path, show=False)
        results[name] = {
            "wall": statistics.median(wall) * 1000,
            "cpu": statistics.median(cpu) * 1000,
            "queries": count,
        }
    print("RESULT " + json.dumps(results), flush=True)


def steps(db: str, rounds: int, n: int, redis: str) -> None:
    """The reads alone, interleaved in one process: the session (database, Redis) and the
    user with the session's device (a query each, or one)."""
    from bench import profile_pages

    os.environ["CACHE_URL"] = redis
    profile_pages.setup(db, tempfile.mkdtemp(prefix="floor-media-"))
    import time

    from django.contrib import auth
    from django.contrib.sessions.backends.cached_db import SessionStore as CachedStore
    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
    from django.core.cache import cache
    from django.http import HttpRequest
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    from facility_log import signed_in

    cache.clear()
    plan = profile_pages.plan_for_profile()
    key = plan["browser"].cookies["sessionid"].value
    CachedStore(key).load()  # into the cache

    def request_with(session):
        request = HttpRequest()
        request.session = session
        request.session.keys()  # read (once) as the session middleware's first use does
        return request

    def before():
        request = request_with(DatabaseStore(key))
        user = auth.get_user(request)
        device = Device.from_persistent_id(request.session[DEVICE_ID_SESSION_KEY])
        assert user.is_authenticated and device.user_id == user.pk  # noqa: S101

    def after():
        request = request_with(DatabaseStore(key))
        user = signed_in.get_user(request)
        assert user.is_authenticated and request._session_device.user is user  # noqa: S101

    def session_db():
        DatabaseStore(key).load()

    def session_redis():
        CachedStore(key).load()

    functions = {f.__name__: f for f in (before, after, session_db, session_redis)}
    timings = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            for _ in range(20):
                function()
            cpu, wall = [], []
            for _ in range(n):
                started, started_cpu = time.perf_counter(), time.process_time()
                function()
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            timings[name].append((statistics.median(cpu) * 1000, statistics.median(wall) * 1000))
    labels = {
        "before": "session (db) + user + device: 3 queries",
        "after": "session (db) + user with device: 2 queries",
        "session_db": "session alone, database",
        "session_redis": "session alone, Redis (cached_db)",
    }
    print(f"{rounds} rounds x {n}; ms min/median/max of round medians")
    print("| step | cpu ms | wall ms |\n|---|---|---|")
    for name, runs in timings.items():
        cpu_ms = spread([c for c, _w in runs])
        wall_ms = spread([w for _c, w in runs])
        print(f"| {labels[name]} | {cpu_ms} | {wall_ms} |")


def spread(values) -> str:
    return "/".join(f"{v:.2f}" for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=data.DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--steps", action="store_true", help="time the reads alone")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps:
        steps(args.db, args.rounds, args.requests, args.redis)
        return
    names = [n.strip() for n in args.only.split(",")] if args.only else DEFAULT_PAGES
    if args.child:
        child(args.child, names, args.requests, args.db, args.redis)
        return
    variants = [v.strip() for v in args.variants.split(",")]
    runs = {v: [] for v in variants}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for number in range(args.rounds):
        shift = number % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            command = [sys.executable, __file__, f"--child={variant}", f"--db={args.db}"]
            command += [f"--requests={args.requests}", f"--only={','.join(names)}"]
            command += [f"--redis={args.redis}"]
            output = subprocess.run(  # noqa: S603
                command, cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
            line = next(x for x in output.splitlines() if x.startswith("RESULT "))
            runs[variant].append(json.loads(line.removeprefix("RESULT ")))
        print(f"  round {number + 1} done", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.rounds} rounds x {args.requests} requests; ms min/median/max of round medians")
    print("| page | variant | queries | cpu ms | wall ms |\n|---|---|---|---|---|")
    for name in names:
        for variant in variants:
            cpu = [r[name]["cpu"] for r in runs[variant]]
            wall = [r[name]["wall"] for r in runs[variant]]
            count = runs[variant][0][name]["queries"]
            print(f"| {name} | {variant} | {count} | {spread(cpu)} | {spread(wall)} |")


if __name__ == "__main__":
    main()
