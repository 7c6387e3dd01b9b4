"""Shifts over the API, for the guard's tablet: start a shift (idempotent on client_uuid),
write log entries, end it with pass-down notes. Every write goes through
services/shifts.py.

Status codes: 201 created, 200 the same request again (nothing new), 422 a client_uuid
reused with a different payload, 409 a clash with the shift's state (a shift already open
for you at the site; a shift already ended differently). Error bodies name the field.
"""

import django_filters
from django.db import router
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import DateTimeField, RefuseUnknownFields, SlugRelatedField
from facility_log.api.filters import BooleanFilter, FilterSet
from facility_log.api.offset_rows import OffsetStatements
from facility_log.api.representation import FastRepresentation
from facility_log.api.rows import RowList
from facility_log.api.schema import ERROR_BODY
from facility_log.db_times import times_read_natively
from facility_log.models import Shift, ShiftEntry, ShiftEntryKind, Site
from facility_log.models.shifts import ENTRY_TEXT_MAX
from facility_log.scoping import REPORT_ROLES, VIEW_ROLES, scoped, scoped_to_ids, site_id_list
from facility_log.services import shifts as shift_services
from facility_log.services.shifts import PASS_DOWN_MAX, IdempotencyConflict, ShiftConflict


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_BODY, description=description)


CONFLICT_422 = _error("The client_uuid was used before with a different payload.")


class PreviousPassDownSerializer(serializers.Serializer):
    shift = serializers.IntegerField(source="pk")
    guard = serializers.CharField(source="guard.username")
    ended_at = serializers.DateTimeField()
    pass_down_notes = serializers.CharField()


# An id no shift has, marking where a shift's id goes in its reversed report URL.
_URL_SENTINEL = 987654321987654321


class ShiftSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    guard = SlugRelatedField(slug_field="username", read_only=True)
    client_uuid = serializers.UUIDField(validators=[])
    previous_pass_down = serializers.SerializerMethodField(
        help_text="The notes left by the shift before this one (on create and retrieve)."
    )
    report_url = serializers.SerializerMethodField()
    # Read from a list's rows with only the shift's id (api/rows.py): the report's URL, and
    # the previous pass-down, which a list does not send (`with_previous` is for one shift).
    row_methods = ("previous_pass_down", "report_url")
    post_order_versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        write_only=True,
        max_length=200,
        help_text="The ids of the post order versions (`version_id` on /post-orders/) the "
        "guard has read and acknowledges with this start. Every post order changed since the "
        "guard last acknowledged must be among them, or the start is refused (422 naming "
        "`post_orders`).",
    )

    class Meta:
        model = Shift
        fields = [
            "id",
            "site",
            "guard",
            "client_uuid",
            "started_at",
            "ended_at",
            "pass_down_notes",
            "previous_pass_down",
            "report_url",
            "post_order_versions",
        ]
        read_only_fields = ["id", "ended_at", "pass_down_notes"]
        extra_kwargs = {"started_at": {"required": False}}

    @extend_schema_field(PreviousPassDownSerializer(allow_null=True))
    def get_previous_pass_down(self, shift) -> dict | None:
        if not self.context.get("with_previous"):
            return None
        previous = shift_services.previous_handover(
            shift.site, before=shift.started_at, excluding=shift
        )
        return PreviousPassDownSerializer(previous).data if previous else None

    def get_report_url(self, shift) -> str:
        # Reversed once per serializer (for a list, once per request: the script prefix and
        # language are the request's), each shift's id put in the sentinel's place.
        parts = self.__dict__.get("_report_url_parts")
        if parts is None:
            head, _, tail = reverse("shift-report", args=[_URL_SENTINEL]).rpartition(
                str(_URL_SENTINEL)
            )
            parts = self._report_url_parts = (head, tail)
        if type(shift.pk) is not int:
            return reverse("shift-report", args=[shift.pk])
        return f"{parts[0]}{shift.pk}{parts[1]}"


class EndSerializer(RefuseUnknownFields, serializers.Serializer):
    ended_at = DateTimeField(required=False)
    pass_down_notes = serializers.CharField(
        required=False, allow_blank=True, max_length=PASS_DOWN_MAX, trim_whitespace=False
    )


class ShiftFilter(FilterSet):
    site__code = django_filters.CharFilter(field_name="site__code")
    guard__username = django_filters.CharFilter(field_name="guard__username")
    open = BooleanFilter(
        field_name="ended_at", lookup_expr="isnull", label="true: open shifts; false: ended"
    )

    class Meta:
        model = Shift
        fields = ["site__code", "guard__username", "open"]


def _conflict_response(error: ShiftConflict) -> Response:
    return Response(error.message_dict, status=status.HTTP_409_CONFLICT)


def _idempotency_response(error: IdempotencyConflict) -> Response:
    return Response({"client_uuid": [str(error)]}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


# The plain list's count and pages, compiled once (api/offset_rows.py).
_PAGES = OffsetStatements(Shift, lambda site_ids: scoped_to_ids(Shift.objects.all(), site_ids))


@extend_schema_view(
    create=extend_schema(
        request=ShiftSerializer,
        responses={
            201: ShiftSerializer,
            200: ShiftSerializer,
            409: _error("You have a shift open at this site already (body names `site`)."),
            422: _error(
                "The client_uuid was used before with a different payload, or a post order "
                "changed since the guard last acknowledged it and is not in "
                "`post_order_versions` (body names `post_orders` and lists them)."
            ),
        },
        summary="Start a shift (idempotent on client_uuid; 422 if the payload differs)",
    ),
)
class ShiftViewSet(
    RowList,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Shifts at the caller's sites. Filters: `site__code`, `guard__username`, `open`
    (true/false). POST starts the caller's shift; `end/` ends it with pass-down notes."""

    serializer_class = ShiftSerializer
    filterset_class = ShiftFilter

    def get_queryset(self):
        return scoped(Shift.objects.select_related("site", "guard"), self.request.user, VIEW_ROLES)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_previous": self.action == "retrieve"}

    def read_compiled_page(self, columns: list):
        """The page by statements compiled once (RowList) when no filter is named; None
        otherwise (then get_queryset, the filters and the ORM)."""
        if any(name in self.request.query_params for name in ShiftFilter.base_filters):
            return None
        ids = site_id_list(self.request.user, VIEW_ROLES)
        if not _PAGES.usable(ids):
            return None
        using = router.db_for_read(Shift)
        with times_read_natively(using):
            return _PAGES.page(self.paginator, self.request, using, ids, columns)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        site = scoped(Site.objects.filter(pk=data["site"].pk), request.user, REPORT_ROLES, "")
        if not site.exists():
            raise Unprocessable({"site": "Not found among your sites."})
        try:
            shift, created = shift_services.start_shift(
                data["site"],
                request.user,
                client_uuid=data["client_uuid"],
                started_at=data.get("started_at"),
                acknowledged_post_orders=data.get("post_order_versions", ()),
            )
        except IdempotencyConflict as error:
            return _idempotency_response(error)
        except ShiftConflict as error:
            return _conflict_response(error)
        body = ShiftSerializer(shift, context={"with_previous": True}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=EndSerializer,
        responses={
            200: ShiftSerializer,
            409: _error("The shift already ended at another time or with other notes."),
        },
        summary="End the shift with pass-down notes (the same end again: 200, unchanged)",
    )
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        shift = self.get_object()
        serializer = EndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            shift, _changed = shift_services.end_shift(
                shift,
                request.user,
                ended_at=data.get("ended_at"),
                pass_down_notes=data.get("pass_down_notes", ""),
            )
        except ShiftConflict as error:
            return _conflict_response(error)
        return Response(ShiftSerializer(shift, context={"with_previous": False}).data)


class ShiftEntrySerializer(RefuseUnknownFields, serializers.ModelSerializer):
    shift = serializers.PrimaryKeyRelatedField(queryset=Shift.objects.all())
    site = SlugRelatedField(source="shift.site", slug_field="code", read_only=True)
    client_uuid = serializers.UUIDField(validators=[])
    kind = serializers.ChoiceField(choices=ShiftEntryKind.choices)
    text = serializers.CharField(max_length=ENTRY_TEXT_MAX)
    recorded_by = SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ShiftEntry
        fields = [
            "id",
            "shift",
            "site",
            "client_uuid",
            "kind",
            "occurred_at",
            "text",
            "recorded_at",
            "recorded_by",
        ]
        read_only_fields = ["id", "recorded_at"]


@extend_schema_view(
    create=extend_schema(
        responses={201: ShiftEntrySerializer, 200: ShiftEntrySerializer, 422: CONFLICT_422},
        summary="Write a log entry (idempotent on client_uuid; 422 if the payload differs)",
    ),
)
class ShiftEntryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Shift log entries at the caller's sites, filterable by `shift`. Entries are never
    changed; a correction is a new entry."""

    serializer_class = ShiftEntrySerializer
    filterset_fields = ["shift"]

    def get_queryset(self):
        return scoped(
            ShiftEntry.objects.select_related("shift__site", "recorded_by"),
            self.request.user,
            VIEW_ROLES,
            "shift__site",
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shift = (
            scoped(Shift.objects.select_related("site"), request.user, REPORT_ROLES)
            .filter(pk=data["shift"].pk)
            .first()
        )
        if shift is None:
            raise Unprocessable({"shift": "Not found among your sites."})
        try:
            entry, created = shift_services.add_shift_entry(
                shift,
                request.user,
                client_uuid=data["client_uuid"],
                kind=data["kind"],
                occurred_at=data["occurred_at"],
                text=data["text"],
            )
        except IdempotencyConflict as error:
            return _idempotency_response(error)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ShiftEntrySerializer(entry).data, status=code)
