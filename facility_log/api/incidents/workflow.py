"""The workflow actions of the incident API: submit, return, approve, close, void, and
correct one field after submission."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action

from facility_log.api.errors import Unprocessable
from facility_log.api.incidents.serializers import (
    CONFLICT,
    REQUIRED,
    REQUIRED_NOTE,
    STATE_CONFLICT,
    SUBMIT_REFUSED,
    CommentSerializer,
    CorrectionSerializer,
    IncidentDetailSerializer,
    IncidentWriteSerializer,
    ReasonSerializer,
    VersionReasonSerializer,
)
from facility_log.services import incidents as svc


class IncidentWorkflowActions:
    """Mixed into IncidentViewSet (views.py), whose `_input` and `_detail` these use."""

    @extend_schema(
        request=VersionReasonSerializer,
        responses={
            200: IncidentDetailSerializer,
            # The body matches the schema but the draft lacks what submitting needs: a
            # refusal for content (422), as docs/api.md says; a 400 is a body off the schema.
            422: OpenApiResponse(
                SUBMIT_REFUSED,
                description=f"Not submitted: each missing field of {', '.join(REQUIRED)} is "
                'named ("Required before submitting."), or `detail` says what else is wrong.',
            ),
            409: CONFLICT,
        },
        description=REQUIRED_NOTE,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        incident = self.get_object()
        data = self._input(VersionReasonSerializer)
        incident = svc.submit_incident(
            incident,
            request.user,
            reason=data.get("reason") or "submitted for review",
            expected_version=data.get("version"),
        )
        return self._detail(incident)

    @extend_schema(
        request=CommentSerializer,
        responses={200: IncidentDetailSerializer, 409: STATE_CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_author(self, request, pk=None):
        incident = self.get_object()
        data = self._input(CommentSerializer)
        incident = svc.return_incident(incident, request.user, comment=data.get("comment", ""))
        return self._detail(incident)

    @extend_schema(
        request=CommentSerializer,
        responses={200: IncidentDetailSerializer, 409: STATE_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        incident = self.get_object()
        data = self._input(CommentSerializer)
        incident = svc.approve_incident(incident, request.user, comment=data.get("comment", ""))
        return self._detail(incident)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: IncidentDetailSerializer, 409: STATE_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        incident = self.get_object()
        data = self._input(ReasonSerializer)
        incident = svc.close_incident(incident, request.user, reason=data["reason"])
        return self._detail(incident)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: IncidentDetailSerializer, 409: STATE_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        incident = self.get_object()
        data = self._input(ReasonSerializer)
        incident = svc.void_incident(incident, request.user, reason=data["reason"])
        return self._detail(incident)

    @extend_schema(
        request=CorrectionSerializer,
        responses={200: IncidentDetailSerializer, 409: STATE_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        """Correct one field after submission (not the narrative), with a reason."""
        incident = self.get_object()
        data = self._input(CorrectionSerializer)
        field = data["field"]
        value = self._parse_field(field, data["value"])
        incident = svc.correct_field(
            incident,
            request.user,
            field=field,
            value=value,
            reason=data["reason"],
            expected_version=data.get("version"),
        )
        return self._detail(incident)

    def _parse_field(self, field: str, value):
        if field not in IncidentWriteSerializer.Meta.fields:
            raise Unprocessable({"field": f"{field!r} is not an incident field."})
        serializer = IncidentWriteSerializer(data={field: value}, partial=True)
        if not serializer.is_valid():
            # The schema cannot tie `value` to `field`: a value wrong for its field is a 422.
            raise Unprocessable(serializer.errors)
        return serializer.validated_data.get(field)
