"""Ledger verification at volume: a full check and a checkpointed one over a ledger of N
entries, with their peak memory, beside a bare read of the same ledger table.

    .venv/bin/python bench/verify.py [--entries 1000000] [--new 1000] [--backend postgres]

Builds a fresh database (PostgreSQL `fl_verifybench`, or a temporary SQLite file) whose ledger
holds about N entries, written through the real path: zones created in bulk with their history
rows (`audit.create_in_bulk`), each history row chained by `deferred_chaining`. Then, each in
its own process (so each peak RSS is its own):

- bare: one streaming pass over the ledger table reading every column (the least any check
  must do), the baseline;
- full: `verify_audit --full` (records a checkpoint);
- since checkpoint: `--new` more changes, then `verify_audit --since-checkpoint`.

Prints seconds, peak memory (MB) and each check's ratio to the bare pass.
"""

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/fl_verifybench"
CHUNK = 10_000


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(url: str, entries: int) -> None:
    _django(url)
    from django.core.management import call_command

    from facility_log.models import Zone
    from facility_log.services import accounts, sites
    from facility_log.services.audit import audited_change, create_in_bulk

    call_command("migrate", verbosity=0)
    actor = accounts.system_actor()
    site = sites.create_site(actor, code="BIG", name="Bench site", reason="benchmark")
    made, began = 0, time.perf_counter()
    while made < entries:
        count = min(CHUNK, entries - made)
        with audited_change(actor, "benchmark zones"):
            create_in_bulk(Zone, [Zone(site=site, name=f"Zone {made + i}") for i in range(count)])
        made += count
        if made % 100_000 == 0:
            print(f"  built {made:,} entries ({time.perf_counter() - began:.0f} s)", flush=True)


def add_changes(url: str, count: int) -> None:
    _django(url)
    from facility_log.models import Site
    from facility_log.services import accounts, sites

    actor, site = accounts.system_actor(), Site.objects.get(code="BIG")
    for i in range(count):
        sites.update_site(site, actor, name=f"Bench site {i}", reason="benchmark change")


def measure(url: str, what: str, out) -> None:
    _django(url)
    from facility_log.models import LedgerEntry
    from facility_log.services.verify import verify_audit

    began = time.perf_counter()
    if what == "bare":
        rows = 0
        for _row in LedgerEntry.objects.order_by("seq").values_list().iterator(chunk_size=5000):
            rows += 1
        detail = f"{rows:,} entries read"
    else:
        result = verify_audit(since_checkpoint=what == "since checkpoint", record_checkpoint=True)
        assert result.intact, result.problems[:3]
        detail = f"{result.entries:,} entries checked"
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((what, seconds, peak, detail))


def run(target, *args):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue) if target is measure else args)
    proc.start()
    value = queue.get() if target is measure else None
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"{target.__name__} failed (exit {proc.exitcode})")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    if args.backend == "postgres":
        url = PG_URL
        for command in ("dropdb", "createdb"):
            extra = ["--if-exists"] if command == "dropdb" else []
            server = ["-h", "127.0.0.1", "-U", "postgres"]
            subprocess.run([command, *server, *extra, "fl_verifybench"], check=True)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='fl-verifybench-')}/bench.sqlite3"
    print(f"{args.backend}: building a ledger of about {args.entries:,} entries", flush=True)
    began = time.perf_counter()
    run(build, url, args.entries)
    print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)

    bare = run(measure, url, "bare")
    full = run(measure, url, "full")
    run(add_changes, url, args.new)
    since = run(measure, url, "since checkpoint")
    print(f"\n{'check':<18}{'seconds':>9}{'peak MB':>9}{'× bare':>8}  detail")
    for what, seconds, peak, detail in (bare, full, since):
        print(f"{what:<18}{seconds:>9.1f}{peak:>9.0f}{seconds / bare[1]:>8.2f}  {detail}")


if __name__ == "__main__":
    main()
