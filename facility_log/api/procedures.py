"""Guided procedures over the API: the procedures of your sites (read), and ticks of their
steps on an alarm or an incident (create). The same service as the pages
(services/procedures.py); managers write procedures on their pages.

Ticks: 201 the tick recorded; 200 the same `client_uuid` sent again (its first record);
400 a body that does not match the schema (an unknown field, a step below 1); 422 one refused
for its content (neither or both of `alarm` and `incident`, one not among your sites, a step
the procedure does not have, no procedure applying, taking a tick back without a reason, a
`client_uuid` used for another tick); 409 the record's state (the step already ticked or not
ticked, the alarm resolved, the incident closed or void: `state` says which); 403 a role too
low (ticking an alarm is for supervisors and managers)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import RefuseUnknownFields
from facility_log.api.responses import READ, READ_ONE, errors
from facility_log.api.schema import ERROR_BODY
from facility_log.models import Alarm, EventType, Incident, Procedure, ProcedureTick
from facility_log.scoping import VIEW_ROLES, scoped_to_ids, site_id_list
from facility_log.services import procedures


class ProcedureSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    alarm_type = serializers.ChoiceField(
        choices=[("", "not for an alarm type"), *EventType.choices],
        help_text="The alarm type it is for, or empty when it is for an incident category.",
    )
    category = serializers.IntegerField(
        source="category_id", allow_null=True, help_text="The incident category it is for."
    )
    category_name = serializers.CharField(source="category.name", default=None, allow_null=True)
    steps = serializers.ListField(
        child=serializers.CharField(), help_text="The steps in order; step numbers start at 1."
    )

    class Meta:
        model = Procedure
        fields = [
            "id",
            "site",
            "title",
            "alarm_type",
            "category",
            "category_name",
            "steps",
            "version",
            "is_active",
        ]
        read_only_fields = fields


class ProcedureFilterSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, max_length=20, help_text="site code")
    active = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: only those in use"
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[ProcedureFilterSerializer],
        responses={200: ProcedureSerializer(many=True), **errors(400, *READ)},
        summary="Procedures of your sites (per alarm type or incident category)",
        tags=["procedures"],
    ),
    retrieve=extend_schema(
        responses={200: ProcedureSerializer, **errors(*READ_ONE)}, tags=["procedures"]
    ),
)
class ProcedureViewSet(viewsets.ReadOnlyModelViewSet):
    """The procedures of the sites the caller holds a role at, active and retired."""

    serializer_class = ProcedureSerializer
    filter_backends: list = []

    def get_queryset(self):
        rows = Procedure.objects.select_related("site", "category").order_by("site__code", "pk")
        rows = scoped_to_ids(rows, site_id_list(self.request.user, VIEW_ROLES))
        if self.action != "list":
            return rows
        filters = ProcedureFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        if filters.validated_data.get("site"):
            rows = rows.filter(site__code=filters.validated_data["site"])
        if filters.validated_data.get("active") is not None:
            rows = rows.filter(is_active=filters.validated_data["active"])
        return rows


class ProcedureTickSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    step = serializers.IntegerField(source="step_number")
    ticked_by = serializers.CharField(source="ticked_by.username")

    class Meta:
        model = ProcedureTick
        fields = [
            "id",
            "site",
            "procedure",
            "procedure_version",
            "step",
            "step_text",
            "alarm",
            "incident",
            "ticked_by",
            "ticked_at",
            "undone",
            "reason",
            "client_uuid",
        ]
        read_only_fields = fields


class TickRequestSerializer(RefuseUnknownFields, serializers.Serializer):
    alarm = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="The alarm (or `incident`)."
    )
    incident = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="The incident (or `alarm`)."
    )
    step = serializers.IntegerField(min_value=1, max_value=32767, help_text="Step number, from 1.")
    undo = serializers.BooleanField(
        required=False, default=False, help_text="true: take an earlier tick back (a reason)."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="Why (undo)."
    )
    client_uuid = serializers.UUIDField(
        required=False, allow_null=True, help_text="Sent again, the same tick answers."
    )


def _record(data: dict, user) -> dict:
    """The alarm or incident the body names, among the caller's sites (422 otherwise)."""
    if (data.get("alarm") is None) == (data.get("incident") is None):
        raise Unprocessable({"alarm": ["Give an alarm or an incident (one of the two)."]})
    site_ids = site_id_list(user, VIEW_ROLES)
    name, model = ("alarm", Alarm) if data.get("alarm") is not None else ("incident", Incident)
    found = scoped_to_ids(model.objects.select_related("site"), site_ids).filter(pk=data[name])
    record = found.first()
    if record is None:
        raise Unprocessable({name: [f"No {name} #{data[name]} among your sites."]})
    return {name: record}


@extend_schema(
    request=TickRequestSerializer,
    responses={
        201: OpenApiResponse(ProcedureTickSerializer, description="The tick recorded."),
        200: OpenApiResponse(ProcedureTickSerializer, description="Sent before: the same."),
        **errors(400, 401, 403, 409),
        422: OpenApiResponse(ERROR_BODY, description="Refused for its content (names the field)."),
    },
    summary="Tick a step of the procedure of an alarm or incident (or take a tick back)",
    tags=["procedures"],
)
class ProcedureTickViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Ticks are written here and read in the alarm's or incident's history."""

    serializer_class = ProcedureTickSerializer
    queryset = ProcedureTick.objects.none()

    def create(self, request, *args, **kwargs):
        body = TickRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            tick, created = procedures.tick_step(
                request.user,
                **_record(data, request.user),
                step_number=data["step"],
                undo=data["undo"],
                reason=data["reason"],
                client_uuid=data.get("client_uuid"),
            )
        except procedures.IdempotencyConflict as conflict:
            raise Unprocessable({"client_uuid": [str(conflict)]}) from None
        except DjangoValidationError as error:
            if "state" not in getattr(error, "message_dict", {}):
                raise
            return Response({"state": error.message_dict["state"]}, status.HTTP_409_CONFLICT)
        tick = ProcedureTick.objects.select_related("site", "ticked_by").get(pk=tick.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ProcedureTickSerializer(tick).data, status=code)
