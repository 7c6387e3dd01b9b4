"""A large facility's volume, built reproducibly on PostgreSQL for the page benchmarks.

    .venv/bin/python bench/data.py [--db fl_pages_bench] [--incidents 100000]
        [--events 1000000] [--alarm-rate 0.1] [--views 100000] [--days 60] [--verify]

On top of `seed_demo` (sites HQ, WH and LAB, the demo people, doors, a route, shifts) it adds,
with a fixed random seed so that two builds hold the same rows:

* incidents (85 % at HQ, 10 % at WH, 5 % at LAB) spread over two years, with narratives,
  categories, severities and every status of the workflow; each with the history rows the
  services leave (created, submitted, returned, approved, closed, void), its number from the
  site's counter (the counters are moved on through the ORM, so new submissions go on from
  there) and the supervisor's review rows;
* access events across 40 doors of HQ over `--days` days, one import batch a day, about
  `--alarm-rate` of them of the types that raise alarms (forced open, held open, tamper,
  offline, duress) with their alarms: the older ones acknowledged and resolved;
* rounds: 24 runs a day of a 20-checkpoint route at HQ, each walked and finished;
* shifts: three a day at HQ with a few log entries each;
* view-log rows (who read which incident), `--views` of them.

Rows are written with COPY, not through the services (a service call per row would take
hours), but exactly as the services leave them: every audited row with its history rows, each
history row and append-only record with its ledger entry, each import batch with its batch
entry; `--verify` runs `verify_audit` at the end and fails unless the ledger is intact.
PostgreSQL only (COPY); SQLite is not supported by this builder.

The database is dropped and created again. `bench/pages.py` builds it once through this module
and reuses it afterwards (a table `bench_volume` records the sizes it was built with).
"""

import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db.models import FileField, JSONField
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DB = "fl_pages_bench"
SEED = 12
CHUNK = 5000
HQ_DOORS = 40
RUNS_PER_DAY, STOPS = 24, 20
ALARM_TYPES = ["forced_open"] * 5 + ["held_open"] * 3 + ["tamper", "offline", "duress"]
PLAIN_TYPES = ["granted"] * 80 + ["denied"] * 5 + ["door_opened", "door_closed", "rex"] * 5
DENIALS = ["expired", "unknown_credential", "out_of_schedule", "no_access_rights"]
FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Emre",
    "Fatma",
    "Georg",
    "Hana",
    "Ivan",
    "Julia",
    "Karl",
    "Lena",
    "Mehmet",
    "Nina",
    "Omar",
]
LAST = [
    "Schmidt",
    "Meyer",
    "Yilmaz",
    "Novak",
    "Weber",
    "Fischer",
    "Kaya",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Kowalski",
]
PLACES = [
    "Gate B",
    "loading dock",
    "car park level 2",
    "server room door",
    "main entrance",
    "roof hatch",
    "north fence",
    "bicycle shelter",
    "canteen",
    "stairwell 3",
]
WHAT = [
    ("Trespass", "a person climbed the {place} fence and was asked to leave"),
    ("Theft", "a laptop was reported stolen from the {place}; the owner left it unattended"),
    ("Vandalism", "graffiti sprayed on the wall beside the {place}"),
    ("Suspicious activity", "a van parked at the {place} for an hour with the engine running"),
    ("Access violation", "a contractor tailgated through the {place} without a badge"),
    ("Alarm", "the {place} alarm sounded; the door was found forced and secured again"),
    ("Fire", "smoke from a waste bin near the {place}; extinguished, no damage"),
    ("Injury / medical", "a visitor slipped on the wet floor at the {place}; first aid given"),
    ("Safety hazard", "a broken light in the {place} leaves the path dark at night"),
    ("Property damage", "a delivery truck damaged the barrier at the {place}"),
    ("Threat received", "a caller threatened staff at the {place} and hung up"),
    ("Lost / found", "a wallet was found at the {place} and kept at the guard house"),
]
STATUSES = [("draft", 5), ("submitted", 10), ("returned", 2), ("approved", 30), ("closed", 50)]
STATUSES += [("void", 3)]


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")


def built_volume(name: str) -> dict | None:
    """The sizes a database was built with, or None when it does not exist or is unfinished."""
    import psycopg

    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            row = conn.execute("SELECT sizes FROM bench_volume").fetchone()
    except psycopg.Error:
        return None
    return json.loads(row[0]) if row else None


# --- writing rows with COPY, and their ledger entries -------------------------------------------


class Copier:
    """Writes model rows with COPY (ids reserved from the table's sequence beforehand) and
    collects the ledger entries they owe, chained at the end like `ledger.chain_entries`."""

    def __init__(self, users: dict[int, str]):
        from django.db import connection

        self.connection = connection
        self.users = users  # id -> username, for the entries' actor names
        self.owed: list[tuple] = []  # (kind, model, first pk, last pk, actor attname)

    def reserve(self, model, count: int) -> int:
        """The first of `count` consecutive fresh ids of `model`'s table."""
        table, pk = model._meta.db_table, model._meta.pk.column
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s),"  # noqa: S608
                " nextval(pg_get_serial_sequence(%s, %s)) + %s - 1)",
                [table, pk, table, pk, count],
            )
            (last,) = cursor.fetchone()
        return last - count + 1

    def copy(self, model, objects: list) -> None:
        """COPY model instances (pk set) into their table."""
        columns = [f.attname for f in model._meta.concrete_fields]
        self.copy_values(model, columns, [_values(obj, columns) for obj in objects])

    def copy_values(self, model, columns: list[str], rows: list[tuple]) -> None:
        """COPY tuples of attribute values into `columns` of the table. The values are what
        the instances hold (ints, strings, aware datetimes, UUIDs), which psycopg adapts
        itself; JSON is wrapped, files become their names."""
        if not rows:
            return
        fields = [model._meta.get_field(c) for c in columns]
        names = ", ".join(f'"{f.column}"' for f in fields)
        json_at = [n for n, f in enumerate(fields) if isinstance(f, JSONField)]
        file_at = [n for n, f in enumerate(fields) if isinstance(f, FileField)]
        sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
        with self.connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                if json_at or file_at:
                    row = list(row)
                    for n in json_at:
                        row[n] = Jsonb(row[n])
                    for n in file_at:
                        row[n] = str(row[n] or "")
                copy.write_row(row)

    def audited(self, model, versions: list[list[tuple]]) -> None:
        """Live rows and their history. `versions`: per record, its states in order, each
        (values by attname, when, history type, user id, reason); the live row is the last."""
        history_model = model.history.model
        tracked = [f.attname for f in history_model.tracked_fields]
        columns = [f.attname for f in model._meta.concrete_fields]
        extra = ["history_id", "history_date", "history_type", "history_user_id"]
        extra += ["history_user_name", "history_change_reason", "history_request_id"]
        count = sum(len(v) for v in versions)
        first = next_id = self.reserve(history_model, count)
        live, rows = [], []
        for states in versions:
            live.append(tuple(states[-1][0][name] for name in columns))
            for values, when, kind, user_id, reason in states:
                rows.append(
                    (
                        *(values[name] for name in tracked),
                        next_id,
                        when,
                        kind,
                        user_id,
                        self.users.get(user_id, ""),
                        reason,
                        uuid.UUID(int=next_id).hex,
                    )
                )
                next_id += 1
        self.copy_values(model, columns, live)
        self.copy_values(history_model, tracked + extra, rows)
        self.owed.append(("history", history_model, first, next_id - 1, "history_user_id"))

    def records(self, model, objects: list, actor: str) -> None:
        """Append-only records saved one by one: each owes its own entry (`actor`: the
        attname of the user who wrote it)."""
        self.copy(model, objects)
        if objects:
            self.owed.append(("record", model, objects[0].pk, objects[-1].pk, actor))

    def batch(self, batch_record, digest: str, actor_id: int) -> None:
        self.owed.append(("batch", type(batch_record), batch_record.pk, digest, actor_id))

    def chain(self) -> int:
        """Chain every owed entry after the ledger's head, under the ledger's lock."""
        from django.db import transaction
        from django.utils import timezone

        from facility_log.models import LedgerEntry
        from facility_log.services import ledger

        fields = LedgerEntry._meta.concrete_fields
        written = 0
        with transaction.atomic():
            seq, prev_hash = ledger._locked_head()
            now = timezone.now()
            created = ledger._canonical_value(now)
            names = [f.attname for f in fields if not f.primary_key]
            rows = []
            # The rows are read back while entries are made, so each COPY waits for its
            # chunk: one connection cannot read and COPY at the same time.
            for kind, model, pk, digest, actor_id, label in self._entries():
                seq += 1
                document = {
                    "seq": seq,
                    "created_at": created,
                    "kind": kind,
                    "object_type": ledger.object_type(model),
                    "object_pk": str(pk),
                    "record_label": label[:200],
                    "actor_name": self.users.get(actor_id, ""),
                    "digest": digest,
                    "prev_hash": prev_hash,
                }
                prev_hash = ledger.entry_hash_of_document(document)
                row = dict(document, actor_id=actor_id, hash=prev_hash, created_at=now)
                rows.append(tuple(row[name] for name in names))
                if len(rows) == CHUNK * 4:
                    self.copy_values(LedgerEntry, names, rows)
                    written, rows = written + len(rows), []
            self.copy_values(LedgerEntry, names, rows)
            written += len(rows)
        self.owed = []
        return written

    def _entries(self):
        """(kind, model, pk, digest, actor id, label) of every owed entry: the rows are read
        back for their digests, as `ledger._read_digests` does."""
        from facility_log.services import ledger

        for kind, model, first, last, actor in self.owed:
            if kind == "batch":
                yield "batch", model, first, last, actor, f"{model._meta.verbose_name} #{first}"
                continue
            pk_name = model._meta.pk.attname
            rows = model._base_manager.filter(**{f"{pk_name}__gte": first, f"{pk_name}__lte": last})
            for row in rows.order_by(pk_name).values().iterator(chunk_size=CHUNK):
                digest = ledger.sha256_hex(ledger.canonical_json(row))
                if kind == "history":
                    name = model.instance_type._meta.verbose_name
                    label = f"{name} #{row['id']}"
                else:
                    label = f"{model._meta.verbose_name} #{row[pk_name]}"
                yield kind, model, row[pk_name], digest, row[actor], label


# --- the volume --------------------------------------------------------------------------------


class Builder:
    def __init__(self, args):
        from django.contrib.auth import get_user_model

        from facility_log.models import Category, Site

        self.args = args
        self.rng = random.Random(SEED)
        self.now = datetime.now(UTC).replace(microsecond=0)
        users = get_user_model().objects.all()
        self.user = {u.username: u for u in users}
        self.copier = Copier({u.pk: u.username for u in users})
        self.sites = {s.code: s for s in Site.objects.all()}
        self.categories = {c.name: c for c in Category.objects.all()}

    # incidents ------------------------------------------------------------------------------

    def incidents(self, total: int) -> None:
        from facility_log.models import Incident, IncidentCounter, Review
        from facility_log.services.audit import audited_change

        rng = self.rng
        weights = [("HQ", 85), ("WH", 10), ("LAB", 5)]
        codes = rng.choices([c for c, _ in weights], [w for _, w in weights], k=total)
        zones = {code: list(site.zones.all()) for code, site in self.sites.items()}
        counters: dict[tuple[str, int], int] = {}
        for c in IncidentCounter.objects.select_related("site"):
            counters[(c.site.code, c.year)] = c.last_number
        # Oldest first, so numbers rise with time as they do when reports come in.
        # At least 25 days ago, so that every step of the workflow lies in the past.
        offsets = sorted((rng.uniform(25, 730) * 86400 for _ in range(total)), reverse=True)
        for start in range(0, total, CHUNK):
            first = self.copier.reserve(Incident, min(CHUNK, total - start))
            versions, reviews = [], []
            for n in range(start, min(start + CHUNK, total)):
                code = codes[n]
                occurred = self.now - timedelta(seconds=offsets[n])
                states, review = self._incident(
                    first + n - start, code, zones[code], occurred, counters
                )
                versions.append(states)
                if review:
                    reviews.append(review)
            self.copier.audited(Incident, versions)
            review_first = self.copier.reserve(Review, len(reviews))
            for n, review in enumerate(reviews):
                review.pk = review_first + n
            self.copier.records(Review, reviews, "reviewer_id")
        # The counters go on from the last number issued: the next real submission follows.
        system = self.user["admin"]
        with audited_change(system, "bench volume: incident numbers issued by bench/data.py"):
            for (code, year), last in counters.items():
                counter, _ = IncidentCounter.objects.get_or_create(site=self.sites[code], year=year)
                counter.last_number = last
                counter.save()

    def _incident(self, pk, code, zones, occurred, counters):
        from facility_log.models import Incident, Review

        rng = self.rng
        category, text = rng.choice(WHAT)
        place = rng.choice(PLACES)
        status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
        guard, supervisor, manager = (
            self.user["guard"],
            self.user["supervisor"],
            self.user["manager"],
        )
        reported = occurred + timedelta(minutes=rng.randint(5, 90))
        incident = Incident(
            pk=pk,
            site=self.sites[code],
            zone=rng.choice(zones),
            location_text=place,
            client_uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            status="draft",
            version=1,
            category=self.categories[category],
            severity=rng.choices(["low", "medium", "high", "critical"], [50, 30, 15, 5])[0],
            occurred_from=occurred,
            occurred_to=occurred + timedelta(minutes=rng.randint(1, 60)),
            discovered_at=occurred + timedelta(minutes=rng.randint(0, 30)),
            reported_at=reported,
            title=f"{category} at the {place}",
            narrative=(
                f"At {occurred:%H:%M} {text.format(place=place)}. "
                f"Guard {rng.choice(FIRST)} checked the {rng.choice(PLACES)} afterwards; "
                "nothing else was found."
            ),
            actions_taken="Area checked, supervisor informed.",
            author=guard,
            created_at=reported,
        )
        states = [(_copy(incident), reported, "+", guard.pk, "incident reported")]
        if status == "draft":
            return states, None
        submitted = reported + timedelta(minutes=rng.randint(1, 30))
        year = submitted.astimezone(incident.site.tzinfo).year
        counters[(code, year)] = counters.get((code, year), 0) + 1
        incident.number = f"{code}-{year}-{counters[(code, year)]:04d}"
        incident.status, incident.submitted_at = "submitted", submitted
        incident.version += 1
        states.append((_copy(incident), submitted, "~", guard.pk, "submitted for review"))
        if status == "submitted":
            return states, None
        decided = submitted + timedelta(hours=rng.randint(1, 12))
        if status == "void":
            incident.status, incident.void_reason = "void", "reported twice"
            incident.version += 1
            states.append((_copy(incident), decided, "~", supervisor.pk, "void: reported twice"))
            return states, None
        decision = "returned" if status == "returned" else "approved"
        incident.status = decision
        incident.version += 1
        states.append((_copy(incident), decided, "~", supervisor.pk, f"review: {decision}"))
        review = Review(
            incident_id=pk,
            reviewer=supervisor,
            decision=decision,
            comment="Please add the time you locked up." if decision == "returned" else "",
            created_at=decided,
        )
        if status == "closed":
            incident.status = "closed"
            incident.version += 1
            closed = decided + timedelta(days=rng.randint(1, 20))
            states.append((_copy(incident), closed, "~", manager.pk, "closed"))
        return states, review

    # access events and alarms -------------------------------------------------------------

    def doors(self) -> list:
        from facility_log.models import Door
        from facility_log.services import access

        site = self.sites["HQ"]
        zones = list(site.zones.all())
        existing = set(Door.objects.filter(site=site).values_list("code", flat=True))
        system = self.user["admin"]
        for n in range(HQ_DOORS):
            code = f"D-B{n:02d}"
            if len(existing) >= HQ_DOORS:
                break
            if code not in existing:
                access.create_door(
                    site, system, zone=zones[n % len(zones)], code=code, name=f"Door {n}",
                    reason="bench volume",
                )  # fmt: skip
                existing.add(code)
        return list(Door.objects.filter(site=site).order_by("pk"))

    def events(self, total: int, days: int, alarm_rate: float) -> None:
        """One import batch a day, its events ending an hour before now; the alarm-type
        events raise alarms, those of the batch's last three hours still new."""
        from facility_log.models import AccessEvent, Alarm, ImportBatch
        from facility_log.services import ledger
        from facility_log.services.credentials import pseudonymise

        rng, site = self.rng, self.sites["HQ"]
        doors = [door.pk for door in self.doors()]
        integration = self.user["admin"]
        holders = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(1500)]
        cards = [pseudonymise(str(10_000_000 + rng.randrange(90_000_000))) for _ in range(1500)]
        fields = ledger.row_fields(AccessEvent)
        per_day = [total // days + (1 if d < total % days else 0) for d in range(days)]
        end = self.now - timedelta(hours=1)
        for day, count in enumerate(per_day):
            begin = end - timedelta(days=days - day)
            received = begin + timedelta(days=1)
            batch = ImportBatch(
                pk=self.copier.reserve(ImportBatch, 1),
                site=site,
                channel="file",
                source_format="generic",
                file_name=f"bench-{day:03d}.csv",
                actor=integration,
                actor_name=integration.username,
                request_id=uuid.UUID(int=day).hex,
                created_at=received,
                total=count,
                created=count,
                duplicates=0,
            )
            self.copier.records(ImportBatch, [batch], "actor_id")
            first = self.copier.reserve(AccessEvent, count)
            times = sorted(rng.uniform(0, 86400) for _ in range(count))
            digest, alarms, rows = ledger.BatchDigest(), [], []
            for n in range(count):
                raised = rng.random() < alarm_rate
                kind = rng.choice(ALARM_TYPES if raised else PLAIN_TYPES)
                person = kind in ("granted", "denied")
                who = rng.randrange(len(holders))
                event = {
                    "site_id": site.pk,
                    "door_id": rng.choice(doors),
                    "batch_id": batch.pk,
                    "source": "bench",
                    "external_id": f"{day:03d}-{n:07d}",
                    "event_type": kind,
                    "reason": rng.choice(DENIALS) if kind == "denied" else "",
                    "vendor_type": "",
                    "occurred_at": begin + timedelta(seconds=int(times[n])),
                    "received_at": received,
                    "direction": rng.choice(["in", "out"]) if person else "",
                    "cardholder": holders[who] if person else "",
                    "credential_hash": cards[who][0] if person else "",
                    "credential_hint": cards[who][1] if person else "",
                }
                values = tuple(event[name] for name in fields)
                digest.add(values)
                rows.append((first + n, *values))
                if raised:
                    alarms.append(self._alarm(first + n, event))
                if len(rows) == CHUNK * 4:
                    self.copier.copy_values(AccessEvent, ["id", *fields], rows)
                    rows = []
            self.copier.copy_values(AccessEvent, ["id", *fields], rows)
            self.copier.batch(batch, digest.hexdigest(), integration.pk)
            alarm_first = self.copier.reserve(Alarm, len(alarms))
            for n, states in enumerate(alarms):
                for values, *_ in states:
                    values["id"] = alarm_first + n
            self.copier.audited(Alarm, alarms)

    def _alarm(self, event_pk: int, event: dict) -> list[tuple]:
        from facility_log.models import Alarm

        raised, supervisor = event["received_at"], self.user["supervisor"]
        alarm = Alarm(
            site_id=event["site_id"],
            door_id=event["door_id"],
            event_id=event_pk,
            event_type=event["event_type"],
            raised_at=raised,
            escalate_after_minutes=10,
        )
        integration = self.user["admin"].pk
        states = [(_copy(alarm), raised, "+", integration, "access events received (file)")]
        if raised - event["occurred_at"] < timedelta(hours=3):
            return states  # still open on the console
        acknowledged = raised + timedelta(minutes=self.rng.randint(1, 9))
        alarm.state, alarm.acknowledged_by = "acknowledged", supervisor
        alarm.acknowledged_at, alarm.acknowledge_note = acknowledged, "On my way."
        states.append((_copy(alarm), acknowledged, "~", supervisor.pk, "alarm acknowledged"))
        resolved = acknowledged + timedelta(minutes=self.rng.randint(5, 40))
        alarm.state, alarm.resolved_by = "resolved", supervisor
        alarm.resolved_at, alarm.resolution_note = resolved, "Checked, door secured."
        states.append((_copy(alarm), resolved, "~", supervisor.pk, "alarm resolved"))
        return states

    # rounds, shifts, view log ---------------------------------------------------------------

    def rounds(self, days: int) -> None:
        from facility_log.models import Run, Scan
        from facility_log.services import rounds
        from facility_log.services.rounds.runs import _plan

        site, system, guard = self.sites["HQ"], self.user["admin"], self.user["guard"]
        zones = list(site.zones.all())
        checkpoints = [
            rounds.create_checkpoint(
                site, system, zone=zones[n % len(zones)], name=f"Bench {n}", reason="bench volume"
            )
            for n in range(STOPS)
        ]
        route = rounds.create_route(
            site,
            system,
            name="Bench patrol",
            reason="bench volume",
            stops=[(c, 2) for c in checkpoints],
        )
        plan = _plan(route)
        total = days * RUNS_PER_DAY
        first = self.copier.reserve(Run, total)
        scan_first = self.copier.reserve(Scan, total * STOPS)
        versions, scans = [], []
        for n in range(total):
            started = self.now - timedelta(days=days) + timedelta(hours=n * 24 / RUNS_PER_DAY)
            run = Run(
                pk=first + n, site=site, route=route, guard=guard, plan=plan, started_at=started
            )
            states = [(_copy(run), started, "+", guard.pk, "round started")]
            for stop, checkpoint in enumerate(checkpoints):
                at = started + timedelta(minutes=2 * stop + 1)
                scans.append(
                    Scan(
                        pk=scan_first + len(scans),
                        run_id=run.pk,
                        checkpoint=checkpoint,
                        client_uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                        method="qr",
                        device_time=at,
                        device_sent_at=at,
                        received_at=at,
                        effective_time=at,
                        recorded_by=guard,
                    )
                )
            run.finished_at = started + timedelta(minutes=2 * STOPS + 2)
            states.append((_copy(run), run.finished_at, "~", guard.pk, "round finished"))
            versions.append(states)
        self.copier.audited(Run, versions)
        self.copier.records(Scan, scans, "recorded_by_id")

    def shifts(self, days: int) -> None:
        from facility_log.models import Shift, ShiftEntry

        site, guard = self.sites["HQ"], self.user["guard"]
        total = days * 3
        first = self.copier.reserve(Shift, total)
        entry_first = self.copier.reserve(ShiftEntry, total * 4)
        versions, entries = [], []
        for n in range(total):
            started = self.now - timedelta(days=days) + timedelta(hours=8 * n)
            shift = Shift(
                pk=first + n,
                site=site,
                guard=guard,
                client_uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                started_at=started,
            )
            states = [(_copy(shift), started, "+", guard.pk, "shift started")]
            for k in range(4):
                entries.append(
                    ShiftEntry(
                        pk=entry_first + len(entries),
                        shift_id=shift.pk,
                        client_uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                        kind="note",
                        occurred_at=started + timedelta(hours=2 * k + 1),
                        text=f"Patrol {k + 1}: {self.rng.choice(PLACES)} checked, all quiet.",
                        recorded_at=started + timedelta(hours=2 * k + 1),
                        recorded_by=guard,
                    )
                )
            shift.ended_at = started + timedelta(hours=8)
            shift.pass_down_notes = "Gate B lock sticks; reported to facilities."
            states.append((_copy(shift), shift.ended_at, "~", guard.pk, "shift ended"))
            versions.append(states)
        self.copier.audited(Shift, versions)
        self.copier.records(ShiftEntry, entries, "recorded_by_id")

    def view_log(self, total: int) -> None:
        from facility_log.models import Incident, RecordView

        rows = list(
            Incident.objects.filter(site__code="HQ").order_by("pk").values_list("pk", "number")
        )
        people = [self.user[name] for name in ("guard", "supervisor", "manager", "auditor")]
        first = self.copier.reserve(RecordView, total)
        views = []
        for n in range(total):
            pk, number = rows[self.rng.randrange(len(rows))]
            viewer = self.rng.choice(people)
            views.append(
                RecordView(
                    pk=first + n,
                    site=self.sites["HQ"],
                    object_type="facility_log.incident",
                    object_pk=str(pk),
                    object_label=number or f"Draft {pk}",
                    viewer=viewer,
                    viewer_name=viewer.username,
                    viewed_at=self.now - timedelta(seconds=(total - n) * 60),
                    via="page",
                )
            )
        self.copier.records(RecordView, views, "viewer_id")


def _copy(instance) -> dict:
    """A snapshot of a model instance's field values by attname (one history state)."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _values(instance, columns: list[str]) -> tuple:
    return tuple(getattr(instance, name) for name in columns)


def build(args) -> None:
    """Migrate, seed the demo, and add the volume (in this process: Django set up here)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    started = time.perf_counter()

    def step(label: str) -> None:
        print(f"  {label:<44} {time.perf_counter() - started:7.1f} s", flush=True)

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--force", verbosity=0)
    step("migrate + seed_demo")
    builder = Builder(args)
    with transaction.atomic():
        builder.incidents(args.incidents)
        step(f"{args.incidents:,} incidents written")
        builder.events(args.events, args.days, args.alarm_rate)
        step(f"{args.events:,} access events and alarms written")
        builder.rounds(args.days)
        builder.shifts(args.days)
        builder.view_log(args.views)
        step("runs, scans, shifts, view log written")
        entries = builder.copier.chain()
        step(f"{entries:,} ledger entries chained")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CREATE TABLE bench_volume (sizes text)")
        cursor.execute("INSERT INTO bench_volume VALUES (%s)", [json.dumps(_sizes(args))])
    step("VACUUM ANALYZE")
    if args.verify:
        from facility_log.services.verify import verify_audit

        result = verify_audit()
        step(f"verify_audit: {result.entries:,} entries, {len(result.problems)} problems")
        for problem in result.problems[:10]:
            print(f"    {problem}")
        if not result.intact:
            raise SystemExit("the bench volume's ledger does not verify")
    print(f"built {args.db} in {time.perf_counter() - started:.0f} s")


def _sizes(args) -> dict:
    return {
        "incidents": args.incidents,
        "events": args.events,
        "alarm_rate": args.alarm_rate,
        "views": args.views,
        "days": args.days,
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=DEFAULT_DB, help="database name (dropped and created)")
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--alarm-rate", type=float, default=0.1, help="share of alarm-type events")
    p.add_argument("--views", type=int, default=100_000, help="view-log rows")
    p.add_argument("--days", type=int, default=60, help="days the events, runs, shifts cover")
    p.add_argument("--verify", action="store_true", help="run verify_audit on the result")
    return p


def environment(db: str) -> dict:
    """The settings the builder and the bench server share (the credential key among them)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789abcdef",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }


def main(argv=None) -> None:
    args = parser().parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.update(environment(args.db))
    recreate_database(args.db)
    build(args)


if __name__ == "__main__":
    main()
