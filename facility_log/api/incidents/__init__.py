"""Incidents over the API: the same operations as the pages, through the same services.

Creation is idempotent on `client_uuid` (same payload → the stored incident, 200; different
payload → 422). Draft edits carry the `version` they were made on (stale → 409 with the
stored version). After submission the incident is not edited in place: corrections,
supplements and attachments have their own endpoints.

`serializers` holds the bodies and the documented conflict responses; `views` the two
viewsets; the incident viewset's actions live in `workflow` (submit, return, approve, close,
void, correct) and `additions` (supplements, attachments, persons, vehicles, property).
Everything is re-exported here, so api/urls.py and api/alarms.py keep importing
`facility_log.api.incidents`.
"""

from facility_log.api.incidents.serializers import (
    CONFLICT,
    REQUIRED,
    REQUIRED_NOTE,
    STATE_CONFLICT,
    SUBMIT_REFUSED,
    WRITABLE,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CommentSerializer,
    CorrectionSerializer,
    FieldValue,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentFilterSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
    IncidentWriteSerializer,
    PersonSerializer,
    PropertyItemSerializer,
    ReasonSerializer,
    SupplementSerializer,
    VehicleSerializer,
    VersionReasonSerializer,
)
from facility_log.api.incidents.views import AttachmentViewSet, IncidentViewSet

__all__ = [
    "AttachmentSerializer",
    "AttachmentUploadSerializer",
    "AttachmentViewSet",
    "CONFLICT",
    "CommentSerializer",
    "CorrectionSerializer",
    "FieldValue",
    "IncidentCreateSerializer",
    "IncidentDetailSerializer",
    "IncidentFilterSerializer",
    "IncidentSerializer",
    "IncidentUpdateSerializer",
    "IncidentViewSet",
    "IncidentWriteSerializer",
    "PersonSerializer",
    "PropertyItemSerializer",
    "REQUIRED",
    "REQUIRED_NOTE",
    "ReasonSerializer",
    "STATE_CONFLICT",
    "SUBMIT_REFUSED",
    "SupplementSerializer",
    "VehicleSerializer",
    "VersionReasonSerializer",
    "WRITABLE",
]
