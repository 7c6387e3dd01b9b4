"""Schedules: when a route is due."""

from rest_framework import mixins, serializers, viewsets

from facility_log.api.fields import (
    LOCAL_TIME_PATTERN,
    LocalTimeField,
    RefuseUnknownFields,
    SlugRelatedField,
)
from facility_log.api.rounds.common import _managed_site
from facility_log.api.sites import ReasonField
from facility_log.models import Route, Schedule
from facility_log.scoping import VIEW_ROLES, scoped
from facility_log.services import rounds as round_services


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
