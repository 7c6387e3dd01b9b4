"""report.pdf: the incident as a police officer reads it in two minutes.

PDF/A-3b (archival) with incident.json embedded; facility and incident number on every page,
page x of y, times in the site's zone with the UTC offset.
"""

import base64
import io
import json

from django.template.loader import render_to_string
from PIL import Image, UnidentifiedImageError

from facility_log.services import procedures
from facility_log.services.incident_bundle import IncidentBundle, attachment_member
from facility_log.services.incidents import incident_timeline
from facility_log.services.links import incident_surroundings
from facility_log.services.pdf_render import pdf_attachment, render_pdf

THUMBNAIL_PX = 360


def thumbnail_data_uri(attachment) -> str | None:
    """A small JPEG of an image attachment, inlined (no file or network access at render)."""
    if not attachment.content_type.startswith("image/"):
        return None
    try:
        with attachment.file.open("rb") as handle, Image.open(handle) as image:
            # A JPEG is decoded straight at 1/2, 1/4 or 1/8 of its size (its "draft"), no larger
            # than the thumbnail needs: a 12-megapixel photo costs a fraction of a full decode.
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), reducing_gap=1.0)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=80)
    except (OSError, UnidentifiedImageError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def report_html(
    bundle: IncidentBundle, document, entries, head, exported_at, actor, recipient, case_number=""
):
    """The report as HTML, thumbnails inlined: everything WeasyPrint needs, nothing to fetch.
    `case_number` is the recipient's own reference, typed at export (shown in the first table
    beside the police reference the facility recorded)."""
    incident = bundle.incident
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
                {"a": a, "member": attachment_member(a), "thumb": thumbnail_data_uri(a)}
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
    bundle: IncidentBundle, document, entries, head, exported_at, actor, recipient, case_number=""
) -> bytes:
    """report.pdf: PDF/A-3b with incident.json embedded."""
    html = report_html(bundle, document, entries, head, exported_at, actor, recipient, case_number)
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
