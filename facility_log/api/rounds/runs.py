"""Runs: a guard walking a route, started idempotently and finished once."""

from django.db import router
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from facility_log.api.fields import DateTimeField, RefuseUnknownFields, SlugRelatedField
from facility_log.api.json_texts import SplicedJSONRenderer
from facility_log.api.offset_rows import OffsetStatements
from facility_log.api.representation import FastRepresentation
from facility_log.api.rounds.common import Conflict422, ReachableField
from facility_log.api.rows import RowList
from facility_log.db_times import times_read_natively
from facility_log.models import Route, Run
from facility_log.scoping import REPORT_ROLES, VIEW_ROLES, scoped, scoped_to_ids, site_id_list
from facility_log.services import rounds as round_services
from facility_log.services.rounds import IdempotencyConflict


class RunSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
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


# The plain list's count and pages, compiled once (api/offset_rows.py); each run's plan, the
# same text for the runs of a route, decoded and encoded once per text (api/json_texts.py).
_PAGES = OffsetStatements(
    Run, lambda site_ids: scoped_to_ids(Run.objects.all(), site_ids), raw_json=("plan",)
)


@extend_schema_view(
    create=extend_schema(
        responses={201: RunSerializer, 200: RunSerializer},
        description="Start a run. " + REPLAYED + " (200)",
    )
)
class RunViewSet(
    RowList,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Runs at the caller's sites. POST starts one (idempotent on client_uuid); `finish/`
    ends it and stores its exceptions."""

    serializer_class = RunSerializer
    # DRF's renderers, JSON writing the plans read once per text as the bytes they keep.
    renderer_classes = [
        SplicedJSONRenderer if renderer is JSONRenderer else renderer
        for renderer in api_settings.DEFAULT_RENDERER_CLASSES
    ]
    filterset_fields = ["site__code", "route", "guard__username"]

    def get_queryset(self):
        if self.action == "list":
            # The list sends route and schedule by id: their rows are not read. (Not
            # `.only()`: Django builds a row with deferred columns more slowly than a whole
            # one.)
            runs = Run.objects.select_related("site", "guard")
            return scoped(runs, self.request.user, VIEW_ROLES)
        # Route and schedule: what finishing a run judges its scans by.
        runs = Run.objects.select_related("site", "guard", "route", "schedule")
        return scoped(runs, self.request.user, VIEW_ROLES)

    def read_compiled_page(self, columns: list):
        """The page by statements compiled once (RowList) when no filter is named; None
        otherwise (then get_queryset, the filters and the ORM)."""
        if any(name in self.request.query_params for name in self.filterset_fields):
            return None
        ids = site_id_list(self.request.user, VIEW_ROLES)
        if not _PAGES.usable(ids):
            return None
        using = router.db_for_read(Run)
        with times_read_natively(using):
            return _PAGES.page(self.paginator, self.request, using, ids, columns)

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
