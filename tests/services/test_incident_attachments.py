"""Attachments: type from the content (magic bytes), size limit, SHA-256, generated names,
append-only, redacted copies."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from facility_log.models import Attachment
from facility_log.models.base import HistoryBypassError
from facility_log.services import incidents as svc
from facility_log.services.filetypes import sniff
from tests.incident_factories import draft, jpeg_bytes, png_bytes, submitted


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "video/webm"),
        (b"ID3\x04\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00", "audio/mpeg"),
        (b"OggS\x00\x02\x00\x00", "audio/ogg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
    ],
)
def test_sniff_recognises_evidence_types(head, content_type):
    assert sniff(head).content_type == content_type


@pytest.mark.parametrize(
    "head",
    [b"<html><body>", b"MZ\x90\x00\x03", b"PK\x03\x04zip", b"#!/bin/sh\n", b"", b"RIFF....AVI "],
)
def test_sniff_refuses_everything_else(head):
    assert sniff(head) is None


@pytest.mark.django_db
def test_attachment_is_stored_under_a_generated_name_with_its_sha256(personas):
    incident = draft(personas)
    data = jpeg_bytes()
    upload = SimpleUploadedFile("../../etc/passwd.jpg", data, content_type="text/html")
    attachment = svc.add_attachment(incident, personas.guard_a, upload=upload)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == len(data)
    assert attachment.original_name == "passwd.jpg"
    assert attachment.file.name.startswith(f"incidents/{personas.site_a.code}/")
    assert ".." not in attachment.file.name and "passwd" not in attachment.file.name
    with attachment.file.open("rb") as handle:
        assert handle.read() == data


@pytest.mark.django_db
def test_file_whose_content_is_not_what_its_name_claims_is_refused(personas):
    incident = draft(personas)
    for upload in (
        SimpleUploadedFile("photo.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg"),
        SimpleUploadedFile("report.pdf", png_bytes(), content_type="application/pdf"),
    ):
        with pytest.raises(ValidationError) as error:
            svc.add_attachment(incident, personas.guard_a, upload=upload)
        assert "file" in error.value.message_dict
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_file_over_the_size_limit_is_refused(personas, settings):
    settings.FACILITY_LOG = {**settings.FACILITY_LOG, "MAX_UPLOAD_BYTES": 100}
    incident = draft(personas)
    upload = SimpleUploadedFile("big.png", png_bytes(size=(64, 64)))
    assert upload.size > 100
    with pytest.raises(ValidationError) as error:
        svc.add_attachment(incident, personas.guard_a, upload=upload)
    assert "limit is 100 bytes" in error.value.message_dict["file"][0]
    assert Attachment.objects.count() == 0


def test_upload_limit_defaults_to_25_megabytes():
    from config import settings as project_settings

    assert project_settings.FACILITY_LOG["MAX_UPLOAD_BYTES"] == 25 * 1024 * 1024


@pytest.mark.django_db
def test_attachments_are_append_only(personas):
    incident = draft(personas)
    attachment = svc.add_attachment(
        incident, personas.guard_a, upload=SimpleUploadedFile("a.png", png_bytes())
    )
    attachment.description = "changed"
    with pytest.raises(HistoryBypassError):
        attachment.save()
    with pytest.raises(HistoryBypassError):
        attachment.delete()
    with pytest.raises(HistoryBypassError):
        Attachment.objects.all().delete()


@pytest.mark.django_db
def test_redacted_copy_points_at_its_original(personas):
    incident = submitted(personas)
    original = svc.add_attachment(
        incident, personas.guard_a, upload=SimpleUploadedFile("face.png", png_bytes())
    )
    redacted = svc.add_attachment(
        incident,
        personas.supervisor_a,
        upload=SimpleUploadedFile("face-blurred.png", png_bytes(colour=(0, 0, 0))),
        redacted_from=original,
    )
    assert redacted.redacted_from == original
    assert original.sha256 != redacted.sha256
    other = draft(personas)
    with pytest.raises(ValidationError):
        svc.add_attachment(
            other,
            personas.guard_a,
            upload=SimpleUploadedFile("x.png", png_bytes()),
            redacted_from=original,
        )
