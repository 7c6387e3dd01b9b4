"""report.pdf: the incident as a police officer reads it in two minutes.

PDF/A-3b (archival) with incident.json embedded; facility and incident number on every page,
page x of y, times in the site's zone with the UTC offset.
"""

import json

from django.template.loader import render_to_string

from facility_log.services import procedures, thumbnails
from facility_log.services.incident_bundle import IncidentBundle, attachment_member
from facility_log.services.incidents import incident_timeline
from facility_log.services.links import incident_surroundings
from facility_log.services.pdf_render import pdf_attachment, render_pdf


def report_html(
    bundle: IncidentBundle,
    document,
    entries,
    head,
    exported_at,
    actor,
    recipient,
    case_number="",
    thumbnail_bytes: dict[int, bytes | None] | None = None,
):
    """The report as HTML, thumbnails inlined: everything WeasyPrint needs, nothing to fetch.
    `case_number` is the recipient's own reference, typed at export (shown in the first table
    beside the police reference the facility recorded). `thumbnail_bytes`: each image
    attachment's thumbnail by id, as `thumbnails.for_export` gives them; without it, the
    stored ones are used and the others made (nothing is recorded)."""
    incident = bundle.incident
    if thumbnail_bytes is None:
        thumbnail_bytes = thumbnails.for_export(bundle.attachments)
    return render_to_string(
        "facility_log/incidents/report_pdf.html",
        {
            "incident": incident,
            "site": incident.site,
            "doc": document,
            "persons": zip(bundle.persons, document["persons"], strict=True),
            "vehicles": bundle.vehicles,
            "property_items": bundle.property_items,
            "attachments": [
                {
                    "a": a,
                    "member": attachment_member(a),
                    "thumb": thumbnails.data_uri(thumbnail_bytes.get(a.pk)),
                }
                for a in bundle.attachments
            ],
            "supplements": bundle.supplements,
            "reviews": bundle.reviews,
            "procedure": procedures.incident_procedure_record(incident),
            "timeline": incident_timeline(incident),
            "surroundings": incident_surroundings(incident),
            "entries": entries,
            "head": head,
            "exported_at": exported_at,
            "actor": actor,
            "recipient": recipient,
            "case_number": case_number,
        },
    )


def render_incident_pdf(
    bundle: IncidentBundle,
    document,
    entries,
    head,
    exported_at,
    actor,
    recipient,
    case_number="",
    thumbnail_bytes: dict[int, bytes | None] | None = None,
) -> bytes:
    """report.pdf: PDF/A-3b with incident.json embedded."""
    html = report_html(
        bundle, document, entries, head, exported_at, actor, recipient, case_number, thumbnail_bytes
    )
    return html_to_pdf(html, document, bundle.incident.number, bundle.attachments)


def html_to_pdf(html: str, document: dict, number: str, attachments=()) -> bytes:
    """WeasyPrint's part alone (the bench measures it bare beside the whole package), through
    the one renderer that opens only the app's static files and this incident's attachments."""
    embedded = pdf_attachment(
        string=json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False),
        name="incident.json",
        description="The incident in machine-readable form (schema facility_log.incident/1)",
        relationship="Data",
    )
    return render_pdf(
        html,
        record_attachments=attachments,
        pdf_variant="pdf/a-3b",
        attachments=[embedded],
        pdf_identifier=number.encode(),
    )
