"""The police package: complete, verifiable with sha256sum alone, schema-valid, readable PDF,
recorded as a disclosure, redaction that still verifies, constant queries per incident."""

import io
import json
import shutil
import subprocess
import zipfile
from io import StringIO

import jsonschema
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facility_log.models import Disclosure
from facility_log.services import incidents as svc
from facility_log.services.incident_package import (
    build_incident_package,
    load_schema,
    verify_incident_package,
)
from facility_log.services.ledger import ledger_head
from facility_log.services.verify import verify_audit
from tests.incident_factories import png_bytes, seed_site_a_incident

EXPECTED = {
    "report.pdf",
    "incident.json",
    "history.json",
    "custody.json",
    "manifest.json",
    "SHA256SUMS",
    "HOW-TO-VERIFY.txt",
}


def _export(p, incident=None, **kwargs):
    incident = incident or seed_site_a_incident(p)
    kwargs.setdefault("recipient", "City Police")
    kwargs.setdefault("reason", "theft investigation")
    data, disclosure = build_incident_package(incident, p.supervisor_a, **kwargs)
    return incident, data, disclosure


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.django_db
def test_package_holds_every_file_and_the_original_attachment_bytes(personas):
    incident, data, _ = _export(personas)
    members = _members(data)
    attachment = incident.attachments.get()
    originals = [n for n in members if n.startswith("attachments/")]
    assert set(members) - set(originals) == EXPECTED
    with attachment.file.open("rb") as handle:
        assert members[originals[0]] == handle.read()


@pytest.mark.django_db
def test_incident_json_validates_against_the_shipped_schema(personas):
    _incident, data, _ = _export(personas)
    document = json.loads(_members(data)["incident.json"])
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert document["schema"] == "facility_log.incident/1"
    assert document["persons"][0]["statement"] == "Saw a man leave."


@pytest.mark.django_db
@pytest.mark.skipif(not shutil.which("sha256sum"), reason="coreutils sha256sum not installed")
def test_sha256sum_checks_the_package_and_one_changed_byte_fails(personas, tmp_path):
    _incident, data, _ = _export(personas)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path).returncode == 0
    target = tmp_path / "incident.json"
    target.write_bytes(target.read_bytes().replace(b"laptop", b"laptoq", 1))
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert result.returncode != 0
    assert b"incident.json: FAILED" in result.stdout


@pytest.mark.django_db
def test_verify_package_passes_and_then_names_the_changed_file(personas, tmp_path):
    incident, data, _ = _export(personas)
    path = tmp_path / f"{incident.number}.zip"
    path.write_bytes(data)
    out = StringIO()
    call_command("verify_package", str(path), stdout=out)
    assert "package intact" in out.getvalue()
    members = _members(data)
    members["report.pdf"] = members["report.pdf"][:-1] + b"!"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CommandError, match="report.pdf: SHA-256 does not match"):
        call_command("verify_package", str(path), stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_manifest_carries_the_ledger_head_and_this_incidents_entries(personas):
    _incident, data, _ = _export(personas)
    manifest = json.loads(_members(data)["manifest.json"])
    history = json.loads(_members(data)["history.json"])
    seqs = {e["seq"] for e in manifest["ledger"]["entries"]}
    assert {row["ledger_seq"] for row in history["rows"]} == seqs
    assert manifest["ledger"]["head"]["seq"] >= max(seqs)
    kinds = {row["kind"] for row in history["rows"]}
    assert {"incident", "person", "supplement", "attachment"} <= kinds
    # …and the record has not changed since: the head exported still verifies on the server.
    head = manifest["ledger"]["head"]
    assert verify_audit(expect_head=(head["seq"], head["hash"])).intact


@pytest.mark.django_db
def test_every_export_is_in_the_disclosure_log_and_the_ledger(personas):
    incident, data, disclosure = _export(personas, case_number="2026/4711")
    assert Disclosure.objects.get() == disclosure
    assert (disclosure.recipient, disclosure.case_number, disclosure.disclosed_by_name) == (
        "City Police",
        "2026/4711",
        "supervisor_a",
    )
    import hashlib

    assert disclosure.package_sha256 == hashlib.sha256(data).hexdigest()
    assert ledger_head()[0] > json.loads(_members(data)["manifest.json"])["ledger"]["head"]["seq"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["guard_a", "auditor_a", "outsider_c"])
def test_only_supervisors_and_managers_of_the_site_export(personas, who):
    incident = seed_site_a_incident(personas)
    with pytest.raises(PermissionDenied):
        build_incident_package(incident, personas.all_people()[who], recipient="x", reason="y")
    assert Disclosure.objects.count() == 0


@pytest.mark.django_db
def test_redaction_leaves_out_contact_and_statement_and_still_verifies(personas, tmp_path):
    incident, data, disclosure = _export(personas, redact=True)
    members = _members(data)
    document = json.loads(members["incident.json"])
    assert document["persons"][0]["statement"] is None
    assert document["redactions"] == ["contact details and statements of named persons"]
    assert b"Saw a man leave." not in b"".join(members.values())
    assert disclosure.redactions == document["redactions"]
    path = tmp_path / "r.zip"
    path.write_bytes(data)
    assert verify_incident_package(path) == []


@pytest.mark.django_db
@pytest.mark.skipif(
    not (shutil.which("qpdf") and shutil.which("pdftotext")),
    reason="qpdf and poppler-utils (pdftotext) are not installed",
)
def test_report_pdf_is_valid_and_names_number_narrative_and_hashes(personas, tmp_path):
    incident, data, _ = _export(personas, case_number="2026/4711")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_members(data)["report.pdf"])
    check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert incident.number in text
    assert "A laptop was taken from the lobby desk." in text
    for attachment in incident.attachments.all():
        assert f"SHA-256 {attachment.sha256}" in text
    assert "Page 1 of" in text
    # The recipient's case number typed at export is in the first table, before the narrative.
    assert 0 < text.index("2026/4711 (City Police)") < text.index("What happened")
    detached = subprocess.run(["pdfdetach", "-list", str(pdf)], capture_output=True, text=True)
    assert "incident.json" in detached.stdout


@pytest.mark.django_db
def test_export_command_writes_number_zip_and_prints_its_path(personas, tmp_path):
    incident = seed_site_a_incident(personas)
    out = StringIO()
    call_command(
        "export_incident",
        incident.number,
        "--recipient",
        "City Police",
        "--reason",
        "court",
        f"--out={tmp_path}",
        stdout=out,
    )
    path = tmp_path / f"{incident.number}-disclosure-{Disclosure.objects.get().pk}.zip"
    assert out.getvalue().strip() == str(path)
    assert verify_incident_package(path) == []
    with pytest.raises(CommandError, match="No incident numbered 'XX-2026-9999'"):
        call_command(
            "export_incident",
            "XX-2026-9999",
            "--recipient",
            "a",
            "--reason",
            "b",
            stdout=StringIO(),
        )


@pytest.mark.django_db
def test_a_draft_cannot_be_exported(personas):
    from tests.incident_factories import draft

    with pytest.raises(Exception, match="submit it first"):
        build_incident_package(draft(personas), personas.supervisor_a, recipient="a", reason="b")


def _export_queries(p, incident) -> int:
    with CaptureQueriesContext(connection) as captured:
        build_incident_package(incident, p.manager_ab, recipient="Police", reason="r")
    return len(captured)


@pytest.mark.django_db
def test_export_queries_do_not_grow_with_photos_or_supplements(personas):
    small = seed_site_a_incident(personas)
    baseline = _export_queries(personas, small)
    big = _incident_with(personas, photos=5, supplements=4)
    assert big.attachments.count() == 5
    assert _export_queries(personas, big) == baseline


@pytest.mark.django_db
def test_first_export_of_older_photos_records_their_thumbnails_in_constant_queries(
    personas, monkeypatch
):
    from facility_log.models import AttachmentThumbnail
    from facility_log.services import thumbnails

    # Photos stored before thumbnails were kept: the first export makes and records them.
    with monkeypatch.context() as before:
        before.setattr(thumbnails, "of_upload", lambda upload, file_type: None)
        one = _incident_with(personas, photos=1, supplements=0)
        five = _incident_with(personas, photos=5, supplements=0)
    assert not AttachmentThumbnail.objects.exists()
    assert _export_queries(personas, one) == _export_queries(personas, five)
    assert AttachmentThumbnail.objects.count() == 6
    assert verify_audit().intact


def _incident_with(p, photos: int, supplements: int):
    import uuid

    from tests.incident_factories import category

    incident, _ = svc.create_incident(
        p.guard_a,
        site=p.site_a,
        client_uuid=uuid.uuid4(),
        category=category("Theft"),
        zone=p.zone_a,
        narrative="Many photos.",
        persons=[{"role": "witness", "name": "W", "statement": "s"}],
    )
    for n in range(photos):
        # Each photo different (an incident holds the same bytes once).
        upload = SimpleUploadedFile(f"p{n}.png", png_bytes(colour=(n, 30, 30)), "image/png")
        svc.add_attachment(incident, p.guard_a, upload=upload, description=str(n))
    incident = svc.submit_incident(incident, p.guard_a)
    for n in range(supplements):
        svc.add_supplement(incident, p.guard_a, text=f"more {n}", reason="more")
    return incident


@pytest.mark.django_db
def test_verify_audit_names_an_attachment_whose_bytes_changed_on_disk(personas):
    incident = seed_site_a_incident(personas)
    assert verify_audit().intact
    attachment = incident.attachments.get()
    path = attachment.file.path
    with open(path, "r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 1]))
    with pytest.raises(CommandError, match=rf"attachment {attachment.pk} \(desk.png\).*no longer"):
        call_command("verify_audit", stdout=StringIO())


def _change_stored_file(attachment) -> None:
    """What a storage-side tamper looks like: the same name, other bytes."""
    with attachment.file.storage.open(attachment.file.name, "rb") as handle:
        data = handle.read()
    path = attachment.file.path
    with open(path, "wb") as handle:
        handle.write(data[:-1] + bytes([data[-1] ^ 1]))


@pytest.mark.django_db
def test_an_attachment_changed_in_storage_stops_the_export_and_nothing_is_disclosed(
    personas, tmp_path
):
    from facility_log.models import RecordView

    incident = seed_site_a_incident(personas)
    attachment = incident.attachments.get()
    _change_stored_file(attachment)
    views_before = RecordView.objects.count()
    with pytest.raises(ValidationError) as refused:
        _export(personas, incident)
    assert "desk.png no longer matches the SHA-256 recorded" in " ".join(refused.value.messages)
    assert not Disclosure.objects.exists()
    assert RecordView.objects.count() == views_before
    # The command says the same, and writes no file.
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CommandError, match="desk.png no longer matches"):
        call_command(
            "export_incident",
            incident.number,
            "--by",
            personas.supervisor_a.username,
            "--recipient",
            "City Police",
            "--reason",
            "theft",
            "--out",
            str(out),
        )
    assert list(out.iterdir()) == []
    assert not Disclosure.objects.exists()


@pytest.mark.django_db
def test_the_unchanged_file_exports_after_a_refused_one_is_restored(personas):
    """The legitimate path after the attack path: the file put back, the package is made and
    the ledger verifies."""
    incident = seed_site_a_incident(personas)
    attachment = incident.attachments.get()
    with attachment.file.storage.open(attachment.file.name, "rb") as handle:
        original = handle.read()
    _change_stored_file(attachment)
    with pytest.raises(ValidationError):
        _export(personas, incident)
    with open(attachment.file.path, "wb") as handle:
        handle.write(original)
    _incident, data, disclosure = _export(personas, incident)
    assert disclosure.package_sha256 and _members(data)
    assert verify_audit().intact
