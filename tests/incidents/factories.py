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
