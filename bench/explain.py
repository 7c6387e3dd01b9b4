"""The plan of every default list query, pages and API, at volume on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fl_lists_bench \\
        .venv/bin/python bench/explain.py --build [--events 1000000] [--incidents 100000]
    DATABASE_URL=... .venv/bin/python bench/explain.py           (explain again, no rebuild)

`--build` drops and recreates that database, migrates it, builds the test personas through
the services (sites ALPHA, BRAVO, CHARLIE, 20 more sites, doors, routes) and then loads the
volume with COPY: access events, alarms, incidents, scans and view-log rows. COPY writes no
history and no ledger entry: this database is for plans, `verify_audit` on it reports the
loaded rows (never run a builder like this on real data). A database built by `bench/data.py`
with the same personas can be explained without `--build`.

Each list is requested through Django's test client as a persona would (a guard at one
site, the manager of two, a superuser over all 23); every query the request made is run
again under `EXPLAIN (ANALYZE, BUFFERS)` and the plan printed, with the request's time
(median of 5 through the test client: noisy on a shared machine, the plans are the point) and
its query count. Prints figures; asserts nothing.
"""

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

NOW = datetime(2026, 11, 1, tzinfo=UTC)
EXTRA_SITES = 20


# --- building --------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    settings = connection.settings_dict
    name = settings["NAME"]
    if not name.endswith("_bench"):
        sys.exit(f"refusing to drop {name!r}: a bench database's name ends in _bench")
    admin = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    connection.close()


def copy_rows(model, columns: list[str], rows) -> int:
    """COPY `rows` (tuples in the order of `columns`, model field names) into `model`'s
    table; every other column takes its field's default. Bench only: no history, no ledger."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = {name: i for i, name in enumerate(columns)}
    defaults = {}
    for field in fields:
        if field.name in given or field.attname in given:
            continue
        if field.has_default():
            default = field.get_default()
            defaults[field.column] = default
        elif field.null:
            defaults[field.column] = None
        else:
            defaults[field.column] = ""
    by_name = {f.name: f for f in fields} | {f.attname: f for f in fields}
    names = [by_name[c].column for c in columns] + list(defaults)
    fixed = [_copy_value(v) for v in defaults.values()]
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        sql = f'COPY "{model._meta.db_table}" ({", ".join(names)}) FROM STDIN'
        with raw.copy(sql) as copy:
            for row in rows:
                copy.write_row([*row, *fixed])
                count += 1
    return count


def _copy_value(value):
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value)
    if isinstance(value, uuid.UUID):
        return None  # unique columns get their own value from the caller
    return value


def build(events: int, incidents: int, scans: int, views: int) -> None:
    from django.core.management import call_command

    recreate_database()
    call_command("migrate", verbosity=0)
    from facility_log.models import (
        AccessEvent,
        Door,
        ImportBatch,
        Incident,
        RecordView,
        Run,
        Scan,
        Site,
    )
    from facility_log.services import access, accounts, sites
    from tests.personas import build_personas
    from tests.rounds_helpers import night_route

    rng = random.Random(12)
    started = time.perf_counter()
    p = build_personas()
    system = accounts.system_actor()
    for n in range(EXTRA_SITES):
        site = sites.create_site(
            system, code=f"S{n:02}", name=f"Site {n}", time_zone="Europe/Paris", reason="bench"
        )
        sites.create_zone(site, system, name="lobby", reason="bench")
    all_sites = list(Site.objects.order_by("pk"))
    for site in all_sites:
        zone = site.zones.first()
        for d in range(10 if site.code in ("ALPHA", "BRAVO", "CHARLIE") else 3):
            access.create_door(
                site, system, zone=zone, code=f"D-{d}", name=f"Door {d}", reason="bench"
            )
    doors = {
        s.pk: list(Door.objects.filter(site=s).values_list("pk", flat=True)) for s in all_sites
    }
    batches = {
        s.pk: ImportBatch.objects.create(
            site=s, channel="file", source_format="generic", total=0, created=0, duplicates=0
        ).pk
        for s in all_sites
    }
    # ALPHA 40 %, BRAVO 30 %, CHARLIE 10 %, the 20 others 20 % between them.
    weights = [40 if s.code == "ALPHA" else 30 if s.code == "BRAVO" else 10 for s in all_sites]
    weights = [
        w if s.code in ("ALPHA", "BRAVO", "CHARLIE") else 1
        for w, s in zip(weights, all_sites, strict=True)
    ]
    types = ["granted"] * 90 + ["denied"] * 5 + ["door_opened"] * 3 + ["forced_open", "other"]
    span = 60 * 24 * 3600

    def event_rows():
        site_ids = rng.choices([s.pk for s in all_sites], weights, k=events)
        for i, site_id in enumerate(site_ids):
            kind = rng.choice(types)
            at = NOW - timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
            yield (
                site_id,
                rng.choice(doors[site_id]),
                batches[site_id],
                "ctl",
                f"e-{i}",
                kind,
                "no_access_rights" if kind == "denied" else "",
                f"VT-{i % 7}" if kind == "other" else "",
                at,
                at + timedelta(seconds=2),
                "in",
                f"Holder {i % 5000}",
                "",
                "",
            )

    columns = [
        "site_id",
        "door_id",
        "batch_id",
        "source",
        "external_id",
        "event_type",
        "reason",
        "vendor_type",
        "occurred_at",
        "received_at",
        "direction",
        "cardholder",
        "credential_hash",
        "credential_hint",
    ]
    copy_rows(AccessEvent, columns, event_rows())
    print(f"  {events} access events copied ({time.perf_counter() - started:.0f} s)")
    from facility_log.models import Alarm

    alarms = [
        (e.site_id, e.door_id, e.pk, "forced_open", e.occurred_at, rng.choice(["new", "resolved"]))
        for e in AccessEvent.objects.filter(event_type="forced_open").only(
            "site_id", "door_id", "occurred_at"
        )
    ]
    copy_rows(Alarm, ["site_id", "door_id", "event_id", "event_type", "raised_at", "state"], alarms)
    print(f"  {len(alarms)} alarms copied")

    statuses = ["draft", "submitted", "approved", "closed"]

    def incident_rows():
        for i in range(incidents):
            site = rng.choices(all_sites, weights)[0]
            at = NOW - timedelta(seconds=rng.randrange(span * 6))
            yield (
                site.pk,
                uuid.uuid4(),
                rng.choice(statuses),
                at,
                at,
                at,
                f"Incident {i}",
                "A door was found open.",
                p.guard_a.pk,
            )

    copy_rows(
        Incident,
        [
            "site_id",
            "client_uuid",
            "status",
            "occurred_from",
            "reported_at",
            "created_at",
            "title",
            "narrative",
            "author_id",
        ],
        incident_rows(),
    )
    print(f"  {incidents} incidents copied")

    # Rounds are walked at site A only (tests/rounds_helpers.night_route): 20 runs.
    route, cps = night_route(p)
    runs = [
        (
            Run.objects.create(
                site=p.site_a, route=route, guard=p.guard_a, started_at=NOW - timedelta(days=r)
            ),
            cps,
        )
        for r in range(20)
    ]

    def scan_rows():
        for _ in range(scans):
            run, cps = rng.choice(runs)
            at = NOW - timedelta(seconds=rng.randrange(span))
            yield (run.pk, rng.choice(cps).pk, uuid.uuid4(), "qr", at, at, at, p.guard_a.pk)

    copy_rows(
        Scan,
        [
            "run_id",
            "checkpoint_id",
            "client_uuid",
            "method",
            "device_time",
            "received_at",
            "effective_time",
            "recorded_by_id",
        ],
        scan_rows(),
    )
    print(f"  {scans} scans copied")

    def view_rows():
        for i in range(views):
            site = rng.choices(all_sites, weights)[0]
            at = NOW - timedelta(seconds=(views - i) * 10)
            yield (site.pk, "incident", str(i), f"Incident {i}", p.manager_ab.pk, "manager_ab", at)

    copy_rows(
        RecordView,
        [
            "site_id",
            "object_type",
            "object_pk",
            "object_label",
            "viewer_id",
            "viewer_name",
            "viewed_at",
        ],
        view_rows(),
    )
    print(f"  {views} view-log rows copied")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does to a table that stopped growing
    print(f"built in {time.perf_counter() - started:.0f} s")


# --- explaining ------------------------------------------------------------------------------


def lists(users) -> list[tuple[str, str]]:
    """(persona, url) of every long list's default query, and the usual filters."""
    from facility_log.models import AccessEvent

    oldest = AccessEvent.objects.filter(site__code="ALPHA").order_by("-occurred_at", "-id")
    deep = oldest[5000]
    from facility_log import paging

    cursor = paging.encode(paging.OLDER, deep.occurred_at, deep.pk)
    day = (NOW - timedelta(days=3)).date().isoformat()
    return [
        ("guard_a", "/access/events/"),
        ("manager_ab", "/access/events/"),
        ("admin", "/access/events/"),
        ("manager_ab", "/access/events/?site=ALPHA&door=D-3"),
        ("manager_ab", f"/access/events/?site=ALPHA&start={day}T00:00&end={day}T23:59"),
        ("manager_ab", f"/access/events/?site=ALPHA&cursor={cursor}"),
        ("manager_ab", "/access/alarms/"),
        ("manager_ab", "/incidents/"),
        ("auditor_a", "/audit/views/"),
        ("manager_ab", "/api/v1/access-events/"),
        ("admin", "/api/v1/access-events/"),
        ("manager_ab", "/api/v1/access-events/?site=ALPHA&door=D-3"),
        ("manager_ab", f"/api/v1/access-events/?site=ALPHA&cursor={cursor}"),
        ("manager_ab", "/api/v1/scans/"),
        ("manager_ab", "/api/v1/incidents/"),
        ("outsider_c", "/access/events/"),
    ]


BIG = ("accessevent", "incident", "scan", "recordview", "alarm")


def explain(full: bool) -> None:
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    summary = []
    for who, url in lists(users):
        client = Client()
        client.force_login(users[who])
        client.get(url)  # warm the caches the way a running server has them
        times = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
        ms = sorted(times)[2]  # the median of 5
        assert response.status_code == 200, (url, response.status_code)
        print(f"\n=== {who} {url}: {response.status_code}, {len(queries)} queries, {ms:.1f} ms")
        slowest = 0.0
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip("(").startswith("SELECT") or not any(
                f"facility_log_{t}" in sql for t in BIG
            ):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
            took = float(plan[-1].split(":")[1].split()[0])
            slowest = max(slowest, took)
            print(f"--- {sql[:160]}{'…' if len(sql) > 160 else ''}")
            shown = plan if full else [line for line in plan if "Buffers" not in line]
            print("\n".join("    " + line for line in shown))
        summary.append((who, url, len(queries), ms, slowest))
    print("\n| persona | list | queries | request ms (median of 5) | slowest query ms |")
    print("|---|---|---:|---:|---:|")
    for who, url, count, ms, slowest in summary:
        shown = url if "cursor=" not in url else url.split("cursor=")[0] + "cursor=(5,000 deep)"
        print(f"| {who} | `{shown}` | {count} | {ms:.1f} | {slowest:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--scans", type=int, default=200_000)
    parser.add_argument("--views", type=int, default=200_000)
    parser.add_argument("--buffers", action="store_true", help="print buffer lines too")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name ends in _bench.")
    setup_test_environment()
    if args.build:
        build(args.events, args.incidents, args.scans, args.views)
    explain(args.buffers)


if __name__ == "__main__":
    main()
