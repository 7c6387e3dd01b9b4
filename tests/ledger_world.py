"""The fixed ground of the ledger's stateful test (tests/services/test_ledger_stateful.py),
built once per test through the real services, and the inputs its rules send.

What is built here stays for every example: doors at site A, the Kisi webhook secret, a
guard round with three checkpoints, API tokens. Everything the machine does on top of it is
rolled back after each example.
"""

import hashlib
import hmac
import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import strategies as st
from PIL import Image
from rest_framework.test import APIClient

from facility_log.models import Checkpoint, EventType, Incident, Route
from facility_log.models.access import DenialReason, SourceFormat
from facility_log.models.incidents import PersonRole
from facility_log.services import access, access_ingest, accounts
from facility_log.services import incidents as incident_services
from facility_log.services.access_formats import Incoming
from tests.access.helpers import SAMPLE_DOORS, ingest, sample_doors
from tests.personas import Personas
from tests.rounds_helpers import night_route
from tests.two_factor_helpers import verified_login

WEBHOOK_SECRET = "stateful-kisi-secret"
GENERIC, GALLAGHER, KISI = SourceFormat.GENERIC, SourceFormat.GALLAGHER, SourceFormat.KISI


@dataclass
class World:
    """Site A ready for every domain: doors, a webhook secret, a round, API clients."""

    p: Personas
    route: Route
    checkpoints: list[Checkpoint]
    manager_api: APIClient
    guard_api: APIClient


def _api_client(user, admin) -> APIClient:
    _token, key = accounts.issue_api_token(user, admin, reason="stateful ledger test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def build_world(p: Personas) -> World:
    incident_services.ensure_default_categories(None)
    sample_doors(p.site_a, p.zone_a)
    access.set_webhook_secret(p.site_a, p.manager_ab, secret=WEBHOOK_SECRET, reason="Kisi set up")
    route, checkpoints = night_route(p)
    return World(
        p,
        route,
        checkpoints,
        _api_client(p.manager_ab, p.admin),
        _api_client(p.guard_a, p.admin),
    )


# --- incidents -----------------------------------------------------------------------------

NAMES = ["Ann", "José Müller", "Zoë O'Brien", "李雷", ""]
WORDS = [
    "Gate B found open.",
    "Fence cut at the dock; copper taken.",
    "Ein Mann am Tor, 02:10 Uhr.",
]

person = st.fixed_dictionaries(
    {
        "role": st.sampled_from(PersonRole.values),
        "name": st.sampled_from(NAMES),
        "statement": st.sampled_from(["", *WORDS]),
    }
)
persons = st.lists(person, max_size=2)
texts = st.sampled_from(WORDS)


def picture(kind: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A small real PNG or JPEG of one colour (different colours, different bytes)."""
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), colour).save(buffer, format=kind.upper())
    extension = "png" if kind == "png" else "jpg"
    return SimpleUploadedFile(f"photo.{extension}", buffer.getvalue(), f"image/{kind}")


pictures = st.tuples(st.sampled_from(["png", "jpeg"]), st.tuples(*[st.integers(0, 255)] * 3))


# --- access events -------------------------------------------------------------------------

# Vendor types the mapping knows, and some it does not (stored as `other`, listed to map).
VENDOR_TYPES = {
    # A missed check-in is raised by the lone-worker check, never reported by a door.
    GENERIC: sorted(set(EventType.values) - {EventType.MISSED_CHECK_IN}),
    GALLAGHER: ["Door Access Granted", "No Zone Privilege", "Forced Door", "Fence Breach"],
    KISI: ["lock.unlock", "lock.battery_low", "door.held_open_too_long"],
}
SOURCE = {GENERIC: "ctl-7", GALLAGHER: "gallagher", KISI: "kisi"}

event_specs = st.fixed_dictionaries(
    {
        "door": st.sampled_from(SAMPLE_DOORS),
        "minutes_ago": st.integers(0, 24 * 60),
        "offset_hours": st.sampled_from([0, 1, -5, 5.5]),
        "microseconds": st.sampled_from([0, 0, 123456]),
        "type_index": st.integers(0, 20),
        "failed": st.booleans(),
        "reason": st.sampled_from(["", *DenialReason.values]),
        "credential": st.sampled_from(["", "4242", "00012345", "987654321"]),
        "cardholder": st.sampled_from(NAMES),
        "direction": st.sampled_from(["", "in", "out"]),
    }
)

event_lists = st.lists(event_specs, min_size=1, max_size=3)


def occurred_at(spec: dict, now: datetime) -> str:
    """A time in the recent past, written with the offset and precision the spec asks for."""
    zone = dt_timezone(timedelta(hours=spec["offset_hours"]))
    moment = (now - timedelta(minutes=spec["minutes_ago"])).replace(
        microsecond=spec["microseconds"]
    )
    text = moment.astimezone(zone).isoformat()
    return text.replace("+00:00", "Z") if spec["offset_hours"] == 0 else text


def vendor_type(vendor: str, spec: dict) -> str:
    types = VENDOR_TYPES[vendor]
    return types[spec["type_index"] % len(types)]


def incoming(vendor: str, external_id: str, spec: dict, line: int) -> Incoming:
    """One event as a file, an API batch or a webhook would give it."""
    kind = vendor_type(vendor, spec)
    common = {
        "line": line,
        "source": SOURCE[vendor],
        "external_id": external_id,
        "occurred_at": occurred_at(spec, timezone.now()),
        "door": spec["door"],
        "vendor": vendor,
        "cardholder": spec["cardholder"],
    }
    if vendor == GENERIC:
        reason = spec["reason"] if kind == EventType.DENIED else ""
        return Incoming(
            **common,
            event_type=kind,
            reason=reason,
            credential=spec["credential"],
            direction=spec["direction"],
        )
    if vendor == GALLAGHER:
        return Incoming(**common, vendor_type=kind, credential=spec["credential"])
    return Incoming(**common, vendor_type=kind, failed=spec["failed"], reason=spec["reason"])


def api_item(row: Incoming) -> dict:
    """A generic row as one item of the batch API."""
    item = {
        "source": row.source,
        "external_id": row.external_id,
        "occurred_at": row.occurred_at,
        "door": row.door,
        "event_type": row.event_type,
        "credential": row.credential,
        "cardholder": row.cardholder,
        "direction": row.direction,
    }
    if row.reason:
        item["reason"] = row.reason
    return item


def kisi_body(events: list[tuple[str, dict]], as_list: bool) -> bytes:
    """A Kisi event-webhook body as Kisi serialises it: one event, or a list of them."""
    bodies = [
        {
            "uuid": external_id,
            "actor_type": "User",
            "actor_name": spec["cardholder"],
            "object_type": "Lock",
            "object_id": spec["door"],
            "success": not spec["failed"],
            "type": vendor_type(KISI, spec),
            "error_code": spec["reason"] or None,
            "created_at": occurred_at(spec, timezone.now()),
        }
        for external_id, spec in events
    ]
    return json.dumps(bodies if as_list or len(bodies) > 1 else bodies[0]).encode()


def kisi_signature(raw: bytes) -> str:
    return hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()


# --- one of everything ---------------------------------------------------------------------

QUIET_EVENT = {
    "door": "D-MAIN",
    "minutes_ago": 30,
    "offset_hours": 1,
    "microseconds": 123456,
    "type_index": 0,
    "failed": False,
    "reason": "",
    "credential": "00012345",
    "cardholder": "José Müller",
    "direction": "in",
}


def busy_day(world: World) -> None:
    """One of everything the machine does, through the services, the API and the webhook,
    so that every tampering has a target: an approved incident with a person, two photos, a
    supplement, views and exports with and without redactions; files of every vendor (an
    unmapped type among them) each imported twice, an API batch posted twice, a signed
    webhook replayed, an alarm acknowledged and turned into an incident; a round walked; a
    shift worked. (The caller stands in for the PDF, as the stateful test does.)"""
    from facility_log.models import Alarm, Category
    from facility_log.services import incident_package, rounds, shifts, view_log
    from facility_log.services.links import open_incident_from_alarm
    from facility_log.services.rounds import ScanInput

    p, now = world.p, timezone.now()
    incident, _ = incident_services.create_incident(
        p.guard_a,
        site=p.site_a,
        category=Category.objects.get(name="Theft"),
        zone=p.zone_a,
        narrative=WORDS[1],
        persons=[{"role": "witness", "name": "Zoë O'Brien", "statement": WORDS[0]}],
    )
    for kind, colour in (("png", (200, 30, 30)), ("jpeg", (20, 90, 200))):
        incident_services.store_attachment(incident, p.guard_a, upload=picture(kind, colour))
    incident = incident_services.submit_incident(incident, p.guard_a)
    incident_services.add_supplement(incident, p.guard_a, text=WORDS[2], reason="camera")
    incident = incident_services.approve_incident(incident, p.supervisor_a)
    view_log.record_view(p.auditor_a, incident, site=p.site_a, label=incident.label)
    page = verified_login(Client(), p.supervisor_a)
    assert page.get(reverse("incident-page", args=[incident.pk])).status_code == 200
    for redact in (False, True):
        incident_package.build_incident_package(
            incident, p.supervisor_a, recipient="City Police", reason="theft", redact=redact
        )
    forced_open = {**QUIET_EVENT, "type_index": VENDOR_TYPES[GENERIC].index("forced_open")}
    unmapped = {**QUIET_EVENT, "type_index": VENDOR_TYPES[KISI].index("lock.battery_low")}
    for vendor, spec in ((GENERIC, forced_open), (GALLAGHER, QUIET_EVENT), (KISI, unmapped)):
        rows = [incoming(vendor, f"busy-{vendor}-{n}", spec, n) for n in (1, 2)]
        for _ in range(2):  # the second time, duplicates only
            access_ingest.ingest_events(p.site_a, p.manager_ab, rows, channel="file", vendor=vendor)
    items = [api_item(incoming(GENERIC, f"busy-api-{n}", QUIET_EVENT, n)) for n in (1, 2)]
    raw = kisi_body([("busy-hook-1", QUIET_EVENT), ("busy-hook-2", unmapped)], as_list=True)
    hook = reverse("api-kisi-webhook", kwargs={"site_code": p.site_a.code})
    for _ in range(2):  # a retry of each
        url = f"/api/v1/access-events/?site={p.site_a.code}"
        batch = world.manager_api.post(url, items, format="json")
        assert batch.status_code in (200, 201), batch.content
        signed = {"HTTP_X_SIGNATURE": kisi_signature(raw)}
        delivered = Client().post(hook, raw, content_type="application/json", **signed)
        assert delivered.status_code in (200, 201), delivered.content
    alarm = Alarm.objects.order_by("pk").first()
    access.acknowledge_alarm(alarm, p.supervisor_a, note="guard sent")
    open_incident_from_alarm(alarm, p.supervisor_a)
    run = rounds.start_run(world.route, p.guard_a, started_at=now - timedelta(minutes=40))
    for minutes, checkpoint in zip((35, 25), world.checkpoints, strict=False):
        scan = ScanInput(checkpoint.tag_code, uuid.uuid4(), now - timedelta(minutes=minutes))
        rounds.record_scan(p.guard_a, scan, run=run)
    rounds.finish_run(run, p.guard_a, finished_at=now - timedelta(minutes=20))
    shift, _ = shifts.start_shift(
        p.site_a, p.guard_a, client_uuid=uuid.uuid4(), started_at=now - timedelta(hours=2)
    )
    shifts.add_shift_entry(
        shift,
        p.guard_a,
        client_uuid=uuid.uuid4(),
        kind="patrol",
        occurred_at=now - timedelta(hours=1),
        text=WORDS[0],
    )
    shifts.end_shift(shift, p.guard_a, ended_at=now, pass_down_notes="East door sticks.")
    # The retention purge as cron runs it, 100 days on: the access events go (with batch
    # entries over what remains and tombstones for their alarms), then new events arrive.
    purge(world, days=100)
    ingest(p.site_a, [incoming(GENERIC, f"busy-after-purge-{n}", QUIET_EVENT, n) for n in (1, 2)])


def purge(world: World, *, days: int, hold: Incident | None = None) -> None:
    """`purge_expired --apply` run `days` from now; `hold` is kept by a legal hold."""
    from facility_log.services import retention
    from facility_log.services.accounts import system_actor

    if hold is not None and retention.active_hold(hold) is None:
        retention.place_legal_hold(hold, world.p.manager_ab, reason="case 2026/4711 open")
    from django.test import TestCase

    # The purge deletes files once it commits; the example's savepoint never commits, so its
    # commit callbacks run here, as a server's commit would run them.
    with TestCase.captureOnCommitCallbacks(execute=True):
        retention.purge_expired(
            system_actor(), apply=True, now=timezone.now() + timedelta(days=days)
        )
