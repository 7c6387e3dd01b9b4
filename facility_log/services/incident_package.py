"""The police package for one incident: report.pdf, incident.json, attachments/,
history.json, custody.json, HOW-TO-VERIFY.txt, manifest.json and SHA256SUMS.

Only supervisors and managers of the incident's site may export; every export is recorded in
the disclosure log (who, to whom, why, what was left out, the package's SHA-256).
"""

import io
import json
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from facility_log.models import Disclosure, LedgerEntry
from facility_log.models.incidents import (
    Attachment,
    Incident,
    InvolvedPerson,
    PropertyItem,
    Review,
    Supplement,
    Vehicle,
)
from facility_log.scoping import REVIEW_ROLES, require_role
from facility_log.services import disclosures, thumbnails, view_log
from facility_log.services.filetypes import COMPRESSED_TYPES
from facility_log.services.incident_bundle import (
    IncidentBundle,
    attachment_member,
    iso,
    load_bundle,
    who,
)
from facility_log.services.ledger import canonical_json, entry_document, ledger_head, sha256_hex
from facility_log.services.packages import (
    PackageFile,
    PackageWriter,
    file_sha256,
    json_file,
    verify_package,
)
from facility_log.services.pdf_report import render_incident_pdf

SCHEMA_ID = "facility_log.incident/1"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "incident-1.schema.json"
REDACT_PERSON_DETAILS = "contact details and statements of named persons"
REDACTED_PERSON_FIELDS = ("contact", "statement")


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def _person_document(person: InvolvedPerson, redact: bool) -> dict:
    named = bool(person.name.strip())
    return {
        "role": person.role,
        "name": person.name,
        "description": person.description,
        "contact": None if (redact and named) else person.contact,
        "statement": None if (redact and named) else person.statement,
    }


def incident_document(bundle: IncidentBundle, redactions: list[str]) -> dict:
    """incident.json: the record itself, in the shipped schema (`facility_log.incident/1`)."""
    i = bundle.incident
    redact = REDACT_PERSON_DETAILS in redactions
    has_threat = bool(i.threat_channel or i.threat_words or i.threat_target)
    return {
        "schema": SCHEMA_ID,
        "number": i.number,
        "title": i.title,
        "site": {
            "code": i.site.code,
            "name": i.site.name,
            "time_zone": i.site.time_zone,
            "address": i.site.address,
        },
        "zone": i.zone.name if i.zone else None,
        "location_text": i.location_text,
        "status": i.status,
        "void_reason": i.void_reason,
        "category": i.category.name if i.category else "",
        "severity": i.severity,
        "occurred_from": iso(i.occurred_from),
        "occurred_to": iso(i.occurred_to),
        "discovered_at": iso(i.discovered_at),
        "reported_at": iso(i.reported_at),
        "submitted_at": iso(i.submitted_at),
        "narrative": i.narrative,
        "actions_taken": i.actions_taken,
        "police": {
            "notified": i.police_notified,
            "agency": i.police_agency,
            "case_number": i.police_case_number,
            "officer": i.police_officer,
            "notified_at": iso(i.police_notified_at),
        },
        "threat": {"channel": i.threat_channel, "words": i.threat_words, "target": i.threat_target}
        if has_threat
        else None,
        "author": who(i.author),
        "persons": [_person_document(p, redact) for p in bundle.persons],
        "vehicles": [
            {
                "registration": v.registration,
                "make_model": v.make_model,
                "colour": v.colour,
                "description": v.description,
            }
            for v in bundle.vehicles
        ],
        "property": [
            {
                "kind": p.kind,
                "description": p.description,
                "value": f"{p.value:.2f}" if p.value is not None else None,
            }
            for p in bundle.property_items
        ],
        "attachments": [_attachment_document(a) for a in bundle.attachments],
        "supplements": [
            {
                "author": who(s.author),
                "created_at": iso(s.created_at),
                "text": s.text,
                "reason": s.reason,
            }
            for s in bundle.supplements
        ],
        "reviews": [
            {
                "reviewer": who(r.reviewer),
                "decision": r.decision,
                "comment": r.comment,
                "created_at": iso(r.created_at),
            }
            for r in bundle.reviews
        ],
        "redactions": redactions,
    }


def _attachment_document(a: Attachment) -> dict:
    return {
        "file": attachment_member(a),
        "original_name": a.original_name,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "description": a.description,
        "uploaded_by": who(a.uploaded_by),
        "uploaded_at": iso(a.uploaded_at),
        "redacted_from": attachment_member(a.redacted_from) if a.redacted_from_id else None,
    }


def _history_querysets(bundle: IncidentBundle) -> list:
    incident = bundle.incident
    return [
        ("incident", Incident.history.filter(id=incident.pk)),
        ("person", InvolvedPerson.history.filter(incident_id=incident.pk)),
        ("vehicle", Vehicle.history.filter(incident_id=incident.pk)),
        ("property", PropertyItem.history.filter(incident_id=incident.pk)),
    ]


def _append_only_querysets(bundle: IncidentBundle) -> list:
    incident = bundle.incident
    return [
        ("supplement", Supplement.objects.filter(incident=incident)),
        ("review", Review.objects.filter(incident=incident)),
        ("attachment", Attachment.objects.filter(incident=incident)),
    ]


def history_document(bundle: IncidentBundle, redactions: list[str]) -> tuple[dict, list]:
    """history.json: every version of the incident and its parts, and every supplement,
    review and attachment record, each with the ledger entry that chained it. Returns the
    document and the ledger entries (for the manifest)."""
    redact = REDACT_PERSON_DETAILS in redactions
    collected = []  # (kind, model, row dict)
    for kind, queryset in _history_querysets(bundle):
        collected += [
            (kind, queryset.model, row) for row in queryset.order_by("history_id").values()
        ]
    for kind, queryset in _append_only_querysets(bundle):
        collected += [(kind, queryset.model, row) for row in queryset.order_by("pk").values()]
    entries = _ledger_entries(collected)
    rows = [_history_row(kind, model, row, entries, redact) for kind, model, row in collected]
    rows.sort(key=lambda r: r["ledger_seq"] or 0)
    return {"incident": bundle.incident.number, "rows": rows}, sorted(
        entries.values(), key=lambda e: e.seq
    )


def _pk_of(model, row) -> str:
    return str(row[model._meta.pk.attname])


def _ledger_entries(collected) -> dict:
    wanted: dict[str, set] = {}
    for _kind, model, row in collected:
        wanted.setdefault(model._meta.label_lower, set()).add(_pk_of(model, row))
    entries = {}
    for object_type, pks in wanted.items():
        for entry in LedgerEntry.objects.filter(object_type=object_type, object_pk__in=pks):
            entries[(object_type, entry.object_pk)] = entry
    return entries


def _history_row(kind, model, row, entries, redact: bool) -> dict:
    entry = entries.get((model._meta.label_lower, _pk_of(model, row)))
    stored = json.loads(canonical_json(row))
    document = {
        "record": f"{kind} #{row.get('id')}",
        "kind": kind,
        "when": stored.get("history_date") or stored.get("created_at") or stored.get("uploaded_at"),
        "who": stored.get("history_user_name", ""),
        "why": stored.get("history_change_reason", ""),
        "change": {"+": "created", "~": "changed", "-": "deleted"}.get(
            row.get("history_type"), "recorded"
        ),
        "ledger_seq": entry.seq if entry else None,
    }
    named = bool((row.get("name") or "").strip())
    if redact and kind == "person" and named:
        # The content is withheld; its digest still proves the row is the one the ledger holds.
        document["stored_sha256"] = sha256_hex(canonical_json(row))
        document["redacted"] = list(REDACTED_PERSON_FIELDS)
    else:
        document["stored"] = stored
    return document


def custody_document(
    bundle: IncidentBundle, actor, recipient, case_number, reason, redactions, exported_at
) -> dict:
    """custody.json: who held and handled the evidence, from creation to this export."""
    i = bundle.incident
    chain = [{"event": "reported", "by": who(i.author), "at": iso(i.created_at)}]
    if i.submitted_at:
        chain.append({"event": "submitted", "by": who(i.author), "at": iso(i.submitted_at)})
    chain += [
        {
            "event": "attachment received",
            "by": who(a.uploaded_by),
            "at": iso(a.uploaded_at),
            "file": attachment_member(a),
            "sha256": a.sha256,
        }
        for a in bundle.attachments
    ]
    chain += [
        {"event": f"review: {r.decision}", "by": who(r.reviewer), "at": iso(r.created_at)}
        for r in bundle.reviews
    ]
    chain.append(
        {
            "event": "exported",
            "by": who(actor),
            "at": iso(exported_at),
            "to": recipient,
            "case_number": case_number,
            "reason": reason,
        }
    )
    return {"incident": i.number, "site": i.site.code, "chain": chain, "redactions": redactions}


HOW_TO_VERIFY = """\
How to verify this package ({number})
=====================================

1. Every file is listed in SHA256SUMS with its SHA-256. On any Linux or macOS machine:

       sha256sum -c SHA256SUMS        (macOS: shasum -a 256 -c SHA256SUMS)

   Every line must say OK. A single changed byte in any file makes its line FAILED.

2. manifest.json holds the facility's audit-ledger entries for this incident and the ledger
   head at export time ({head}). Each entry's "hash" is SHA-256 over the previous entry's
   hash followed by the entry's content (canonical JSON: sorted keys, no spaces). Each row in
   history.json carries the "ledger_seq" of its entry, and the SHA-256 of its "stored" values
   (canonical JSON) equals that entry's "digest".

3. With facility_log installed: `manage.py verify_package {number}.zip` runs all checks;
   on the facility's server `manage.py verify_audit --expect-head {head}` proves the record has
   not changed since this export.

report.pdf is PDF/A-3b and carries incident.json embedded.
"""


def build_incident_package(
    incident: Incident,
    actor: AbstractBaseUser,
    *,
    recipient: str,
    reason: str,
    case_number: str = "",
    redact: bool = False,
) -> tuple[bytes, Disclosure]:
    """The package in memory, with its disclosure: for tests and small exports only, as it
    holds every attachment at once. Downloads and `export_incident` write to a file with
    `write_incident_package`."""
    buffer = io.BytesIO()
    disclosure = write_incident_package(
        incident,
        actor,
        buffer,
        recipient=recipient,
        reason=reason,
        case_number=case_number,
        redact=redact,
    )
    return buffer.getvalue(), disclosure


def write_incident_package(
    incident: Incident,
    actor: AbstractBaseUser,
    destination: BinaryIO,
    *,
    recipient: str,
    reason: str,
    case_number: str = "",
    redact: bool = False,
) -> Disclosure:
    """Write the zip into `destination` (an empty, seekable binary file, left open), then
    record the disclosure with the zip's SHA-256 and the read (view log). Supervisors and
    managers of the site only.

    Memory stays flat with the attachments' size: each is copied from storage in chunks and
    hashed on the way; only the PDF and the JSON files are made in memory."""
    require_role(actor, incident.site, REVIEW_ROLES)
    if not incident.number:
        raise ValidationError({"incident": "A draft has no number yet; submit it first."})
    if not recipient.strip() or not reason.strip():
        disclosures.record_disclosure(
            actor,
            incident,
            site=incident.site,
            label=incident.number,
            recipient=recipient,
            reason=reason,
        )  # raises, naming both
    bundle = load_bundle(incident)
    # Stored at upload, checked against their ledger entries; any missing is made now and
    # recorded (before the head is read, so the manifest's head covers it).
    thumbnail_bytes = thumbnails.for_export(bundle.attachments, actor)
    redactions = [REDACT_PERSON_DETAILS] if redact else []
    exported_at = timezone.now()
    document = incident_document(bundle, redactions)
    history, entries = history_document(bundle, redactions)
    seq, head = ledger_head()
    writer = PackageWriter(destination, exported_at)
    pdf = render_incident_pdf(
        bundle,
        document,
        entries,
        (seq, head),
        exported_at,
        actor,
        recipient,
        case_number,
        thumbnail_bytes,
    )
    writer.add(PackageFile("report.pdf", pdf))
    writer.add(json_file("incident.json", document))
    for attachment in bundle.attachments:
        _add_attachment(writer, attachment)
    writer.add(json_file("history.json", history))
    custody = custody_document(
        bundle, actor, recipient, case_number, reason, redactions, exported_at
    )
    writer.add(json_file("custody.json", custody))
    how_to = HOW_TO_VERIFY.format(number=incident.number, head=f"{seq}:{head}")
    writer.add(PackageFile("HOW-TO-VERIFY.txt", how_to.encode()))
    writer.finish(
        {
            "schema": "facility_log.package/1",
            "incident": incident.number,
            "generated_at": iso(exported_at),
            "generator": f"facility_log {settings.FACILITY_LOG.get('VERSION', '0.1.0')}",
            "redactions": redactions,
            "ledger": {
                "head": {"seq": seq, "hash": head},
                "entries": [entry_document(e) for e in entries],
            },
        }
    )
    disclosure = disclosures.record_disclosure(
        actor,
        incident,
        site=incident.site,
        label=incident.number,
        recipient=recipient,
        reason=reason,
        case_number=case_number,
        redactions=redactions,
        # One streamed pass over the finished zip: the bytes handed over, not a rebuild.
        package_sha256=file_sha256(destination),
    )
    # The exporter read everything in the package: the view log says so too (the page and
    # `export_incident` both come through here).
    view_log.incident_read(actor, incident, view_log.Via.POLICE_EXPORT)
    destination.seek(0)
    return disclosure


def _add_attachment(writer: PackageWriter, attachment: Attachment) -> None:
    """The original bytes, streamed from a fresh handle of the storage (not the model's
    FieldFile, which keeps its file and reopens it by path)."""
    storage, name = attachment.file.storage, attachment.file.name
    compress = attachment.content_type not in COMPRESSED_TYPES
    with storage.open(name, "rb") as handle:
        member = attachment_member(attachment)
        digest = writer.add_stream(member, handle, storage.size(name), compress=compress)
    # A court gets the file the facility received or no package: a file changed in storage
    # since its upload stops the export here, before any disclosure is recorded.
    if digest != attachment.sha256:
        writer.abandon()
        raise ValidationError(
            {
                "attachments": f"{attachment.original_name} no longer matches the SHA-256"
                " recorded when it was uploaded, so no package was made. Run verify_audit and"
                " tell the administrator."
            }
        )


def verify_incident_package(path: Path) -> list[str]:
    return verify_package(path, schema=load_schema(), document_name="incident.json")
