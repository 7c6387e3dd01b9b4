"""Does one writer stop the others? Small writes during a large import, against the same
writes with nothing else running.

    .venv/bin/python bench/ledger_lock.py [--n 50000] [--writers 4] [--backend postgres]

Builds a fresh database (PostgreSQL `fl_lockbench`, or a temporary SQLite file), a site with
five doors and one incident, and an N-event generic CSV in which one event in ten raises an
alarm (forced open, held open, tamper), as in real files. Then:

1. baseline: `--writers` processes each write view-log rows (`record_view`: one insert and its
   ledger entry — what opening an incident page writes) for `--seconds` seconds;
2. the same writers again while `manage.py import_access_events` imports the file.

Prints each phase's writes, p50/p95/max latency, and the import's time and rate; the ratio of
the p95 under import to the baseline p95 is the figure that says whether the import holds the
ledger's lock for its whole length.
"""

import argparse
import csv
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/fl_lockbench"
DOORS = ["D-MAIN", "D-DOCK2", "D-SRV", "D-ROOF", "D-GATE-B"]
ALARM_TYPES = ["forced_open", "held_open", "tamper"]
ORDINARY = ["granted"] * 7 + ["denied", "door_opened"]


def generate(path: Path, n: int) -> None:
    start = datetime(2026, 3, 28, 22, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "external_id", "occurred_at", "door", "event_type", "reason",
                         "credential", "cardholder", "direction"])  # fmt: skip
        for i in range(n):
            kind = ALARM_TYPES[i // 10 % 3] if i % 10 == 9 else ORDINARY[i % len(ORDINARY)]
            writer.writerow([
                "bench", f"ev-{i:09d}",
                (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                DOORS[i % len(DOORS)], kind, "expired" if kind == "denied" else "",
                str(10000000 + i * 7919 % 9000000), f"Holder {i % 500}", ("in", "out", "")[i % 3],
            ])  # fmt: skip


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(url: str) -> None:
    _django(url)
    from django.core.management import call_command

    from facility_log.services import access, accounts, sites

    call_command("migrate", verbosity=0)
    actor = accounts.system_actor()
    site = sites.create_site(actor, code="HQ", name="Bench HQ", reason="benchmark")
    zone = sites.create_zone(site, actor, name="Doors", reason="benchmark")
    for code in DOORS:
        access.create_door(site, actor, zone=zone, code=code, name=code, reason="benchmark")


def writer(url: str, seconds: float, stop_file: str, out) -> None:
    _django(url)
    from facility_log.models import Site
    from facility_log.services.accounts import system_actor
    from facility_log.services.view_log import record_view

    actor, site = system_actor(), Site.objects.get(code="HQ")
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not os.path.exists(stop_file):
        began = time.perf_counter()
        record_view(actor, site, site=site, label="bench read")
        latencies.append(time.perf_counter() - began)
    out.put(latencies)


def phase(url: str, writers: int, seconds: float, during=None) -> tuple[list[float], float]:
    stop_file = tempfile.mktemp(prefix="fl-lockbench-stop-")
    queue = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=writer, args=(url, seconds, stop_file, queue)) for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    elapsed = 0.0
    if during is not None:
        time.sleep(2)  # let the writers settle
        began = time.perf_counter()
        during()
        elapsed = time.perf_counter() - began
        Path(stop_file).touch()
    latencies = []
    for _ in procs:
        latencies.extend(queue.get())
    for proc in procs:
        proc.join()
    Path(stop_file).unlink(missing_ok=True)
    return latencies, elapsed


def summary(name: str, latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if ordered else float("nan")
    row = {
        "phase": name,
        "writes": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p95_ms": p95 * 1000,
        "max_ms": ordered[-1] * 1000 if ordered else float("nan"),
    }
    print(
        f"{name:<16} writes {row['writes']:>6}  p50 {row['p50_ms']:8.1f} ms  "
        f"p95 {row['p95_ms']:8.1f} ms  max {row['max_ms']:8.1f} ms"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0, help="baseline length")
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fl-lockbench-"))
    if args.backend == "postgres":
        url = PG_URL
        server = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["dropdb", *server, "--if-exists", "fl_lockbench"], check=True)
        subprocess.run(["createdb", *server, "fl_lockbench"], check=True)
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=prepare, args=(url,))
    proc.start()
    proc.join()
    csv_path = work / "events.csv"
    generate(csv_path, args.n)

    print(f"{args.backend}: {args.n} events (10 % raise alarms), {args.writers} writers")
    base = summary("baseline", phase(url, args.writers, args.seconds)[0])

    def run_import():
        env = dict(os.environ, DATABASE_URL=url, DEBUG="1")
        subprocess.run(
            [sys.executable, "manage.py", "import_access_events", str(csv_path),
             "--site", "HQ", "--format", "generic-csv"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    latencies, elapsed = phase(url, args.writers, 10_000, during=run_import)
    under = summary("during import", latencies)
    print(f"import: {elapsed:.1f} s, {args.n / elapsed:,.0f} events/s")
    print(f"p95 during import / baseline p95: {under['p95_ms'] / base['p95_ms']:.1f}x")


if __name__ == "__main__":
    main()
