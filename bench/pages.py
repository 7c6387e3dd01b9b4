"""Serving speed of a 50-row API page, and what keeping database connections is worth.

    .venv/bin/python bench/pages.py [--requests 400]

Runs the same request (`GET /api/v1/zones/?limit=50`, token auth, 50 zones) through Django's
WSGI handler in-process (as gunicorn calls it), in three set-ups, each in its own process:

  * PostgreSQL, a new connection per request (CONN_MAX_AGE=0) — the baseline
  * PostgreSQL, connections kept (CONN_MAX_AGE=600, the default)
  * SQLite (the `make run` default)

and prints requests per second with the ratio to the baseline measured in the same run.
PostgreSQL is used at 127.0.0.1:5432 (database `fl_bench_pages`, recreated); if it is not
reachable those rows are skipped.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/fl_bench_pages"
ROWS = 50


def _prepare_postgres() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            PG_ADMIN.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute("DROP DATABASE IF EXISTS fl_bench_pages")
            conn.execute("CREATE DATABASE fl_bench_pages")
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        print(f"PostgreSQL not reachable ({error}); skipping its rows", file=sys.stderr)
        return False


def child(requests: int) -> None:
    """Run inside a configured process: migrate, seed, time the requests, print JSON."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from facility_log.services import accounts, sites

    actor = accounts.system_actor()
    site = sites.create_site(actor, code="BENCH", name="Bench", reason="benchmark")
    for n in range(ROWS):
        sites.create_zone(site, actor, name=f"Zone {n:03d}", reason="benchmark")
    user = accounts.create_user(actor, username="bench", password=None, reason="benchmark")
    sites.grant_membership(site, actor, user=user, role="guard", reason="benchmark")
    _token, key = accounts.issue_api_token(user, actor, reason="benchmark")
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    def get() -> bytes:
        # Straight through the WSGI handler, as gunicorn calls it: Django's test client would
        # keep the connection open whatever CONN_MAX_AGE says.
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/zones/",
            "QUERY_STRING": f"limit={ROWS}",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "HTTP_AUTHORIZATION": f"Token {key}",
        }
        statuses = []
        response = application(environ, lambda status, headers: statuses.append(status))
        body = b"".join(response)
        response.close()  # request_finished: this is where CONN_MAX_AGE=0 closes
        assert statuses[0].startswith("200"), statuses
        return body

    for _ in range(20):  # warm up
        get()
    started = time.perf_counter()
    for _ in range(requests):
        body = get()
    elapsed = time.perf_counter() - started
    assert len(json.loads(body)["results"]) == ROWS
    print(json.dumps({"rps": requests / elapsed}))


def run(label: str, requests: int, **env) -> float:
    environment = dict(
        os.environ,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="testserver",
        **env,
    )
    result = subprocess.run(
        [sys.executable, __file__, "--child", f"--requests={requests}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{label} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["rps"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        child(args.requests)
        return
    results = []
    if _prepare_postgres():
        results.append(
            (
                "PostgreSQL, connection per request (baseline)",
                run("pg-0", args.requests, DATABASE_URL=PG_URL, CONN_MAX_AGE="0"),
            )
        )
        _prepare_postgres()
        results.append(
            (
                "PostgreSQL, connections kept (default)",
                run("pg-600", args.requests, DATABASE_URL=PG_URL, CONN_MAX_AGE="600"),
            )
        )
    with tempfile.TemporaryDirectory() as folder:
        results.append(
            (
                "SQLite (make run)",
                run("sqlite", args.requests, DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3"),
            )
        )
    baseline = results[0][1]
    print(f"GET /api/v1/zones/?limit={ROWS}, {args.requests} requests, in-process, one client")
    for label, rps in results:
        print(f"  {label:<48} {rps:8.0f} req/s   x{rps / baseline:.2f}")


if __name__ == "__main__":
    main()
