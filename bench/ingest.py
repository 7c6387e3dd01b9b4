"""Access-event ingestion speed: the real import path against a bare bulk_create.

    .venv/bin/python bench/ingest.py [--n 100000] [--backends sqlite,postgres]

For each backend (SQLite in a temporary file; PostgreSQL database `fl_bench` at 127.0.0.1 if
reachable) it generates N events as a generic CSV file, imports it with
`manage.py import_access_events` (checks, pseudonymisation, de-duplication, batch record,
alarms) and inserts the same rows with a bare `bulk_create` into a plain table with the same
columns and no key beyond its primary key, alternating, `--repeat` rounds (default 3); then
re-imports the file (all duplicates). It prints the median events per second of each, the
median of the per-round ratios, and each round's ratio. Each backend runs in its own process
so that its settings and its peak memory are its own.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgres://postgres@127.0.0.1:5432/fl_bench"
DOORS = ["D-MAIN", "D-DOCK2", "D-SRV", "D-ROOF", "D-GATE-B"]
TYPES = ["granted"] * 14 + ["denied", "door_opened", "rex", "door_closed"]
CHUNK = 2000


def generate(path: Path, n: int) -> None:
    """Write N events (streamed, never held in memory); one in 1,000 is a forced opening."""
    start = datetime(2026, 3, 28, 22, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "external_id", "occurred_at", "door", "event_type", "reason",
                         "credential", "cardholder", "direction"])  # fmt: skip
        for i in range(n):
            kind = "forced_open" if i % 1000 == 999 else TYPES[i % len(TYPES)]
            writer.writerow(
                [
                    "bench",
                    f"ev-{i:09d}",
                    (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                    DOORS[i % len(DOORS)],
                    kind,
                    "expired" if kind == "denied" else "",
                    "" if kind == "forced_open" else str(10000000 + i * 7919 % 9000000),
                    "" if kind == "forced_open" else f"Holder {i % 500}",
                    ("in", "out", "")[i % 3],
                ]
            )


def rows_of(path: Path):
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup_site(code: str):
    from facility_log.models import Zone
    from facility_log.services import access, accounts, sites

    actor = accounts.system_actor()
    site = sites.create_site(actor, code=code, name=f"Bench {code}", reason="benchmark")
    zone = sites.create_zone(site, actor, name="Bench zone", reason="benchmark")
    for code in DOORS:
        access.create_door(site, actor, zone=zone, code=code, name=code, reason="benchmark")
    return site, Zone.objects.get(pk=zone.pk)


def _plain_model(table: str):
    """A plain table with the events table's columns: no unique key, no secondary index."""
    from django.db import connection, models

    columns = {
        "site_id": models.BigIntegerField(),
        "door_id": models.BigIntegerField(),
        "batch_id": models.BigIntegerField(),
        "source": models.CharField(max_length=64),
        "external_id": models.CharField(max_length=128),
        "event_type": models.CharField(max_length=16),
        "reason": models.CharField(max_length=32),
        "vendor_type": models.CharField(max_length=128),
        "occurred_at": models.DateTimeField(),
        "received_at": models.DateTimeField(),
        "direction": models.CharField(max_length=3),
        "cardholder": models.CharField(max_length=200),
        "credential": models.CharField(max_length=64),
        "credential_hint": models.CharField(max_length=2),
    }
    meta = type("Meta", (), {"app_label": "bench", "db_table": table})
    model = type(
        table.title().replace("_", ""),
        (models.Model,),
        {**columns, "Meta": meta, "__module__": __name__, "__str__": lambda self: self.source},
    )
    with connection.schema_editor() as editor:
        editor.create_model(model)
    return model


def _bare_bulk_create(path: Path, site, door_ids: dict, table: str) -> float:
    model = _plain_model(table)
    from django.db import transaction

    received_at = datetime.now(UTC)
    started = time.perf_counter()
    with transaction.atomic():
        batch = []
        for r in rows_of(path):
            batch.append(
                model(
                    site_id=site.pk,
                    door_id=door_ids[r["door"]],
                    batch_id=1,
                    source=r["source"],
                    external_id=r["external_id"],
                    event_type=r["event_type"],
                    reason=r["reason"],
                    vendor_type="",
                    occurred_at=datetime.fromisoformat(r["occurred_at"]),
                    received_at=received_at,
                    direction=r["direction"],
                    cardholder=r["cardholder"],
                    credential=r["credential"],
                    credential_hint=r["credential"][-2:] if len(r["credential"]) >= 8 else "",
                )
            )
            if len(batch) == CHUNK:
                model.objects.bulk_create(batch)
                batch = []
        model.objects.bulk_create(batch)
    return time.perf_counter() - started


def _import(path: Path, site_code: str) -> float:
    from io import StringIO

    from django.core.management import call_command

    started = time.perf_counter()
    call_command(
        "import_access_events",
        str(path),
        site=site_code,
        fmt="generic-csv",
        progress_every=0,
        stdout=StringIO(),
    )
    return time.perf_counter() - started


def run_backend(n: int, repeat: int) -> dict:
    """Inside the child process: migrate a fresh database, then measure `repeat` rounds of
    (bare bulk_create, import), each import into a site of its own, and one re-import."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from facility_log.models import AccessEvent, Alarm, Door, ImportBatch

    call_command("migrate", verbosity=0)
    sites = [_setup_site(f"BENCH{i}")[0] for i in range(1, repeat + 1)]
    door_ids = dict(Door.objects.filter(site=sites[0]).values_list("code", "pk"))
    rounds, rss = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        generate(path, n)
        for i, site in enumerate(sites):
            bare = _bare_bulk_create(path, site, door_ids, f"bench_plain_{i}")
            rss.append(peak_rss_mb())
            rounds.append((_import(path, site.code), bare))
            rss.append(peak_rss_mb())
        again = _import(path, sites[0].code)
    first = sites[0]
    return {
        "backend": connection.vendor,
        "n": n,
        "rounds": rounds,
        "reimport_s": again,
        "stored": AccessEvent.objects.filter(site=first).count(),
        "alarms": Alarm.objects.filter(site=first).count(),
        "batches": list(
            ImportBatch.objects.filter(site=first)
            .order_by("pk")
            .values_list("created", "duplicates")
        ),
        "rss_before_mb": rss[0],
        "rss_after_mb": rss[1],
    }


def _postgres_ready() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True,
                             connect_timeout=3) as conn:  # fmt: skip
            conn.execute("DROP DATABASE IF EXISTS fl_bench")
            conn.execute("CREATE DATABASE fl_bench")
        return True
    except Exception as error:  # noqa: BLE001 (any failure means: skip PostgreSQL)
        print(f"PostgreSQL not reachable ({error}); skipped.", file=sys.stderr)
        return False


def spawn(backend: str, n: int, repeat: int) -> dict | None:
    # DEBUG off: with it on, Django keeps every SQL statement in memory (and that is not
    # what production does).
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    if backend == "sqlite":
        handle, db = tempfile.mkstemp(suffix=".sqlite3")
        os.close(handle)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    elif _postgres_ready():
        env["DATABASE_URL"] = PG_BENCH_URL
    else:
        return None
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--n", str(n), "--repeat", str(repeat)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(db + suffix).unlink(missing_ok=True)
    return json.loads(out.strip().splitlines()[-1])


def report(result: dict) -> None:
    """Median over the rounds; each round's ratio compares an import with the bare insert
    measured just before it."""
    from statistics import median

    n = result["n"]
    imports = [n / imp for imp, _bare in result["rounds"]]
    bares = [n / bare for _imp, bare in result["rounds"]]
    ratios = [bare / imp for imp, bare in result["rounds"]]
    print(
        f"{result['backend']:>10}  N={n:,}  import {median(imports):,.0f} ev/s"
        f"  | bare bulk_create {median(bares):,.0f} ev/s"
        f"  | ratio {median(ratios):.2f}x (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        f"  | re-import (all duplicates) {n / result['reimport_s']:,.0f} ev/s"
    )
    print(
        f"{'':>10}  stored {result['stored']:,}, alarms {result['alarms']:,}, batches "
        f"(created, duplicates) {result['batches']}; peak RSS {result['rss_before_mb']:.0f} MB "
        f"before the first import, {result['rss_after_mb']:.0f} MB after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is shown")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(json.dumps(run_backend(args.n, args.repeat)))
        return
    for backend in args.backends.split(","):
        result = spawn(backend.strip(), args.n, args.repeat)
        if result:
            report(result)


if __name__ == "__main__":
    main()
