"""Access-event import speed and memory: the real import path beside a bare bulk_create and a
bare COPY of the same rows, in the same run.

    .venv/bin/python bench/ingest.py [--n 100000] [--repeat 5] [--backends postgres,sqlite]
                                     [--mem-sizes 50000,200000]

For each backend (PostgreSQL database `fl_ingest_bench` at 127.0.0.1; SQLite in a temporary
file) it generates N events as a generic CSV file with a realistic alarm mix (one event in ten
is a forced door, a door held open, a tamper or a controller going offline: each raises an
alarm), then runs `--repeat` rounds. Each round measures, in an order rotated from round to
round so that none always runs first or last:

* import: `manage.py import_access_events` into a site of its own (checks, pseudonymisation,
  staging + INSERT … ON CONFLICT per chunk, batch records, ledger entries, alarms with history);
* bulk_create: the same rows parsed from the file and inserted with Django's `bulk_create`
  (2,000 per query) into a plain table with the same columns and no key but its primary key;
* COPY (PostgreSQL): the same rows parsed from the file and streamed with psycopg's COPY into
  such a plain table.

It prints events/s (min/median/max over rounds) and the per-round ratios import ÷ bulk_create
and import ÷ COPY (min/median/max), the rate of a re-import of the same file (all duplicates),
and the peak memory (max RSS) of a process that imports a file of each of `--mem-sizes`
events, to show that memory does not grow with the file. Each backend and each memory
measurement runs in its own process, so that its settings and its peak memory are its own.
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
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = os.environ.get("INGEST_BENCH_DB", "fl_ingest_bench")  # your own name when shared
PG_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
DOORS = ["D-MAIN", "D-DOCK2", "D-SRV", "D-ROOF", "D-GATE-B"]
TYPES = ["granted"] * 14 + ["denied", "door_opened", "rex", "door_closed"]
ALARM_TYPES = ["forced_open", "held_open", "tamper", "offline"]
CHUNK = 2000
COLUMNS = ["source", "external_id", "occurred_at", "door", "event_type", "reason",
           "credential", "cardholder", "direction"]  # fmt: skip


def generate(path: Path, n: int, prefix: str = "ev") -> None:
    """Write N events (streamed, never held in memory); one in ten raises an alarm."""
    start = datetime(2026, 3, 28, 22, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(n):
            alarm = i % 10 == 9
            kind = ALARM_TYPES[(i // 10) % len(ALARM_TYPES)] if alarm else TYPES[i % len(TYPES)]
            writer.writerow(
                [
                    "bench",
                    f"{prefix}-{i:09d}",
                    (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                    DOORS[i % len(DOORS)],
                    kind,
                    "expired" if kind == "denied" else "",
                    "" if alarm else str(10000000 + i * 7919 % 9000000),
                    "" if alarm else f"Holder {i % 500}",
                    ("in", "out", "")[i % 3],
                ]
            )


def rows_of(path: Path):
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup_site(code: str):
    from facility_log.services import access, accounts, sites

    actor = accounts.system_actor()
    site = sites.create_site(actor, code=code, name=f"Bench {code}", reason="benchmark")
    zone = sites.create_zone(site, actor, name="Bench zone", reason="benchmark")
    for door in DOORS:
        access.create_door(site, actor, zone=zone, code=door, name=door, reason="benchmark")
    return site


PLAIN_COLUMNS = {
    "site_id": ("BigIntegerField", {}),
    "door_id": ("BigIntegerField", {}),
    "batch_id": ("BigIntegerField", {}),
    "source": ("CharField", {"max_length": 64}),
    "external_id": ("CharField", {"max_length": 128}),
    "event_type": ("CharField", {"max_length": 16}),
    "reason": ("CharField", {"max_length": 32}),
    "vendor_type": ("CharField", {"max_length": 128}),
    "occurred_at": ("DateTimeField", {}),
    "received_at": ("DateTimeField", {}),
    "direction": ("CharField", {"max_length": 3}),
    "cardholder": ("CharField", {"max_length": 200}),
    "credential": ("CharField", {"max_length": 64}),
    "credential_hint": ("CharField", {"max_length": 2}),
}


def _plain_model(table: str):
    """A plain table with the events table's columns: no unique key, no secondary index."""
    from django.db import connection, models

    columns = {name: getattr(models, kind)(**kw) for name, (kind, kw) in PLAIN_COLUMNS.items()}
    meta = type("Meta", (), {"app_label": "bench", "db_table": table})
    model = type(
        table.title().replace("_", ""),
        (models.Model,),
        {**columns, "Meta": meta, "__module__": __name__, "__str__": lambda self: self.source},
    )
    with connection.schema_editor() as editor:
        editor.create_model(model)
    return model


def _plain_values(r: dict, site_id: int, door_ids: dict, received_at) -> tuple:
    credential = r["credential"]
    return (
        site_id,
        door_ids[r["door"]],
        1,
        r["source"],
        r["external_id"],
        r["event_type"],
        r["reason"],
        "",
        datetime.fromisoformat(r["occurred_at"]),
        received_at,
        r["direction"],
        r["cardholder"],
        credential,
        credential[-2:] if len(credential) >= 8 else "",
    )


def bare_bulk_create(path: Path, site, door_ids: dict, table: str) -> float:
    from django.db import transaction

    model = _plain_model(table)
    names = list(PLAIN_COLUMNS)
    received_at = datetime.now(UTC)
    started = time.perf_counter()
    with transaction.atomic():
        batch = []
        for r in rows_of(path):
            values = _plain_values(r, site.pk, door_ids, received_at)
            batch.append(model(**dict(zip(names, values, strict=True))))
            if len(batch) == CHUNK:
                model.objects.bulk_create(batch)
                batch = []
        model.objects.bulk_create(batch)
    return time.perf_counter() - started


def bare_copy(path: Path, site, door_ids: dict, table: str) -> float:
    from django.db import connection, transaction

    _plain_model(table)
    received_at = datetime.now(UTC)
    columns = ", ".join(PLAIN_COLUMNS)
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for r in rows_of(path):
            copy.write_row(_plain_values(r, site.pk, door_ids, received_at))
    return time.perf_counter() - started


def run_import(path: Path, site_code: str) -> float:
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
    """Inside the child process: migrate a fresh database, then `repeat` rounds of the three
    contestants in rotated order, each import into a site of its own; then one re-import."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from facility_log.models import AccessEvent, Alarm, Door, ImportBatch
    from facility_log.services.verify import verify_audit

    call_command("migrate", verbosity=0)
    sites = [_setup_site(f"BENCH{i}") for i in range(1, repeat + 1)]
    door_ids = dict(Door.objects.filter(site=sites[0]).values_list("code", "pk"))
    contestants = ["import", "bulk_create"]
    if connection.vendor == "postgresql":
        contestants.append("copy")
    times: dict[str, list[float]] = {name: [] for name in contestants}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        generate(path, n)
        loads = []
        for i, site in enumerate(sites):
            loads.append(os.getloadavg()[0])  # a shared machine: its load moves every figure
            order = contestants[i % len(contestants) :] + contestants[: i % len(contestants)]
            for name in order:
                if name == "import":
                    times[name].append(run_import(path, site.code))
                elif name == "bulk_create":
                    times[name].append(bare_bulk_create(path, site, door_ids, f"bench_bulk_{i}"))
                else:
                    times[name].append(bare_copy(path, site, door_ids, f"bench_copy_{i}"))
        again = run_import(path, sites[0].code)
    first = sites[0]
    started = time.perf_counter()
    intact = verify_audit().intact
    return {
        "backend": connection.vendor,
        "n": n,
        "times": times,
        "loads": loads,
        "reimport_s": again,
        "verify_s": time.perf_counter() - started,
        "intact": intact,
        "stored": AccessEvent.objects.filter(site=first).count(),
        "alarms": Alarm.objects.filter(site=first).count(),
        "batches": ImportBatch.objects.filter(site=first).count(),
    }


def run_memory(n: int) -> dict:
    """Inside a child process: import a file of N events into a new site; report max RSS."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    site = _setup_site(f"MEM{n}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        generate(path, n, prefix=f"mem{n}")
        before = peak_rss_mb()
        seconds = run_import(path, site.code)
    return {"n": n, "before_mb": before, "peak_mb": peak_rss_mb(), "seconds": seconds}


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


def spawn(backend: str, args: list[str], fresh: bool = True) -> dict | None:
    # DEBUG off: with it on, Django keeps every SQL statement in memory (and that is not
    # what production does).
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    db = None
    if backend == "sqlite":
        handle, db = tempfile.mkstemp(suffix=".sqlite3")
        os.close(handle)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    elif not fresh or _postgres_ready():
        env["DATABASE_URL"] = PG_BENCH_URL
    else:
        return None
    try:
        out = subprocess.run(
            [sys.executable, __file__, *args],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        if db:
            for suffix in ("", "-wal", "-shm"):
                Path(db + suffix).unlink(missing_ok=True)
    return json.loads(out.strip().splitlines()[-1])


def _spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    low, mid, high = (f"{v:,.{digits}f}" for v in (min(values), median(values), max(values)))
    return f"{low} / {mid} / {high}{unit}"


def report(result: dict) -> None:
    n, times = result["n"], result["times"]
    print(f"\n{result['backend']}: N={n:,} events, {len(times['import'])} rounds "
          f"(events/s min / median / max)")  # fmt: skip
    loads = " ".join(f"{v:.1f}" for v in result["loads"])
    print(f"  load average (1 min) at each round's start: {loads} on {os.cpu_count()} cores")
    for name, seconds in times.items():
        print(f"  {name:<12} {_spread([n / s for s in seconds])} ev/s")
    for base in ("bulk_create", "copy"):
        if base in times:
            ratios = [b / i for i, b in zip(times["import"], times[base], strict=True)]
            rounds = ", ".join(f"{r:.2f}" for r in ratios)
            print(f"  import ÷ {base:<11} {_spread(ratios, '×', 2)}  (rounds: {rounds})")
    print(
        f"  re-import of the same file (all duplicates): {n / result['reimport_s']:,.0f} ev/s; "
        f"stored {result['stored']:,}, alarms {result['alarms']:,}, batches {result['batches']}; "
        f"verify_audit {'intact' if result['intact'] else 'BROKEN'} ({result['verify_s']:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backends", default="postgres")
    parser.add_argument("--repeat", type=int, default=5, help="rounds")
    parser.add_argument("--mem-sizes", default="50000,200000")
    parser.add_argument("--child", choices=["speed", "memory"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child == "speed":
        print(json.dumps(run_backend(args.n, args.repeat)))
        return
    if args.child == "memory":
        print(json.dumps(run_memory(args.n)))
        return
    for backend in args.backends.split(","):
        backend = backend.strip()
        result = spawn(
            backend, ["--child", "speed", "--n", str(args.n), "--repeat", str(args.repeat)]
        )
        if not result:
            continue
        report(result)
        sizes = [int(s) for s in args.mem_sizes.split(",") if s]
        for size in sizes:
            memory = spawn(backend, ["--child", "memory", "--n", str(size)], fresh=False)
            print(
                f"  memory: importing {size:,} events: peak RSS {memory['peak_mb']:.0f} MB "
                f"({memory['before_mb']:.0f} MB before the import; {memory['seconds']:.1f} s)"
            )


if __name__ == "__main__":
    main()
