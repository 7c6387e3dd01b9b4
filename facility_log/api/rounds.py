"""Guard rounds over the API: checkpoints, routes, schedules, runs, scans and exceptions, for
the tablet app and integrations. Every write goes through services/rounds/.

Tag codes are returned only to the site's managers: a guard proves a visit by scanning the
tag, so the code is not handed out to be typed in from elsewhere.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import (
    LOCAL_TIME_PATTERN,
    DateTimeField,
    LocalTimeField,
    RefuseUnknownFields,
    SlugRelatedField,
)
from facility_log.api.pagination import KeysetPagination
from facility_log.api.parsers import JSONParser
from facility_log.api.responses import WRITE_ONE, errors
from facility_log.api.sites import ReasonField
from facility_log.models import (
    Checkpoint,
    RoundException,
    Route,
    RouteStop,
    Run,
    Scan,
    ScanMethod,
    Schedule,
    Site,
    Zone,
)
from facility_log.scoping import (
    MANAGE_ROLES,
    REPORT_ROLES,
    VIEW_ROLES,
    scoped,
    scoped_to_ids,
    site_id_list,
    sites_for,
)
from facility_log.services import rounds as round_services
from facility_log.services.rounds import IdempotencyConflict, ScanInput


class Conflict422(APIException):
    status_code = 422
    default_detail = "This client_uuid was used for a different record."
    default_code = "idempotency_conflict"


class ReachableField(serializers.PrimaryKeyRelatedField):
    """A related record of a site where the caller holds one of `roles`, read in one query
    (with what the service needs of it, through the queryset given); any other id gets the
    same error as a missing one (existence at other sites is not revealed)."""

    default_error_messages = {"does_not_exist": "Not found among your sites."}

    def __init__(self, *, roles, **kwargs):
        self.roles = roles
        super().__init__(**kwargs)

    def get_queryset(self):
        return scoped(super().get_queryset(), self.context["request"].user, self.roles)


class CheckpointSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.all())
    tag_code = serializers.SerializerMethodField()
    reason = ReasonField()

    class Meta:
        model = Checkpoint
        fields = ["id", "site", "zone", "name", "instructions", "is_active", "tag_code", "reason"]
        read_only_fields = ["id"]

    def get_tag_code(self, checkpoint) -> str | None:
        if "managed_site_ids" not in self.context:
            user = self.context["request"].user
            managed = sites_for(user, MANAGE_ROLES).values_list("pk", flat=True)
            self.context["managed_site_ids"] = set(managed)
        if checkpoint.site_id in self.context["managed_site_ids"]:
            return checkpoint.tag_display
        return None


class CheckpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Checkpoints of the caller's sites; managers add and change them and see tag codes."""

    serializer_class = CheckpointSerializer
    filterset_fields = ["site__code", "zone", "is_active"]

    def get_queryset(self):
        return scoped(Checkpoint.objects.select_related("site"), self.request.user, VIEW_ROLES)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        site = _managed_site(self.request.user, data.pop("site"))
        data.pop("is_active", None)
        serializer.instance = round_services.create_checkpoint(site, self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("site", serializer.instance.site) != serializer.instance.site:
            raise Unprocessable({"site": "A checkpoint cannot move to another site."})
        # A PATCH may leave any field out; without a reason the change is refused (422).
        reason = data.pop("reason", "")
        round_services.update_checkpoint(
            serializer.instance, self.request.user, reason=reason, **data
        )


def _managed_site(user, site: Site) -> Site:
    if not scoped(Site.objects.filter(pk=site.pk), user, MANAGE_ROLES, site_field="").exists():
        raise Unprocessable({"site": "No such site among the sites you manage."})
    return site


class StopSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    checkpoint = serializers.PrimaryKeyRelatedField(queryset=Checkpoint.objects.all())

    class Meta:
        model = RouteStop
        fields = ["checkpoint", "position", "expected_minutes"]
        read_only_fields = ["position"]


class RouteSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    stops = StopSerializer(many=True)
    reason = ReasonField()

    class Meta:
        model = Route
        fields = [
            "id",
            "site",
            "name",
            "must_follow_order",
            "random_order",
            "is_active",
            "version",
            "stops",
            "reason",
        ]
        read_only_fields = ["id", "is_active", "version"]


class RouteChangeSerializer(RefuseUnknownFields, serializers.Serializer):
    """A change to a route: any of its fields, the version it was made on, and why. New stops
    or order rules make a new version (runs keep theirs); a stale `version` is a 409."""

    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The version the change was made on."
    )
    name = serializers.CharField(max_length=120, required=False)
    must_follow_order = serializers.BooleanField(required=False)
    random_order = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    stops = StopSerializer(many=True, required=False, allow_empty=False)
    reason = ReasonField()


@extend_schema_view(
    partial_update=extend_schema(
        request=RouteChangeSerializer,
        responses={200: RouteSerializer, **errors(*WRITE_ONE, 409)},
        summary="Change a route (managers): new stops or order rules make a new version",
    )
)
class RouteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Routes with their ordered stops; managers create and change them (by version)."""

    serializer_class = RouteSerializer
    filterset_fields = ["site__code", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def partial_update(self, request, *args, **kwargs):
        route = self.get_object()
        change = RouteChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        data = dict(change.validated_data)
        if "stops" in data:
            data["stops"] = [(s["checkpoint"], s.get("expected_minutes", 0)) for s in data["stops"]]
        try:
            updated = round_services.update_route(
                route, request.user, expected_version=data.pop("version"), **data
            )
        except round_services.RouteVersionConflict as conflict:
            body = {"version": [str(conflict)], "current": RouteSerializer(conflict.current).data}
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(RouteSerializer(self.get_queryset().get(pk=updated.pk)).data)

    def get_queryset(self):
        return scoped(
            Route.objects.select_related("site").prefetch_related("stops"),
            self.request.user,
            VIEW_ROLES,
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        site = _managed_site(self.request.user, data.pop("site"))
        stops = [(s["checkpoint"], s.get("expected_minutes", 0)) for s in data.pop("stops")]
        serializer.instance = round_services.create_route(
            site, self.request.user, stops=stops, **data
        )


class ScheduleSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(source="route.site", slug_field="code", read_only=True)
    route = serializers.PrimaryKeyRelatedField(queryset=Route.objects.all())
    start_time = LocalTimeField(required=False, allow_null=True)
    end_time = LocalTimeField(required=False, allow_null=True)
    fixed_times = serializers.ListField(
        child=serializers.RegexField(LOCAL_TIME_PATTERN),
        required=False,
        help_text='Site-local times of a `fixed` schedule, e.g. ["06:00", "14:00"].',
    )
    reason = ReasonField()

    class Meta:
        model = Schedule
        fields = [
            "id",
            "site",
            "route",
            "name",
            "kind",
            "start_time",
            "end_time",
            "every_hours",
            "fixed_times",
            "grace_minutes",
            "active_from",
            "active_until",
            "is_active",
            "reason",
        ]
        read_only_fields = ["id", "is_active"]


class ScheduleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """When routes must be walked (site-local times); managers create schedules."""

    serializer_class = ScheduleSerializer
    filterset_fields = ["route", "is_active"]

    def get_queryset(self):
        return scoped(
            Schedule.objects.select_related("route__site"),
            self.request.user,
            VIEW_ROLES,
            site_field="route__site",
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        route = data.pop("route")
        _managed_site(self.request.user, route.site)
        serializer.instance = round_services.create_schedule(route, self.request.user, **data)


class RunSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", read_only=True)
    guard = SlugRelatedField(slug_field="username", read_only=True)
    route = ReachableField(roles=REPORT_ROLES, queryset=Route.objects.select_related("site"))
    client_uuid = serializers.UUIDField(required=False, allow_null=True, validators=[])

    class Meta:
        model = Run
        fields = [
            "id",
            "site",
            "route",
            "guard",
            "schedule",
            "window_start",
            "route_version",
            "plan",
            "started_at",
            "finished_at",
            "client_uuid",
        ]
        read_only_fields = [
            "id",
            "schedule",
            "window_start",
            "route_version",
            "plan",
            "finished_at",
        ]
        extra_kwargs = {"started_at": {"required": False}}


class FinishSerializer(RefuseUnknownFields, serializers.Serializer):
    finished_at = DateTimeField(required=False)


REPLAYED = "The same client_uuid and payload again: the record already stored."


@extend_schema_view(
    create=extend_schema(
        responses={201: RunSerializer, 200: RunSerializer},
        description="Start a run. " + REPLAYED + " (200)",
    )
)
class RunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Runs at the caller's sites. POST starts one (idempotent on client_uuid); `finish/`
    ends it and stores its exceptions."""

    serializer_class = RunSerializer
    filterset_fields = ["site__code", "route", "guard__username"]

    def get_queryset(self):
        # Route and schedule: what finishing a run judges its scans by.
        runs = Run.objects.select_related("site", "guard", "route", "schedule")
        return scoped(runs, self.request.user, VIEW_ROLES)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        route = data["route"]
        existed = (
            bool(data.get("client_uuid"))
            and Run.objects.filter(client_uuid=data["client_uuid"]).exists()
        )
        try:
            run = round_services.start_run(
                route,
                request.user,
                started_at=data.get("started_at"),
                client_uuid=data.get("client_uuid"),
            )
        except IdempotencyConflict as error:
            raise Conflict422(str(error)) from error
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(RunSerializer(run).data, status=code)

    @extend_schema(request=FinishSerializer, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        run = self.get_object()
        serializer = FinishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        round_services.finish_run(
            run, request.user, finished_at=serializer.validated_data.get("finished_at")
        )
        return Response(RunSerializer(run).data)


class RunIdField(serializers.PrimaryKeyRelatedField):
    """A run's id, taken as given: the service reads (and locks) the run once, in the same
    query that checks the caller's role and the client_uuid, and answers a run of another
    site as a missing one ("Not found among your sites.")."""

    default_error_messages = {"does_not_exist": "Not found among your sites."}

    def __init__(self, **kwargs):
        super().__init__(queryset=Run.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= value < 2**63:  # no such id (a BigAutoField's range)
            self.fail("does_not_exist", pk_value=data)
        return value


class ScanSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    run = RunIdField(required=False)
    route = ReachableField(
        roles=REPORT_ROLES,
        queryset=Route.objects.select_related("site"),
        required=False,
        write_only=True,
    )
    site = SlugRelatedField(source="run.site", slug_field="code", read_only=True)
    tag_code = serializers.CharField(write_only=True, max_length=40)
    client_uuid = serializers.UUIDField(validators=[])
    method = serializers.ChoiceField(choices=ScanMethod.choices)
    photo = serializers.FileField(
        required=False, write_only=True, help_text="Optional; send the scan as multipart."
    )

    class Meta:
        model = Scan
        fields = [
            "id",
            "site",
            "run",
            "route",
            "checkpoint",
            "tag_code",
            "client_uuid",
            "method",
            "device_time",
            "device_sent_at",
            "received_at",
            "clock_offset_seconds",
            "effective_time",
            "note",
            "photo",
        ]
        read_only_fields = [
            "id",
            "checkpoint",
            "received_at",
            "clock_offset_seconds",
            "effective_time",
        ]


# What the list's serializer reads: the scan's own columns and its run's site code.
SCAN_LIST_COLUMNS = [
    "run__site__code",
    "checkpoint_id",
    "client_uuid",
    "method",
    "device_time",
    "device_sent_at",
    "received_at",
    "clock_offset_seconds",
    "effective_time",
    "note",
]


class ScanJsonSerializer(ScanSerializer):
    """A scan sent as JSON: everything but the photo, which only a multipart body carries."""

    photo = None

    class Meta(ScanSerializer.Meta):
        fields = [f for f in ScanSerializer.Meta.fields if f != "photo"]


@extend_schema_view(
    create=extend_schema(
        # One body format per operation: generated clients cannot choose between two. A
        # scan with a photo is also read as multipart (the same fields plus `photo`), the one
        # form this schema does not list.
        request={"application/json": ScanJsonSerializer},
        responses={201: ScanSerializer, 200: ScanSerializer},
    )
)
class ScanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Scans. POST records one: give `run` (or `route`, to start a run with this scan), the
    scanned `tag_code`, a `client_uuid`, the device's `device_time` and, from tablets,
    `device_sent_at` (the device clock at upload). The same client_uuid again returns the
    stored scan (200); the same client_uuid with a different payload is refused (422)."""

    serializer_class = ScanSerializer
    filterset_fields = ["run", "checkpoint", "method"]
    pagination_class = KeysetPagination
    keyset_time_field = "effective_time"
    # JSON, or multipart when a photo comes with the scan.
    parser_classes = [JSONParser, parsers.MultiPartParser]

    def get_queryset(self):
        scans = Scan.objects.select_related("run__site")
        if self.action != "list":
            return scoped(scans, self.request.user, VIEW_ROLES, "run__site")
        # Newest first in cursor pages; the sites as a literal list (scoping.site_id_list).
        ids = site_id_list(self.request.user, VIEW_ROLES)
        return scoped_to_ids(scans, ids, "run__site").only(*SCAN_LIST_COLUMNS)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run, route = self._target(data)
        scan_input = ScanInput(
            tag_code=data["tag_code"],
            client_uuid=data["client_uuid"],
            device_time=data["device_time"],
            method=data["method"],
            device_sent_at=data.get("device_sent_at"),
            note=data.get("note", ""),
        )
        try:
            scan, created = round_services.record_scan(
                request.user, scan_input, run_id=run, route=route, photo=data.get("photo")
            )
        except IdempotencyConflict as error:
            raise Conflict422(str(error)) from error
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        serializer.instance = scan  # answered through the serializer already built
        return Response(serializer.data, status=code)

    @staticmethod
    def _target(data):
        run, route = data.get("run"), data.get("route")
        if run is None and route is None:
            raise Unprocessable({"run": "Give the run (or the route to start one)."})
        return run, (route if run is None else None)


class RoundExceptionSerializer(serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RoundException
        fields = [
            "id",
            "site",
            "kind",
            "run",
            "schedule",
            "window_start",
            "checkpoint",
            "scan",
            "detail",
            "detected_at",
            "withdrawn_at",
            "withdrawn_reason",
        ]


class RoundExceptionViewSet(viewsets.ReadOnlyModelViewSet):
    """Exceptions found on rounds at the caller's sites (missed, late, drift, ...)."""

    serializer_class = RoundExceptionSerializer
    filterset_fields = ["site__code", "kind", "run"]

    def get_queryset(self):
        return scoped(RoundException.objects.select_related("site"), self.request.user, VIEW_ROLES)
