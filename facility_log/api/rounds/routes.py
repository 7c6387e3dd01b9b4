"""Routes: an ordered list of checkpoints, changed with a reason."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from facility_log.api.fields import RefuseUnknownFields, SlugRelatedField
from facility_log.api.responses import WRITE_ONE, errors
from facility_log.api.rounds.common import _managed_site
from facility_log.api.sites import ReasonField
from facility_log.models import Checkpoint, Route, RouteStop, Site
from facility_log.scoping import VIEW_ROLES, scoped
from facility_log.services import rounds as round_services


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
