"""Round exceptions (missed or late checkpoints, runs not started): read only."""

from rest_framework import serializers, viewsets

from facility_log.api.fields import SlugRelatedField
from facility_log.api.representation import FastRepresentation
from facility_log.api.rows import RowList
from facility_log.models import RoundException
from facility_log.scoping import VIEW_ROLES, scoped


class RoundExceptionSerializer(FastRepresentation, serializers.ModelSerializer):
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


class RoundExceptionViewSet(RowList, viewsets.ReadOnlyModelViewSet):
    """Exceptions found on rounds at the caller's sites (missed, late, drift, ...)."""

    serializer_class = RoundExceptionSerializer
    filterset_fields = ["site__code", "kind", "run"]

    def get_queryset(self):
        return scoped(RoundException.objects.select_related("site"), self.request.user, VIEW_ROLES)
