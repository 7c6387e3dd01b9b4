"""Alarms over the API: the console's list, one alarm, and the supervisor's steps —
acknowledge, resolve (each with a note), open an incident from it. The same services as the
alarm pages (services/access.py, services/links.py); supervisors and managers act, every
member of the site reads.

Status codes: 200 done; 400 a missing note (or a field the step does not take); 409 a step
the alarm's state does not allow (`state` names it: already acknowledged, already resolved;
`current` is the alarm as the server holds it); 403 a role too low; 404 an alarm of a site you
hold no role at. Opening an incident is idempotent: 201 the first time, 200
with the same incident after."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.fields import RefuseUnknownFields
from facility_log.api.incidents import IncidentDetailSerializer
from facility_log.api.responses import READ, READ_ONE, WRITE_ONE, errors
from facility_log.models import (
    Alarm,
    AlarmPriorityLevel,
    AlarmState,
    EventType,
    IncidentSource,
    MissedCheckIn,
    PanicAlert,
)
from facility_log.scoping import (
    REVIEW_ROLES,
    VIEW_ROLES,
    require_role,
    scoped_to_ids,
    site_id_list,
)
from facility_log.services import access as access_services
from facility_log.services import alarm_priorities, links
from facility_log.services import incidents as incident_services
from facility_log.services.alarm_priorities import PRIORITY_NAMES

NOTE_MAX = 2000


class PanicSerializer(serializers.ModelSerializer):
    guard = serializers.CharField(source="guard.username")
    shift = serializers.IntegerField(source="shift_id", allow_null=True)
    last_checkpoint = serializers.IntegerField(source="last_checkpoint_id", allow_null=True)
    last_checkpoint_name = serializers.CharField(
        source="last_checkpoint.name", default=None, allow_null=True
    )

    class Meta:
        model = PanicAlert
        fields = [
            "guard",
            "shift",
            "pressed_at",
            "received_at",
            "last_checkpoint",
            "last_checkpoint_name",
            "last_scanned_at",
            "silent",
        ]
        read_only_fields = fields


class MissedCheckInSerializer(serializers.ModelSerializer):
    guard = serializers.CharField(source="shift.guard.username")
    shift = serializers.IntegerField(source="shift_id")
    since = serializers.DateTimeField(help_text="The last check-in (or the start it counted from).")
    due_at = serializers.DateTimeField(help_text="When the missed check-in was due.")

    class Meta:
        model = MissedCheckIn
        fields = ["guard", "shift", "since", "due_at"]
        read_only_fields = fields


class AlarmSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    door = serializers.CharField(
        source="door.code", default=None, allow_null=True, help_text="Empty for a panic button."
    )
    door_name = serializers.CharField(source="door.name", default=None, allow_null=True)
    priority = serializers.ChoiceField(
        choices=AlarmPriorityLevel.choices,
        help_text="1 critical … 5 low: the site's priority for this alarm type (duress > "
        "forced open > tamper > held open > other unless the site's managers set otherwise).",
    )
    priority_label = serializers.SerializerMethodField()
    panic = PanicSerializer(
        allow_null=True, help_text="For a panic-button (duress) alarm: who, shift, last scan."
    )
    missed_check_in = MissedCheckInSerializer(
        allow_null=True,
        help_text="For a lone worker's missed check-in: whose shift, since when, due when.",
    )
    kind = serializers.ChoiceField(source="event_type", choices=EventType.choices)
    status = serializers.ChoiceField(source="state", choices=AlarmState.choices)
    event = serializers.IntegerField(source="event_id")
    occurred_at = serializers.DateTimeField(
        help_text="The door event's time, when the panic button was pressed, or when the "
        "missed check-in was due."
    )
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", default=None, allow_null=True
    )
    resolved_by = serializers.CharField(
        source="resolved_by.username", default=None, allow_null=True
    )
    incident = serializers.SerializerMethodField(
        help_text="The incident opened from this alarm, if any."
    )
    history_url = serializers.SerializerMethodField()

    class Meta:
        model = Alarm
        fields = [
            "id",
            "site",
            "door",
            "door_name",
            "priority",
            "priority_label",
            "panic",
            "missed_check_in",
            "kind",
            "status",
            "event",
            "occurred_at",
            "raised_at",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledge_note",
            "resolved_by",
            "resolved_at",
            "resolution_note",
            "escalated_at",
            "incident",
            "history_url",
        ]
        read_only_fields = fields

    def get_priority_label(self, alarm) -> str:
        return PRIORITY_NAMES[alarm.priority]

    def get_incident(self, alarm) -> int | None:
        source = getattr(alarm, "incident_source", None)
        return source.incident_id if source else None

    def get_history_url(self, alarm) -> str:
        return reverse("api-alarm-history", args=[alarm.pk])


class AlarmFilterSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, max_length=20, help_text="site code")
    status = serializers.ChoiceField(choices=AlarmState.choices, required=False)
    kind = serializers.ChoiceField(
        choices=EventType.choices, required=False, help_text="the event type that raised it"
    )
    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: not resolved yet"
    )
    priority = serializers.ChoiceField(
        choices=AlarmPriorityLevel.choices, required=False, help_text="1 critical … 5 low"
    )
    ordering = serializers.ChoiceField(
        choices=[("-raised_at", "newest first"), ("priority", "most urgent first, then newest")],
        required=False,
        default="-raised_at",
    )


class AlarmNoteSerializer(RefuseUnknownFields, serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX, help_text="What is being or was done.")


@extend_schema_view(
    list=extend_schema(
        parameters=[AlarmFilterSerializer],
        responses={200: AlarmSerializer(many=True), **errors(400, *READ)},
        summary="Alarms of your sites, newest first or most urgent first "
        "(filters: site, status, kind, open, priority)",
    ),
    retrieve=extend_schema(responses={200: AlarmSerializer, **errors(*READ_ONE)}),
)
class AlarmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alarms of the sites the caller holds a role at, newest first."""

    serializer_class = AlarmSerializer
    filter_backends: list = []

    def get_queryset(self):
        alarms = Alarm.objects.select_related(
            "site",
            "door",
            "event",
            "acknowledged_by",
            "resolved_by",
            "incident_source",
            "panic__guard",
            "panic__last_checkpoint",
            "missed_check_in__shift__guard",
        ).order_by("-raised_at", "-id")
        site_ids = site_id_list(self.request.user, VIEW_ROLES)
        alarms = alarm_priorities.with_priority(scoped_to_ids(alarms, site_ids), site_ids)
        if self.action != "list":
            return alarms
        filters = AlarmFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("site"):
            alarms = alarms.filter(site__code=data["site"])
        if data.get("status"):
            alarms = alarms.filter(state=data["status"])
        if data.get("kind"):
            alarms = alarms.filter(event_type=data["kind"])
        if data.get("open") is not None:
            resolved = {"state": AlarmState.RESOLVED}
            alarms = alarms.exclude(**resolved) if data["open"] else alarms.filter(**resolved)
        if data.get("priority"):
            alarms = alarms.filter(priority=data["priority"])
        if data["ordering"] == "priority":
            alarms = alarms.order_by("priority", "-raised_at", "-id")
        return alarms

    def _step(self, step) -> Response:
        alarm = self.get_object()
        require_role(self.request.user, alarm.site, REVIEW_ROLES)
        note = AlarmNoteSerializer(data=self.request.data)
        note.is_valid(raise_exception=True)
        try:
            step(alarm, self.request.user, note=note.validated_data["note"])
        except DjangoValidationError as error:
            if "state" not in getattr(error, "message_dict", {}):
                raise
            # The alarm moved on (someone else acknowledged or resolved it): a clash with its
            # state, answered with the alarm as it is now, as the contract says for a 409.
            body = {"state": error.message_dict["state"]}
            body["current"] = AlarmSerializer(self.get_queryset().get(pk=alarm.pk)).data
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(AlarmSerializer(self.get_queryset().get(pk=alarm.pk)).data)

    @extend_schema(
        request=AlarmNoteSerializer,
        responses={200: AlarmSerializer, **errors(*WRITE_ONE, 409)},
        summary="Acknowledge a new alarm with a note (supervisors, managers)",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._step(access_services.acknowledge_alarm)

    @extend_schema(
        request=AlarmNoteSerializer,
        responses={200: AlarmSerializer, **errors(*WRITE_ONE, 409)},
        summary="Resolve an alarm with the response note (supervisors, managers)",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._step(access_services.resolve_alarm)

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(IncidentDetailSerializer, description="The draft opened."),
            200: OpenApiResponse(IncidentDetailSerializer, description="Opened before."),
            **errors(*READ_ONE),
        },
        summary="Open a draft incident from the alarm (idempotent; supervisors, managers)",
    )
    @action(detail=True, methods=["post"], url_path="open-incident")
    def open_incident(self, request, pk=None):
        alarm = self.get_object()
        require_role(request.user, alarm.site, REVIEW_ROLES)
        existed = IncidentSource.objects.filter(alarm=alarm).exists()
        incident = links.open_incident_from_alarm(alarm, request.user)
        detail = incident_services.visible_incidents(request.user).get(pk=incident.pk)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(IncidentDetailSerializer(detail).data, status=code)
