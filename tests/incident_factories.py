"""Building incidents for tests through the real services."""

import io
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from facility_log.models import Category
from facility_log.services import incidents as svc


def png_bytes(size=(8, 8), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def photo(name="photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def category(name="Trespass") -> Category:
    svc.ensure_default_categories(None)
    return Category.objects.get(name=name)


def draft(p, *, author=None, narrative="Gate B found open at 02:10.", **fields):
    fields.setdefault("category", category())
    fields.setdefault("zone", p.zone_a)
    fields.setdefault("occurred_from", timezone.now())
    incident, _ = svc.create_incident(
        author or p.guard_a,
        site=p.site_a,
        client_uuid=uuid.uuid4(),
        narrative=narrative,
        **fields,
    )
    return incident


def submitted(p, **fields):
    incident = draft(p, **fields)
    return svc.submit_incident(incident, incident.author)


SEED_UUID = uuid.UUID("00000000-0000-4000-8000-00000000a001")


def seed_site_a_incident(p):
    """One submitted site-A incident with a witness, a photo and a supplement; made once."""
    from facility_log.models import Incident

    existing = Incident.objects.filter(client_uuid=SEED_UUID).first()
    if existing is not None:
        return existing
    incident, _ = svc.create_incident(
        p.guard_a,
        site=p.site_a,
        client_uuid=SEED_UUID,
        category=category("Theft"),
        zone=p.zone_a,
        title="Laptop missing from the lobby",
        narrative="A laptop was taken from the lobby desk.",
        persons=[{"role": "witness", "name": "Walt Witness", "statement": "Saw a man leave."}],
    )
    svc.add_attachment(incident, p.guard_a, upload=photo("desk.png"), description="the desk")
    incident = svc.submit_incident(incident, p.guard_a)
    svc.add_supplement(incident, p.guard_a, text="Serial 123.", reason="found the serial")
    return incident
