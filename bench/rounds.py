"""Guard rounds: how long the compliance report, check_rounds and one scan take on a month of
nights, against a baseline measured in the same run (one indexed primary-key read).

    .venv/bin/python bench/rounds.py

Runs on a throwaway SQLite database unless DATABASE_URL is set. Timing is printed, never
asserted.
"""

import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from facility_log.models import Site  # noqa: E402
from facility_log.services import rounds  # noqa: E402
from facility_log.services.accounts import system_actor  # noqa: E402
from facility_log.services.rounds_report import compliance_report  # noqa: E402

NIGHTS, STOPS = 30, 12


def timed(fn, repeat=5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def build():
    actor = system_actor()
    site = rounds_site(actor)
    zone = site.zones.first()
    cps = [
        rounds.create_checkpoint(site, actor, zone=zone, name=f"CP {n}", reason="bench")
        for n in range(STOPS)
    ]
    route = rounds.create_route(
        site, actor, name="Bench", reason="bench", stops=[(c, 3 * n) for n, c in enumerate(cps)]
    )
    first = timezone.now() - timedelta(days=NIGHTS)
    for night in range(NIGHTS):
        for hour in (0, 2, 4):
            start = first + timedelta(days=night, hours=hour)
            run = rounds.start_run(route, actor, started_at=start)
            for n, cp in enumerate(cps):
                data = rounds.ScanInput(cp.tag_code, uuid.uuid4(), start + timedelta(minutes=3 * n))
                rounds.record_scan(actor, data, run=run)
            rounds.finish_run(run, actor, finished_at=start + timedelta(minutes=3 * STOPS))
    return site, route, cps


def rounds_site(actor) -> Site:
    from facility_log.services import sites

    site = sites.create_site(
        actor, code="BENCH", name="Bench", time_zone="Europe/Berlin", reason="b"
    )
    sites.create_zone(site, actor, name="Hall", reason="bench")
    return site


def main() -> None:
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    site, route, cps = build()
    built = time.perf_counter() - t0
    runs = NIGHTS * 3
    baseline = timed(lambda: Site.objects.get(pk=site.pk), repeat=50)
    today = timezone.now().date()
    report = timed(lambda: compliance_report(site, start=today - timedelta(days=NIGHTS), end=today))
    check = timed(lambda: rounds.check_rounds(system_actor()))
    run = rounds.start_run(route, system_actor())
    scan = timed(
        lambda: rounds.record_scan(
            system_actor(), rounds.ScanInput(cps[0].tag_code, uuid.uuid4(), timezone.now()), run=run
        ),
        repeat=1,
    )
    print(f"rounds bench: {runs} runs x {STOPS} scans built in {built:.1f} s")
    for name, value in [
        ("baseline pk read", baseline),
        (f"compliance report, {NIGHTS + 1} days", report),
        ("check_rounds (nothing new)", check),
        ("record_scan", scan),
    ]:
        print(f"  {name:<34} {value * 1000:8.2f} ms  ({value / baseline:7.0f}x baseline)")


if __name__ == "__main__":
    main()
