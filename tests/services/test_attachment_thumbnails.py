"""The police package's thumbnails are made once, at upload, stored append-only with a ledger
entry, and used by the export without decoding the original again; attachments stored before
that still export (and get theirs recorded); a purge takes them with their photos; an altered
thumbnail is named by verify_audit and never reaches the report."""

import base64
import io
import logging
import os
import random
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from facility_log.models import Attachment, AttachmentThumbnail, LedgerEntry
from facility_log.services import incidents as svc
from facility_log.services import thumbnails
from facility_log.services.accounts import system_actor
from facility_log.services.incident_bundle import load_bundle
from facility_log.services.incident_package import (
    build_incident_package,
    history_document,
    incident_document,
)
from facility_log.services.ledger import ledger_head, object_type
from facility_log.services.pdf_report import report_html
from facility_log.services.retention import purge_expired
from facility_log.services.verify import verify_audit
from tests.incident_factories import draft, submitted
from tests.retention_helpers import closed_incident


def _photo_bytes(fmt: str, seed: int, size=(900, 700)) -> bytes:
    """A photo-like image larger than the thumbnail (so it is really scaled down), each seed
    different."""
    rng = random.Random(seed)
    small = Image.frombytes("RGB", (30, 20), rng.randbytes(30 * 20 * 3))
    buffer = io.BytesIO()
    small.resize(size, Image.BICUBIC).save(
        buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {})
    )
    return buffer.getvalue()


def _upload(fmt: str, seed: int, name: str | None = None) -> SimpleUploadedFile:
    extension = {"JPEG": "jpg", "PNG": "png"}[fmt]
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png"}[fmt]
    return SimpleUploadedFile(
        name or f"photo{seed}.{extension}", _photo_bytes(fmt, seed), content_type=content_type
    )


def _thumbnail_as_before(attachment) -> str | None:
    """The export's thumbnail as it was made before thumbnails were stored (the code of
    `pdf_report.thumbnail_data_uri` until then, verbatim): the stored one must equal it."""
    if not attachment.content_type.startswith("image/"):
        return None
    try:
        with attachment.file.open("rb") as handle, Image.open(handle) as image:
            image.thumbnail((360, 360), reducing_gap=1.0)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=80)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _stored(attachment) -> bytes:
    return bytes(AttachmentThumbnail.objects.get(attachment=attachment).jpeg)


def _html(incident, actor, thumbnail_bytes):
    bundle = load_bundle(incident)
    document = incident_document(bundle, [])
    _history, entries = history_document(bundle, [])
    moment = timezone.now()
    return report_html(
        bundle, document, entries, ledger_head(), moment, actor, "Police", "", thumbnail_bytes
    )


@pytest.fixture
def decoded(monkeypatch):
    """Every thumbnail made from image bytes, and every image Pillow opens from a stored
    attachment file (a spy: the real functions still run)."""
    made, opened = [], []
    real_make, real_open = thumbnails.make_thumbnail, Image.open

    def make(handle):
        made.append(getattr(handle, "name", "?"))
        return real_make(handle)

    def open_(fp, *args, **kwargs):
        opened.append(str(getattr(fp, "name", "")))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(thumbnails, "make_thumbnail", make)
    monkeypatch.setattr(Image, "open", open_)
    return made, opened


@pytest.fixture
def as_before_thumbnails(monkeypatch):
    """Uploads as they were before thumbnails were stored: the attachment and its entry, no
    thumbnail row."""
    monkeypatch.setattr(thumbnails, "of_upload", lambda upload, file_type: None)


# --- every path that stores an image gives it its thumbnail ---------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_an_uploaded_photo_gets_its_thumbnail_chained_in_the_ledger(personas, fmt):
    attachment = svc.add_attachment(draft(personas), personas.guard_a, upload=_upload(fmt, 1))
    row = AttachmentThumbnail.objects.get(attachment=attachment)
    assert row.recipe == thumbnails.RECIPE
    # The very bytes the export made from the stored photo before this change.
    assert thumbnails.data_uri(bytes(row.jpeg)) == _thumbnail_as_before(attachment)
    with Image.open(io.BytesIO(bytes(row.jpeg))) as image:
        assert image.format == "JPEG" and max(image.size) == thumbnails.THUMBNAIL_PX
    entry = LedgerEntry.objects.get(
        object_type=object_type(AttachmentThumbnail), object_pk=str(row.pk)
    )
    assert entry.actor == personas.guard_a
    assert verify_audit().intact


@pytest.mark.django_db
def test_a_photo_on_the_report_form_gets_its_thumbnail(personas, client_for):
    from tests.views.test_incident_pages import _report

    # The form's transaction moves the file into place when it commits (staged_files).
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for("guard_a").post(
            reverse("incident-new"), _report(personas, photo=_upload("PNG", 2))
        )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert thumbnails.data_uri(_stored(attachment)) == _thumbnail_as_before(attachment)


@pytest.mark.django_db
def test_a_photo_and_its_redacted_copy_attached_on_the_page_get_theirs(personas, client_for):
    incident = submitted(personas)
    client = client_for("supervisor_a")
    url = reverse("incident-attach", args=[incident.pk])
    client.post(url, {"file": _upload("JPEG", 3), "description": "door"})
    original = Attachment.objects.get()
    client.post(
        url, {"file": _upload("JPEG", 4), "description": "faces", "redacted_from": original.pk}
    )
    copy = Attachment.objects.get(redacted_from=original)
    assert _stored(original) != _stored(copy)
    assert thumbnails.data_uri(_stored(copy)) == _thumbnail_as_before(copy)
    # The outsider stores nothing, and so no thumbnail either.
    client_for("outsider_c").post(url, {"file": _upload("JPEG", 5), "description": "x"})
    assert AttachmentThumbnail.objects.count() == 2


@pytest.mark.django_db
def test_a_photo_sent_through_the_api_as_the_tablet_outbox_does_gets_its_thumbnail(
    personas, api_client_for
):
    incident = draft(personas)
    url = f"/api/v1/incidents/{incident.pk}/attachments/"
    upload = _upload("JPEG", 6)
    response = api_client_for("guard_a").post(url, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    first = _stored(attachment)
    # The outbox retrying after a lost answer: the same attachment, still one thumbnail.
    upload.seek(0)
    again = api_client_for("guard_a").post(url, {"file": upload}, format="multipart")
    assert again.status_code == 200 and again.json()["id"] == attachment.pk
    assert bytes(AttachmentThumbnail.objects.get().jpeg) == first
    outsider = api_client_for("outsider_c")
    refused = outsider.post(url, {"file": _upload("JPEG", 7)}, format="multipart")
    assert refused.status_code in (403, 404)
    assert AttachmentThumbnail.objects.count() == 1


@pytest.mark.django_db
def test_the_demo_photo_gets_its_thumbnail(personas):
    from facility_log.demo.incidents import demo_photo

    attachment = svc.add_attachment(draft(personas), personas.guard_a, upload=demo_photo())
    assert AttachmentThumbnail.objects.filter(attachment=attachment).exists()


@pytest.mark.django_db
def test_a_document_or_a_broken_image_is_stored_as_before_without_a_thumbnail(personas):
    incident = draft(personas)
    pdf = SimpleUploadedFile("note.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n")
    whole = _photo_bytes("PNG", 8)
    # The right magic bytes, then a header Pillow cannot read: the type check passes, Pillow
    # fails.
    broken = SimpleUploadedFile("bad.png", whole[:16] + b"\0" * 64, content_type="image/png")
    stored = [svc.add_attachment(incident, personas.guard_a, upload=f) for f in (pdf, broken)]
    assert [a.content_type for a in stored] == ["application/pdf", "image/png"]
    assert not AttachmentThumbnail.objects.exists()
    assert verify_audit().intact


def test_a_photo_cut_off_part_way_gets_the_same_thumbnail_whatever_was_imported_before(tmp_path):
    """WeasyPrint makes Pillow draw a truncated image as far as its data goes, for the whole
    process, once imported: a thumbnail made in a process that never rendered a PDF (a fresh
    one, here) must be the one made where WeasyPrint is loaded (this one)."""
    import weasyprint  # noqa: F401 - what the export's PDF rendering imports

    whole = _photo_bytes("PNG", 8)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 3])
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import base64, sys, django; django.setup();"
            " from facility_log.services import thumbnails;"
            " assert 'weasyprint' not in sys.modules;"
            f" jpeg = thumbnails.make_thumbnail(open({str(cut)!r}, 'rb'));"
            " print(base64.b64encode(jpeg).decode())",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
    )
    here = thumbnails.make_thumbnail(io.BytesIO(cut.read_bytes()))
    assert here is not None
    assert base64.b64decode(fresh.stdout.strip()) == here


# --- the export uses it ----------------------------------------------------------------------


def _with_photos(p, count=4):
    incident = draft(p)
    for n in range(count):
        svc.add_attachment(incident, p.guard_a, upload=_upload(("JPEG", "PNG")[n % 2], 10 + n))
    return svc.submit_incident(incident, p.guard_a)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_report_with_stored_thumbnails_is_the_report_made_from_the_originals(
    personas, language
):
    incident = draft(personas, title='<script>alert("x")</script> & "Tor"')
    for n, name in enumerate(['<img src=x onerror="alert(1)">.jpg', "Tür ß.png"]):
        fmt = "JPEG" if name.endswith(".jpg") else "PNG"
        svc.add_attachment(incident, personas.guard_a, upload=_upload(fmt, 20 + n, name))
    incident = svc.submit_incident(incident, personas.guard_a)
    attachments = list(incident.attachments.all())
    as_before = {a.pk: _thumbnail_as_before(a) for a in attachments}
    with translation.override(language):
        stored = _html(incident, personas.manager_ab, thumbnails.for_export(attachments))
        made_now = _html(
            incident,
            personas.manager_ab,
            {a.pk: base64.b64decode(as_before[a.pk].split(",", 1)[1]) for a in attachments},
        )
    assert stored == made_now
    assert all(uri in stored for uri in as_before.values())


@pytest.mark.django_db
def test_the_export_does_not_decode_the_photos_again(personas, decoded):
    incident = _with_photos(personas)
    made, opened = decoded
    made.clear(), opened.clear()
    build_incident_package(incident, personas.manager_ab, recipient="Police", reason="r")
    names = [a.file.name for a in incident.attachments.all()]
    assert made == []
    assert not [o for o in opened if any(o.endswith(n) for n in names)], opened


# --- attachments stored before thumbnails were kept ------------------------------------------


@pytest.mark.django_db
def test_an_older_photo_swapped_in_storage_never_becomes_the_thumbnail_of_record(
    personas, as_before_thumbnails
):
    """The export refuses the swapped file and records no thumbnail made from it; put back,
    the photo exports and the thumbnail recorded is the genuine one."""
    from django.core.exceptions import ValidationError

    incident = _with_photos(personas, count=1)
    attachment = incident.attachments.get()
    genuine = _thumbnail_as_before(attachment)
    with attachment.file.storage.open(attachment.file.name, "rb") as handle:
        original = handle.read()
    with open(attachment.file.path, "wb") as handle:
        handle.write(_photo_bytes("PNG", 99))  # another picture, a valid image
    with pytest.raises(ValidationError, match="no longer matches the SHA-256"):
        build_incident_package(incident, personas.manager_ab, recipient="Police", reason="r")
    assert not AttachmentThumbnail.objects.exists()

    with open(attachment.file.path, "wb") as handle:
        handle.write(original)
    build_incident_package(incident, personas.manager_ab, recipient="Police", reason="r")
    assert thumbnails.data_uri(_stored(attachment)) == genuine
    assert verify_audit().intact


@pytest.mark.django_db
def test_an_older_photo_exports_as_before_and_its_thumbnail_is_recorded_then(
    personas, decoded, as_before_thumbnails, monkeypatch
):
    incident = _with_photos(personas, count=2)
    assert not AttachmentThumbnail.objects.exists()
    attachments = list(incident.attachments.all())
    made, _opened = decoded
    made.clear()
    html = _html(incident, personas.manager_ab, None)  # the report alone records nothing
    assert all(_thumbnail_as_before(a) in html for a in attachments)
    assert not AttachmentThumbnail.objects.exists()
    assert len(made) == 2

    made.clear()
    build_incident_package(incident, personas.manager_ab, recipient="Police", reason="r")
    assert len(made) == 2  # made from the originals, as before
    for attachment in attachments:
        assert thumbnails.data_uri(_stored(attachment)) == _thumbnail_as_before(attachment)
        row = AttachmentThumbnail.objects.get(attachment=attachment)
        entry = LedgerEntry.objects.get(
            object_type=object_type(AttachmentThumbnail), object_pk=str(row.pk)
        )
        assert entry.actor == personas.manager_ab
    assert verify_audit().intact

    made.clear()
    build_incident_package(incident, personas.manager_ab, recipient="Police", reason="again")
    assert made == []  # the next export finds them
    assert AttachmentThumbnail.objects.count() == 2


@pytest.mark.django_db
def test_a_thumbnail_made_another_way_is_not_used(personas, decoded, monkeypatch):
    incident = _with_photos(personas, count=1)
    made, _opened = decoded
    made.clear()
    monkeypatch.setattr(thumbnails, "RECIPE", "jpeg 480px q85")
    build_incident_package(incident, personas.manager_ab, recipient="Police", reason="r")
    assert len(made) == 1
    assert AttachmentThumbnail.objects.count() == 1  # nothing recorded over it
    assert verify_audit().intact


# --- purge, and tampering --------------------------------------------------------------------


def _purge():
    with TestCase.captureOnCommitCallbacks(execute=True):
        return purge_expired(system_actor(), apply=True)


@pytest.mark.django_db
def test_a_purge_takes_the_thumbnails_with_their_photos_and_the_ledger_verifies(
    personas, monkeypatch
):
    kept = _with_photos(personas, count=1)
    # One photo's thumbnail made at upload; an older photo's recorded at its first export.
    old = closed_incident(personas, days_ago=8 * 365, title="Old theft")
    with monkeypatch.context() as before:
        before.setattr(thumbnails, "of_upload", lambda upload, file_type: None)
        older = closed_incident(personas, days_ago=9 * 365, title="Older theft")
    assert not AttachmentThumbnail.objects.filter(attachment__incident=older).exists()
    build_incident_package(older, personas.manager_ab, recipient="Police", reason="r")
    gone = set(
        AttachmentThumbnail.objects.filter(attachment__incident__in=[old, older]).values_list(
            "pk", flat=True
        )
    )
    assert len(gone) == 2
    assert verify_audit().intact

    _purge()
    assert not Attachment.objects.filter(incident__in=[old, older]).exists()
    assert not AttachmentThumbnail.objects.filter(pk__in=gone).exists()
    tombstones = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.TOMBSTONE, object_type=object_type(AttachmentThumbnail)
    )
    assert set(tombstones.values_list("object_pk", flat=True)) == {str(pk) for pk in gone}
    assert AttachmentThumbnail.objects.filter(attachment__incident=kept).count() == 1
    assert verify_audit().intact


def _tamper_bytes(row: AttachmentThumbnail, data: bytes) -> None:
    """Behind the application, as someone with database access would."""
    table = connection.ops.quote_name(AttachmentThumbnail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET jpeg = %s WHERE id = %s", [data, row.pk])  # noqa: S608


@pytest.mark.django_db
def test_an_altered_thumbnail_is_named_by_verify_audit_and_never_reaches_the_report(
    personas, decoded, caplog
):
    incident = _with_photos(personas, count=2)
    target = incident.attachments.first()
    row = AttachmentThumbnail.objects.get(attachment=target)
    forged = _photo_bytes("JPEG", 99, size=(360, 270))
    _tamper_bytes(row, forged)

    result = verify_audit()
    assert not result.intact
    assert [p.object for p in result.problems] == [f"attachment thumbnail #{row.pk}"]

    made, _opened = decoded
    made.clear()
    with caplog.at_level(logging.WARNING, logger="facility_log.services.thumbnails"):
        html = _html(incident, personas.manager_ab, None)
    assert thumbnails.data_uri(forged) not in html
    assert _thumbnail_as_before(target) in html  # made from the original instead
    assert len(made) == 1  # only the altered one; the other stored thumbnail is used
    assert f"attachment thumbnail {row.pk} differs from its ledger entry" in caplog.text

    # The export goes on the same way and records nothing over the altered row.
    build_incident_package(incident, personas.manager_ab, recipient="Police", reason="r")
    assert bytes(AttachmentThumbnail.objects.get(pk=row.pk).jpeg) == forged
    assert AttachmentThumbnail.objects.count() == 2


@pytest.mark.django_db
def test_a_thumbnail_inserted_without_its_entry_is_named_and_not_used(
    personas, as_before_thumbnails, caplog
):
    incident = _with_photos(personas, count=1)
    target = incident.attachments.get()
    forged = _photo_bytes("JPEG", 98, size=(360, 270))
    table = connection.ops.quote_name(AttachmentThumbnail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (attachment_id, jpeg, recipe, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            [target.pk, forged, thumbnails.RECIPE, timezone.now()],
        )
    row = AttachmentThumbnail.objects.get()
    assert [p.object for p in verify_audit().problems] == [f"attachment thumbnail {row.pk}"]
    html = _html(incident, personas.manager_ab, None)
    assert thumbnails.data_uri(forged) not in html
    assert _thumbnail_as_before(target) in html


@pytest.mark.django_db
def test_thumbnails_are_append_only(personas):
    from facility_log.models.base import HistoryBypassError

    attachment = svc.add_attachment(draft(personas), personas.guard_a, upload=_upload("PNG", 40))
    row = AttachmentThumbnail.objects.get(attachment=attachment)
    row.jpeg = b"x"
    with pytest.raises(HistoryBypassError):
        row.save()
    with pytest.raises(HistoryBypassError):
        AttachmentThumbnail.objects.filter(pk=row.pk).update(jpeg=b"x")
    with pytest.raises(HistoryBypassError):
        row.delete()
