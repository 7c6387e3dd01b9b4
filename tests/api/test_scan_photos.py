"""Checkpoint-scan photos are held to the attachment rules (issue 15): a photo by its content,
at most MAX_UPLOAD_BYTES, under a generated name, its SHA-256 on the row (so in the ledger's
digest) and checked by verify_audit. Before, any type (HTML, SVG) and any size was stored
under the client's file name, unhashed."""

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from facility_log.models import LedgerEntry, Scan
from facility_log.services import rounds
from facility_log.services.verify import verify_audit
from tests.incident_factories import jpeg_bytes
from tests.rounds_helpers import night_route

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9"/></svg>'


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def route(personas):
    return night_route(personas)


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def _api_scan(client, route, upload):
    route_obj, checkpoints = route
    body = {
        "route": route_obj.pk,
        "tag_code": checkpoints[0].tag_code,
        "method": "qr",
        "client_uuid": str(uuid.uuid4()),
        "device_time": timezone.now().isoformat(),
        "photo": upload,
    }
    return client.post("/api/v1/scans/", body, format="multipart")


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("door.jpg", HTML, "not a photo"),
        ("door.html", HTML, "not a photo"),
        ("door.svg", SVG, "not a photo"),
        ("door.pdf", b"%PDF-1.7 an incident attachment type, but no photo", "not a photo"),
        ("door.png", jpeg_bytes(), "name says .png"),
    ],
)
def test_api_refuses_what_is_not_a_photo_naming_the_field(
    route, api_client_for, media, name, content, why
):
    response = _api_scan(api_client_for("guard_a"), route, SimpleUploadedFile(name, content))
    assert response.status_code == 422, response.content
    assert why in response.json()["photo"][0]
    assert Scan.objects.count() == 0 and _files(media) == []


def test_api_refuses_a_photo_over_the_size_cap(route, api_client_for, media, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "MAX_UPLOAD_BYTES": 2_000}
    big = jpeg_bytes(size=(400, 400))
    assert len(big) > 2_000
    response = _api_scan(api_client_for("guard_a"), route, SimpleUploadedFile("big.jpg", big))
    assert response.status_code == 422, response.content
    assert "limit is 2,000 bytes" in response.json()["photo"][0]
    assert Scan.objects.count() == 0 and _files(media) == []


def test_a_photo_is_stored_under_a_generated_name_with_its_sha256_in_the_ledger(
    route, api_client_for, media
):
    content = jpeg_bytes()
    upload = SimpleUploadedFile("../../evil name.jpg", content)
    response = _api_scan(api_client_for("guard_a"), route, upload)
    assert response.status_code == 201, response.content
    scan = Scan.objects.get()
    assert "evil" not in scan.photo.name and scan.photo.name.endswith(".jpg")
    assert (scan.photo_content_type, scan.photo_size) == ("image/jpeg", len(content))
    assert scan.photo_sha256 == hashlib.sha256(content).hexdigest()
    assert scan.photo.open("rb").read() == content
    assert LedgerEntry.objects.filter(object_type="facility_log.scan", object_pk=str(scan.pk))
    assert verify_audit().intact


def test_verify_audit_finds_a_scan_photo_changed_or_gone(route, api_client_for, media):
    _api_scan(api_client_for("guard_a"), route, SimpleUploadedFile("a.jpg", jpeg_bytes()))
    scan = Scan.objects.get()
    path = media / scan.photo.name
    path.write_bytes(path.read_bytes() + b"tampered")
    problems = [str(p) for p in verify_audit().problems]
    assert any(f"scan {scan.pk}'s photo" in p and "no longer match" in p for p in problems)
    path.unlink()
    problems = [str(p) for p in verify_audit().problems]
    assert any(f"scan {scan.pk}'s photo" in p and "missing" in p for p in problems)


def test_the_same_scan_sent_again_with_another_photo_is_a_conflict(route, api_client_for, media):
    client = api_client_for("guard_a")
    route_obj, checkpoints = route
    body = {
        "route": route_obj.pk,
        "tag_code": checkpoints[0].tag_code,
        "method": "qr",
        "client_uuid": str(uuid.uuid4()),
        "device_time": timezone.now().isoformat(),
    }
    photo = jpeg_bytes()
    other = jpeg_bytes(size=(9, 9))
    first, again, changed = (
        client.post("/api/v1/scans/", {**body, "photo": upload}, format="multipart")
        for upload in (
            SimpleUploadedFile("a.jpg", photo),
            SimpleUploadedFile("a.jpg", photo),
            SimpleUploadedFile("b.jpg", other),
        )
    )
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 422)
    assert Scan.objects.count() == 1 and len(_files(media)) == 1


@pytest.mark.parametrize(("content", "why"), [(HTML, "not a photo"), (SVG, "not a photo")])
def test_the_round_page_shows_a_refused_photo_on_its_field(
    personas, route, client_for, media, content, why
):
    route_obj, checkpoints = route
    run = rounds.start_run(route_obj, personas.guard_a)
    data = {
        "code": checkpoints[0].tag_code,
        "note": "",
        "client_uuid": str(uuid.uuid4()),
        "photo": SimpleUploadedFile("door.jpg", content),
    }
    response = client_for("guard_a").post(reverse("round-scan", args=[run.pk]), data)
    assert response.status_code == 200
    assert why in " ".join(response.context["form"].errors["photo"])
    assert Scan.objects.count() == 0 and _files(media) == []


def test_the_round_page_refuses_an_oversized_photo(personas, route, client_for, media, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "MAX_UPLOAD_BYTES": 2_000}
    route_obj, checkpoints = route
    run = rounds.start_run(route_obj, personas.guard_a)
    data = {
        "code": checkpoints[0].tag_code,
        "client_uuid": str(uuid.uuid4()),
        "photo": SimpleUploadedFile("big.jpg", jpeg_bytes(size=(400, 400))),
    }
    response = client_for("guard_a").post(reverse("round-scan", args=[run.pk]), data)
    assert response.status_code == 200
    assert "limit is 2,000 bytes" in " ".join(response.context["form"].errors["photo"])
    assert Scan.objects.count() == 0
