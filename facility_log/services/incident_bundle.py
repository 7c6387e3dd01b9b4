"""An incident with everything its police package and its report read, loaded once.

Shared by the package (`services/incident_package.py`) and its PDF
(`services/pdf_report.py`), so that neither imports the other.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from facility_log.models.incidents import Attachment, Incident


def iso(value: datetime | None) -> str | None:
    """UTC, ISO 8601 with a Z: how every time in the package is written."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def who(user) -> dict:
    """A person as the package names them (the username and the full name at export)."""
    return {"username": user.get_username(), "name": user.get_full_name()}


def attachment_member(attachment: Attachment) -> str:
    """The attachment's path inside the package; the report and the manifest both name it."""
    return f"attachments/{attachment.pk:05d}-{Path(attachment.file.name).name}"


@dataclass
class IncidentBundle:
    """An incident with everything the package needs, loaded in a fixed number of queries."""

    incident: Incident
    persons: list
    vehicles: list
    property_items: list
    attachments: list
    supplements: list
    reviews: list


def load_bundle(incident: Incident) -> IncidentBundle:
    """The incident and its parts in seven queries, whatever their number."""
    incident = (
        Incident.objects.select_related("site", "zone", "category", "author")
        .prefetch_related(
            "persons",
            "vehicles",
            "property_items",
            "attachments__uploaded_by",
            "supplements__author",
            "reviews__reviewer",
        )
        .get(pk=incident.pk)
    )
    return IncidentBundle(
        incident,
        list(incident.persons.all()),
        list(incident.vehicles.all()),
        list(incident.property_items.all()),
        list(incident.attachments.all()),
        list(incident.supplements.all()),
        list(incident.reviews.all()),
    )
