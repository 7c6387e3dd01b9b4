"""Demo incidents at HQ in every state (and one at LAB), with persons, a photo and
supplements, so a newcomer sees the workflow at work. Idempotent: each demo incident has a
fixed client UUID and is made (with its whole story) only if it does not exist yet."""

import io
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from facility_log.models import Category, Incident, Site, Zone
from facility_log.services import incidents as svc

NAMESPACE = uuid.UUID("5b7c1d0e-7a51-4c55-9a43-d3e0c1f6a001")


@dataclass
class DemoIncident:
    key: str
    site: str
    zone: str
    category: str
    severity: str
    hours_ago: int
    title: str
    narrative: str
    story: list[str] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)
    photo: bool = False
    extra: dict = field(default_factory=dict)


DEMO = [
    DemoIncident(
        "hq-draft",
        "HQ",
        "Car park",
        "Safety hazard",
        "low",
        2,
        "Oil spill in the car park",
        "Oil patch about 1 m wide next to bay 14. Cones placed.",
    ),
    DemoIncident(
        "hq-submitted",
        "HQ",
        "Gate B",
        "Trespass",
        "medium",
        8,
        "Person climbed the fence at Gate B",
        "At 02:10 a man climbed the fence next to Gate B and walked towards the loading dock. "
        "Challenged him; he left the same way.",
        story=["submit"],
        persons=[{"role": "witness", "name": "Kim Driver", "statement": "Saw him climb over."}],
        photo=True,
    ),
    DemoIncident(
        "hq-returned",
        "HQ",
        "Loading dock",
        "Theft",
        "high",
        30,
        "Pallet of copper cable missing",
        "Morning count shows one pallet of copper cable missing from the dock.",
        story=["submit", "return"],
        persons=[{"role": "reporting_party", "name": "Dock lead", "contact": "ext. 214"}],
    ),
    DemoIncident(
        "hq-approved",
        "HQ",
        "Main entrance",
        "Threat received",
        "high",
        50,
        "Threatening phone call at reception",
        "Caller said the building would be 'sorry tomorrow' and hung up.",
        story=["submit", "return", "supplement", "submit", "approve"],
        persons=[{"role": "victim", "name": "Reception desk", "statement": "Caller was calm."}],
        extra={
            "threat_channel": "phone",
            "threat_words": "You will be sorry tomorrow.",
            "threat_target": "The building",
            "police_notified": True,
            "police_agency": "Berlin Police",
            "police_case_number": "B-2026-118",
        },
    ),
    DemoIncident(
        "hq-closed",
        "HQ",
        "Server room",
        "Alarm",
        "medium",
        120,
        "Server room door alarm",
        "Door held open alarm; found a contractor propping the door for a delivery.",
        story=["submit", "approve", "close"],
        persons=[{"role": "contractor", "name": "", "description": "Delivery contractor"}],
    ),
    DemoIncident(
        "hq-void",
        "HQ",
        "Roof",
        "Other",
        "low",
        200,
        "Duplicate of the roof hatch report",
        "Roof hatch found unlatched.",
        story=["submit", "void"],
    ),
    DemoIncident(
        "lab-submitted",
        "LAB",
        "Lobby",
        "Lost / found",
        "low",
        5,
        "Badge found in the lobby",
        "Visitor badge found on the floor by the lifts; handed to reception.",
        story=["submit"],
    ),
]


def demo_photo() -> SimpleUploadedFile:
    """A small, valid PNG: a fence with a gap, drawn with Pillow."""
    image = Image.new("RGB", (320, 200), (70, 90, 110))
    draw = ImageDraw.Draw(image)
    for x in range(10, 320, 24):
        if not 130 < x < 190:
            draw.rectangle([x, 40, x + 6, 190], fill=(190, 190, 190))
    draw.line([0, 60, 320, 60], fill=(220, 220, 220), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("gate-b-fence.png", buffer.getvalue(), content_type="image/png")


def seed_incidents(actor=None) -> int:
    """Create the demo incidents that do not exist yet; returns how many were made."""
    svc.ensure_default_categories(actor)
    made = 0
    for spec in DEMO:
        key = uuid.uuid5(NAMESPACE, spec.key)
        if Incident.objects.filter(client_uuid=key).exists():
            continue
        _play(spec, key)
        made += 1
    return made


def _people(site_code: str) -> dict:
    users = get_user_model().objects
    if site_code == "LAB":
        return {"guard": users.get(username="lab-guard"), "supervisor": None, "manager": None}
    return {
        "guard": users.get(username="guard"),
        "supervisor": users.get(username="supervisor"),
        "manager": users.get(username="manager"),
    }


def _play(spec: DemoIncident, key: uuid.UUID) -> Incident:
    site = Site.objects.get(code=spec.site)
    people = _people(spec.site)
    occurred = timezone.now() - timedelta(hours=spec.hours_ago)
    incident, _ = svc.create_incident(
        people["guard"],
        site=site,
        client_uuid=key,
        reason="demo data (manage.py seed_demo)",
        zone=Zone.objects.get(site=site, name=spec.zone),
        category=Category.objects.get(name=spec.category),
        severity=spec.severity,
        occurred_from=occurred,
        discovered_at=occurred + timedelta(minutes=5),
        title=spec.title,
        narrative=spec.narrative,
        actions_taken="Area checked and secured.",
        persons=spec.persons,
        **spec.extra,
    )
    if spec.photo:
        svc.add_attachment(incident, people["guard"], upload=demo_photo(), description="photo")
    for step in spec.story:
        incident = _step(step, incident, people)
    return incident


def _step(step: str, incident: Incident, people: dict) -> Incident:
    guard, supervisor, manager = people["guard"], people["supervisor"], people["manager"]
    if step == "submit":
        return svc.submit_incident(incident, guard)
    if step == "return":
        return svc.return_incident(incident, supervisor, comment="Please describe what you saw.")
    if step == "supplement":
        svc.add_supplement(
            incident,
            guard,
            text="The caller had a deep voice; the display showed a withheld number.",
            reason="supervisor asked for details",
        )
        return incident
    if step == "approve":
        return svc.approve_incident(incident, supervisor, comment="Thank you.")
    if step == "close":
        return svc.close_incident(incident, manager, reason="no further action needed")
    return svc.void_incident(incident, supervisor, reason="duplicate report")
