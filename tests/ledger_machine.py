"""The state machine of the ledger's stateful test (tests/services/test_ledger_stateful.py):
legitimate operations across every domain, `verify_audit` after each, and tamperings that must
be found and named.

Each example is one machine: a savepoint opened in `__init__` and rolled back in `teardown`,
on top of the world built once per test (tests/ledger_world.py). The machine tracks only
what it needs to choose valid operations; the database is the state.
"""

import json
import uuid
from collections import Counter
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from facility_log.models import Alarm, AlarmState, Attachment, Category, Incident, Run, Shift
from facility_log.models.incidents import Severity
from facility_log.models.incidents import Status as S
from facility_log.models.rounds import ScanMethod
from facility_log.models.shifts import ShiftEntryKind
from facility_log.services import access, access_ingest, incident_package, rounds, shifts, view_log
from facility_log.services import incidents as svc
from facility_log.services.access_formats import kisi_incoming
from facility_log.services.links import open_incident_from_alarm
from facility_log.services.rounds import ScanInput
from facility_log.services.verify import verify_audit
from tests import ledger_world as w
from tests.ledger_tampering import tamper_and_check, with_target
from tests.two_factor_helpers import verified_login

OPEN = (S.SUBMITTED, S.RETURNED, S.APPROVED)
# The workflow steps each status allows; a step listed twice is taken twice as often.
NEXT_STEPS = {
    S.DRAFT: ["submit", "submit", "void"],
    S.SUBMITTED: ["approve", "approve", "correct", "supplement", "return", "void"],
    S.RETURNED: ["submit", "correct", "supplement", "void"],
    S.APPROVED: ["close", "correct", "supplement", "void"],
}
CORRECTABLE = {
    "title": st.sampled_from(["Gate B open", "Dock fence cut", "Tür 3 aufgebrochen"]),
    "severity": st.sampled_from(Severity.values),
    "location_text": st.sampled_from(["north fence", "Halle 2, Tor 4"]),
    "police_case_number": st.sampled_from(["", "2026/4711"]),
}
# What ran, over every example of the test (printed at the end).
STATS: Counter = Counter()


class LedgerMachine(RuleBasedStateMachine):
    """One example: a savepoint opened here and rolled back in `teardown`, so each starts
    from the same world; the machine tracks only what it needs to choose valid operations."""

    def __init__(self, world: w.World):
        super().__init__()
        self.w, self.p = world, world.p
        self._savepoint = transaction.atomic()
        # The example's savepoint stands for the test's own transaction: files staged by a
        # service are moved into place as at a commit (services/staged_files.py reads this
        # mark, which Django sets on a TestCase's own blocks).
        self._savepoint._from_testcase = True
        self._savepoint.__enter__()
        self.incidents: dict[int, str] = {}  # pk → status
        self.alarms: dict[int, str] = {}  # pk → state
        self.open_runs: list[int] = []
        self.open_shifts: dict[str, int] = {}  # username → shift pk
        self.sent: dict[str, list] = {w.GENERIC: [], w.GALLAGHER: [], w.KISI: []}
        self.serial = 0
        self._changed = False
        self.steps = 0
        STATS["examples"] += 1

    def teardown(self):
        # Every sequence ends as its records age: the retention purge runs (a year on, or
        # eight years on with one closed incident on legal hold) and the ledger must still
        # verify, tombstones and all. It is the last step: what it removes is gone.
        try:
            self._purge_at_the_end()
        finally:
            self._rollback()

    def _purge_at_the_end(self) -> None:
        if self.steps == 0:
            return
        years = 8 if self.steps % 2 else 1
        closed = Incident.objects.filter(status__in=[S.CLOSED, S.VOID]).order_by("pk").first()
        hold = closed if years == 8 else None
        w.purge(self.w, days=365 * years + 2, hold=hold)
        self._did(f"purge after {years} year(s)" + (" with a legal hold" if hold else ""))
        self.ledger_verifies()

    def _rollback(self) -> None:
        # Attachment files are not part of the transaction: remove those this example wrote
        # (none exist outside the examples). After a failed statement on PostgreSQL nothing
        # can be read until the rollback: the files then stay, under their unique names.
        try:
            files = list(Attachment.objects.values_list("file", flat=True))
        except DatabaseError:
            files = []
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)
        for name in files:
            default_storage.delete(name)

    # --- helpers -------------------------------------------------------------------------

    def _choose(self, data, options: list, label: str):
        """One of `options`. Hypothesis leans hard towards the first item of a list; turning
        the list by the number of steps taken so far spreads the choices over a sequence and
        keeps them reproducible."""
        index = data.draw(st.integers(0, len(options) - 1), label=label)
        return options[(index + self.steps) % len(options)]

    def _did(self, operation: str) -> None:
        self.steps += 1
        self._changed = True
        STATS[f"operation: {operation}"] += 1
        event(operation)

    def _has(self, *statuses) -> bool:
        return any(status in statuses for status in self.incidents.values())

    def _incident(self, data, *statuses, among=None) -> Incident:
        pks = sorted(pk for pk, status in self.incidents.items() if status in statuses)
        if among is not None:
            pks = sorted(set(pks) & set(among.values_list("pk", flat=True)))
        return Incident.objects.get(pk=data.draw(st.sampled_from(pks), label="incident"))

    def _track(self, incident: Incident) -> None:
        self.incidents[incident.pk] = incident.status

    def _reviewer(self, incident: Incident):
        """A reviewer other than the author (a supervisor opens incidents from alarms)."""
        return self.p.manager_ab if incident.author == self.p.supervisor_a else self.p.supervisor_a

    def _external_id(self, vendor: str) -> str:
        self.serial += 1
        return f"{vendor}-{self.serial}"

    def _since(self, start, data):
        """A moment between `start` and now."""
        return start + (timezone.now() - start) * data.draw(st.floats(0, 1), label="when")

    def _refresh_alarms(self) -> None:
        self.alarms = dict(Alarm.objects.values_list("pk", "state"))

    # --- the one check after every step ---------------------------------------------------

    @invariant()
    def ledger_verifies(self):
        # Skipped while nothing legitimate happened since the last check: the world as built
        # (verified once by the test) or a tampering rolled back (its step checks the
        # triggers and the evidence files; the next operation's check covers the rows).
        if not self._changed:
            return
        self._changed = False
        result = verify_audit()
        STATS["verifications"] += 1
        if not result.intact:
            STATS["false alarms"] += 1
        assert result.intact, "false alarm after legitimate operations:\n" + "\n".join(
            str(problem) for problem in result.problems
        )

    # --- incidents -------------------------------------------------------------------------

    @rule(data=st.data())
    def create_incident(self, data):
        people = data.draw(w.persons, label="persons")
        narrative = data.draw(w.texts, label="narrative")
        via_api = data.draw(st.booleans(), label="through the API")
        if via_api:
            body = {
                "site": self.p.site_a.code,
                "client_uuid": str(uuid.uuid4()),
                "category": Category.objects.get(name="Trespass").pk,
                "zone": self.p.zone_a.pk,
                "occurred_from": timezone.now().isoformat(),
                "narrative": narrative,
                "persons": people,
            }
            first = self.w.guard_api.post("/api/v1/incidents/", body, format="json")
            again = self.w.guard_api.post("/api/v1/incidents/", body, format="json")
            assert (first.status_code, again.status_code) == (201, 200), first.content
            incident = Incident.objects.get(pk=first.json()["id"])
        else:
            incident, _ = svc.create_incident(
                self.p.guard_a,
                site=self.p.site_a,
                client_uuid=uuid.uuid4(),
                category=Category.objects.get(name="Theft"),
                zone=self.p.zone_a,
                narrative=narrative,
                persons=people,
            )
        self._track(incident)
        self._did("incident reported" + (" (API, sent twice)" if via_api else ""))

    @precondition(lambda self: self._has(S.DRAFT))
    @rule(data=st.data())
    def change_draft(self, data):
        incident = self._incident(data, S.DRAFT)
        if data.draw(st.booleans(), label="add a person"):
            svc.add_person(incident, incident.author, **data.draw(w.person, label="person"))
            self._did("person added to a draft")
        else:
            title = data.draw(CORRECTABLE["title"], label="title")
            svc.update_draft(
                incident, incident.author, expected_version=incident.version, title=title
            )
            self._did("draft edited")

    @precondition(lambda self: self._has(S.DRAFT, *OPEN))
    @rule(data=st.data())
    def attach_picture(self, data):
        incident = self._incident(data, S.DRAFT, *OPEN)
        picture = data.draw(w.pictures, label="picture")
        again = data.draw(st.booleans(), label="sent twice")
        via_api = data.draw(st.booleans(), label="through the API")
        for _ in range(2 if again else 1):
            upload = w.picture(*picture)
            if via_api:
                url = f"/api/v1/incidents/{incident.pk}/attachments/"
                response = self.w.guard_api.post(url, {"file": upload}, format="multipart")
                assert response.status_code in (200, 201), response.content
            else:
                svc.store_attachment(incident, self.p.guard_a, upload=upload)
        self._did("attachment added" + (" twice" if again else ""))

    # Hypothesis orders rules by argument count (all take one here), then name, and leans
    # towards the first it may run: advance_incident sorts first, so that incidents get
    # through the whole workflow, and create_incident is the first that may always run.
    @precondition(lambda self: self._has(*NEXT_STEPS))
    @rule(data=st.data())
    def advance_incident(self, data):
        """Up to three steps of the workflow, each one its status allows, the ledger checked
        after each (a step at a time would rarely get an incident to closed in one example)."""
        incident = self._incident(data, *NEXT_STEPS)
        for number in range(data.draw(st.integers(1, 3), label="steps")):
            if incident.status not in NEXT_STEPS:
                break
            if number:
                self.ledger_verifies()
            incident = self._workflow_step(incident, data)

    def _workflow_step(self, incident: Incident, data) -> Incident:
        step = self._choose(data, NEXT_STEPS[incident.status], "step")
        reviewer = self._reviewer(incident)
        if step == "submit":
            incident = svc.submit_incident(incident, incident.author)
        elif step == "approve":
            incident = svc.approve_incident(incident, reviewer, comment="complete")
        elif step == "return":
            incident = svc.return_incident(incident, reviewer, comment="add the times")
        elif step == "close":
            incident = svc.close_incident(incident, self.p.manager_ab, reason="nothing more")
        elif step == "correct":
            field = data.draw(st.sampled_from(sorted(CORRECTABLE)), label="field")
            value = data.draw(CORRECTABLE[field], label="value")
            svc.correct_field(
                incident, incident.author, field=field, value=value, reason="wrong on the form"
            )
        elif step == "supplement":
            text = data.draw(w.texts, label="text")
            svc.add_supplement(incident, self.p.guard_a, text=text, reason="seen on camera")
        else:
            actor = incident.author if incident.is_draft else reviewer
            incident = svc.void_incident(incident, actor, reason="reported twice")
        self._track(incident)
        self._did(f"incident: {step}")
        return incident

    @precondition(lambda self: self.incidents)
    @rule(data=st.data())
    def read_incident(self, data):
        """A record view (the incident page logs it, or the service directly), or a police
        export with or without redactions."""
        how = self._choose(data, ["export", "page", "export redacted", "service"], "how")
        numbered = Incident.objects.filter(pk__in=self.incidents, number__isnull=False)
        if how.startswith("export") and numbered.exists():
            incident = self._incident(data, *S.values, among=numbered)
            incident_package.build_incident_package(
                incident,
                self._reviewer(incident),
                recipient="City Police",
                reason="theft",
                case_number="2026/4711",
                redact=how == "export redacted",
            )
            self._did(f"police {how}")
            return
        incident = self._incident(data, *S.values)
        if how != "service":
            client = verified_login(Client(), self.p.supervisor_a)
            response = client.get(reverse("incident-page", args=[incident.pk]))
            assert response.status_code == 200
            self._did("incident page viewed")
        else:
            view_log.record_view(
                self.p.auditor_a, incident, site=incident.site, label=incident.label
            )
            self._did("record view logged")

    # --- access events and alarms --------------------------------------------------------------

    @rule(data=st.data())
    def import_file(self, data):
        """A file of one vendor's events: new ones (some repeated inside the file) with some
        already stored, or only events already stored."""
        vendors = [w.GENERIC, w.GALLAGHER, w.KISI]
        vendor = self._choose(data, vendors, "vendor")
        stored = self.sent[vendor]
        only_duplicates = bool(stored) and data.draw(st.booleans(), label="duplicates only")
        specs = [] if only_duplicates else data.draw(w.event_lists, label="events")
        new = [w.incoming(vendor, self._external_id(vendor), s, n) for n, s in enumerate(specs)]
        resend = data.draw(st.integers(1 if only_duplicates else 0, 3), label="sent before")
        rows = [*new, *stored[-resend:][:resend]]
        if new and data.draw(st.booleans(), label="repeated in the file"):
            rows.append(new[0])
        result = access_ingest.ingest_events(
            self.p.site_a,
            self.p.manager_ab,
            rows,
            channel="file",
            vendor=vendor,
            file_name=f"{vendor}.json",
        )
        assert result.created == len(new), result
        stored.extend(new)
        self._refresh_alarms()
        self._did("file of duplicates only" if only_duplicates else f"{vendor} file imported")

    @rule(data=st.data())
    def send_events(self, data):
        """Events sent twice (a retry) over the batch API (some sent before), or as a signed
        Kisi webhook body (one event, or a list)."""
        specs = data.draw(w.event_lists, label="events")
        if self._choose(data, ["api", "webhook"], "channel") == "api":
            rows = [
                w.incoming(w.GENERIC, self._external_id("api"), s, n) for n, s in enumerate(specs)
            ]
            resend = data.draw(st.integers(0, 2), label="sent before")
            items = [w.api_item(r) for r in [*rows, *self.sent[w.GENERIC][-resend:][:resend]]]
            url = f"/api/v1/access-events/?site={self.p.site_a.code}"
            first = self.w.manager_api.post(url, items, format="json")
            again = self.w.manager_api.post(url, items, format="json")
            assert (first.status_code, again.status_code) == (201, 200), first.content
            assert again.json()["duplicates"] == len(items)
            self.sent[w.GENERIC].extend(rows)
            self._did("API batch posted twice")
        else:
            as_list = data.draw(st.booleans(), label="as a list")
            raw = w.kisi_body([(self._external_id("hook"), spec) for spec in specs], as_list)
            url = reverse("api-kisi-webhook", kwargs={"site_code": self.p.site_a.code})
            headers = {"HTTP_X_SIGNATURE": w.kisi_signature(raw)}
            first = Client().post(url, raw, content_type="application/json", **headers)
            again = Client().post(url, raw, content_type="application/json", **headers)
            assert (first.status_code, again.status_code) == (201, 200), first.content
            # The same events may come again in a Kisi file export (duplicates there).
            bodies = json.loads(raw)
            bodies = bodies if isinstance(bodies, list) else [bodies]
            self.sent[w.KISI].extend(kisi_incoming(b, n) for n, b in enumerate(bodies, start=1))
            self._did("signed Kisi webhook replayed")
        self._refresh_alarms()

    @precondition(lambda self: self.alarms)
    @rule(data=st.data())
    def handle_alarm(self, data):
        pk = data.draw(st.sampled_from(sorted(self.alarms)), label="alarm")
        alarm = Alarm.objects.get(pk=pk)
        steps = {
            AlarmState.NEW: ["acknowledge", "resolve", "open incident"],
            AlarmState.ACKNOWLEDGED: ["resolve", "open incident"],
            AlarmState.RESOLVED: ["open incident"],
        }[alarm.state]
        step = self._choose(data, steps, "step")
        if step == "acknowledge":
            access.acknowledge_alarm(alarm, self.p.supervisor_a, note="guard sent to the door")
        elif step == "resolve":
            access.resolve_alarm(alarm, self.p.supervisor_a, note="door closed, nobody there")
        else:
            incident = open_incident_from_alarm(alarm, self.p.supervisor_a)
            self.incidents.setdefault(incident.pk, incident.status)
        self._refresh_alarms()
        self._did(f"alarm: {step}")

    # --- guard rounds and shifts -------------------------------------------------------------

    @rule(data=st.data())
    def walk_round(self, data):
        """Start a run, scan a checkpoint (sometimes sent twice), or finish a run."""
        steps = ["scan", "scan", "finish", "start"] if self.open_runs else ["start"]
        step = self._choose(data, steps, "step")
        if step == "start":
            minutes_ago = data.draw(st.integers(1, 120), label="minutes ago")
            started = timezone.now() - timedelta(minutes=minutes_ago)
            self.open_runs.append(
                rounds.start_run(self.w.route, self.p.guard_a, started_at=started).pk
            )
            self._did("round started")
            return
        pk = data.draw(st.sampled_from(self.open_runs), label="run")
        run = Run.objects.get(pk=pk)
        if step == "finish":
            rounds.finish_run(run, self.p.guard_a, finished_at=timezone.now())
            self.open_runs.remove(pk)
            self._did("round finished")
            return
        scan = ScanInput(
            tag_code=data.draw(st.sampled_from(self.w.checkpoints), label="stop").tag_code,
            client_uuid=uuid.uuid4(),
            device_time=self._since(run.started_at, data),
            method=data.draw(st.sampled_from(ScanMethod.values), label="method"),
        )
        again = data.draw(st.booleans(), label="sent twice")
        for _ in range(2 if again else 1):
            rounds.record_scan(self.p.guard_a, scan, run=run)
        self._did("checkpoint scanned" + (" (sent twice)" if again else ""))

    @rule(data=st.data())
    def work_shift(self, data):
        """Start a shift (guard or supervisor), write a log entry, or end a shift."""
        off_duty = sorted({"guard_a", "supervisor_a"} - set(self.open_shifts))
        steps = (["entry", "end"] if self.open_shifts else []) + (["start"] if off_duty else [])
        step = self._choose(data, steps, "step")
        if step == "start":
            who = data.draw(st.sampled_from(off_duty), label="who")
            shift, created = shifts.start_shift(
                self.p.site_a,
                self.p.all_people()[who],
                client_uuid=uuid.uuid4(),
                started_at=timezone.now() - timedelta(minutes=data.draw(st.integers(5, 600))),
            )
            assert created
            self.open_shifts[who] = shift.pk
            self._did("shift started")
            return
        who = data.draw(st.sampled_from(sorted(self.open_shifts)), label="who")
        shift = Shift.objects.get(pk=self.open_shifts[who])
        if step == "end":
            notes = data.draw(st.sampled_from(["", "East door sticks.", "Schlüssel 4 fehlt."]))
            shifts.end_shift(shift, shift.guard, ended_at=timezone.now(), pass_down_notes=notes)
            del self.open_shifts[who]
            self._did("shift ended")
            return
        shifts.add_shift_entry(
            shift,
            shift.guard,
            client_uuid=uuid.uuid4(),
            kind=data.draw(st.sampled_from(ShiftEntryKind.values), label="kind"),
            occurred_at=self._since(shift.started_at, data),
            text=data.draw(w.texts, label="text"),
        )
        self._did("shift log entry")

    # --- retention: the purge runs last, in teardown() (what it removes is gone) -----------

    # --- tampering ----------------------------------------------------------------------

    @rule(data=st.data())
    def tamper(self, data):
        """Apply one tampering in a savepoint with the triggers dropped, verify, roll back;
        the verifier must have found it and named only the tampered place."""
        kind = self._choose(data, with_target(), "tampering")
        self.steps += 1
        tamper_and_check(kind, data.draw, STATS)
        event(f"tampering: {kind}")


def summary() -> str:
    operations = sum(n for k, n in STATS.items() if k.startswith("operation: "))
    tamperings = sum(n for k, n in STATS.items() if k.startswith("tampering: "))
    lines = [
        f"ledger stateful test: {STATS['examples']} examples, {operations} operations, "
        f"{STATS['verifications']} verifications, {tamperings} tamperings; "
        f"{STATS['false alarms']} false alarms, {STATS['misses']} misses, "
        f"{STATS['misplaced']} misplaced",
    ]
    lines += [f"  {n:6d}  {k}" for k, n in sorted(STATS.items()) if ": " in k]
    return "\n".join(lines)
