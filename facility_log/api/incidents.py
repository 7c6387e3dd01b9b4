"""Incidents over the API: the same operations as the pages, through the same services.

Creation is idempotent on `client_uuid` (same payload → the stored incident, 200; different
payload → 422). Draft edits carry the `version` they were made on (stale → 409 with the
stored version). After submission the incident is not edited in place: corrections,
supplements and attachments have their own endpoints.
"""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from facility_log.api.errors import Unprocessable
from facility_log.api.fields import IdField, RefuseUnknownFields, SlugRelatedField
from facility_log.api.pagination import KeysetPagination, Pagination
from facility_log.api.schema import NO_NUL
from facility_log.models import (
    Attachment,
    Category,
    Incident,
    InvolvedPerson,
    PropertyItem,
    Site,
    Supplement,
    Vehicle,
    Zone,
)
from facility_log.models.incidents import Severity, Status, ThreatChannel
from facility_log.scoping import REPORT_ROLES, VIEW_ROLES, scoped, site_id_list, sites_for
from facility_log.services import incidents as svc
from facility_log.services import view_log
from facility_log.services.downloads import serve_attachment

WRITABLE = sorted(svc.DRAFT_FIELDS)
REQUIRED = list(svc.REQUIRED_TO_SUBMIT)
# Stated on the incident components, so a client knows before it submits.
REQUIRED_NOTE = (
    f"A draft may leave any field empty; submitting needs {', '.join(REQUIRED)} "
    "(`x-required-to-submit`). A submit without them is a 400 naming each missing field."
)
SUBMIT_REFUSED = inline_serializer(
    "SubmitRefused",
    {
        name: serializers.ListField(child=serializers.CharField(), required=False)
        for name in REQUIRED
    }
    | {"detail": serializers.CharField(required=False)},
)


class PersonSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = InvolvedPerson
        fields = ["id", "role", "name", "description", "contact", "statement"]
        read_only_fields = ["id"]


class VehicleSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "registration", "make_model", "colour", "description"]
        read_only_fields = ["id"]


class PropertyItemSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = PropertyItem
        fields = ["id", "kind", "description", "value"]
        read_only_fields = ["id"]


class SupplementSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Supplement
        fields = ["id", "author", "created_at", "text", "reason"]
        read_only_fields = ["id", "author", "created_at"]


class AttachmentSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    incident_number = serializers.CharField(source="incident.number", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "incident",
            "incident_number",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "redacted_from",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return f"/api/v1/attachments/{obj.pk}/download/"


class AttachmentUploadSerializer(RefuseUnknownFields, serializers.Serializer):
    file = serializers.FileField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=300)
    redacted_from = IdField(required=False, allow_null=True)


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as listed: flat, every relation read in the list's one query."""

    site = serializers.CharField(source="site.code", read_only=True)
    zone_name = serializers.CharField(
        source="zone.name", read_only=True, default=None, allow_null=True
    )
    category_name = serializers.CharField(
        source="category.name", read_only=True, default=None, allow_null=True
    )
    # Stored blank when the incident is not a threat: "" is one of the values sent.
    threat_channel = serializers.ChoiceField(
        choices=ThreatChannel.choices, allow_blank=True, read_only=True
    )
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "number",
            "site",
            "status",
            "version",
            "client_uuid",
            "zone",
            "zone_name",
            "category",
            "category_name",
            *[f for f in WRITABLE if f not in {"zone", "category"}],
            "author",
            "created_at",
            "submitted_at",
            "void_reason",
        ]
        read_only_fields = fields


@extend_schema_serializer(extensions={"x-required-to-submit": REQUIRED}, description=REQUIRED_NOTE)
class IncidentDetailSerializer(IncidentSerializer):
    persons = PersonSerializer(many=True, read_only=True)
    vehicles = VehicleSerializer(many=True, read_only=True)
    property_items = PropertyItemSerializer(many=True, read_only=True)
    supplements = SupplementSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    reviews = serializers.SerializerMethodField()
    missing_to_submit = serializers.SerializerMethodField(
        help_text=f"Fields still empty that submitting needs (of: {', '.join(REQUIRED)})."
    )

    class Meta(IncidentSerializer.Meta):
        fields = [
            *IncidentSerializer.Meta.fields,
            "persons",
            "vehicles",
            "property_items",
            "supplements",
            "attachments",
            "reviews",
            "missing_to_submit",
        ]
        read_only_fields = fields

    def get_missing_to_submit(self, obj) -> list[str]:
        return svc.missing_to_submit(obj)

    @extend_schema(
        responses=inline_serializer(
            "ReviewOut",
            {
                "decision": serializers.CharField(),
                "comment": serializers.CharField(),
                "reviewer": serializers.CharField(),
                "created_at": serializers.DateTimeField(),
            },
            many=True,
        )
    )
    def get_reviews(self, obj) -> list[dict]:
        return [
            {
                "decision": r.decision,
                "comment": r.comment,
                "reviewer": r.reviewer.username,
                "created_at": r.created_at,
            }
            for r in obj.reviews.select_related("reviewer")
        ]


@extend_schema_serializer(extensions={"x-required-to-submit": REQUIRED}, description=REQUIRED_NOTE)
class IncidentWriteSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """The fields a draft is made of (zone and category by id)."""

    zone = serializers.PrimaryKeyRelatedField(
        queryset=Zone.objects.all(), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )

    class Meta:
        model = Incident
        fields = WRITABLE

    def validate(self, attrs):
        # The model's own rules (end after start, ...) are checked by the service.
        return attrs


class IncidentCreateSerializer(IncidentWriteSerializer):
    site = SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    client_uuid = serializers.UUIDField(
        help_text="Generated by the client; sending it again returns the same incident."
    )
    persons = PersonSerializer(many=True, required=False)
    vehicles = VehicleSerializer(many=True, required=False)
    property_items = PropertyItemSerializer(many=True, required=False)

    class Meta(IncidentWriteSerializer.Meta):
        fields = ["site", "client_uuid", *WRITABLE, "persons", "vehicles", "property_items"]

    def validate_site(self, site: Site) -> Site:
        user = self.context["request"].user
        if not sites_for(user, REPORT_ROLES).filter(pk=site.pk).exists():
            raise serializers.ValidationError(
                "No such site among the sites you report at.", code="does_not_exist"
            )
        return site


class IncidentUpdateSerializer(IncidentWriteSerializer):
    version = serializers.IntegerField(help_text="The version this edit was made on.")
    reason = serializers.CharField(required=False, max_length=500)

    class Meta(IncidentWriteSerializer.Meta):
        fields = ["version", "reason", *WRITABLE]


class VersionReasonSerializer(RefuseUnknownFields, serializers.Serializer):
    version = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False, max_length=500)


class CommentSerializer(RefuseUnknownFields, serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True)


class ReasonSerializer(RefuseUnknownFields, serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


@extend_schema_field(
    {
        "nullable": True,
        "anyOf": [
            {"type": "string", "pattern": NO_NUL},
            {"type": "number"},
            {"type": "boolean"},
        ],
        "description": "The field's new value: text, a number, true/false, or null.",
    }
)
class FieldValue(serializers.JSONField):
    """One incident field's value: a single JSON value, never an object or a list."""

    def to_internal_value(self, data):
        if isinstance(data, (dict, list)):
            self.fail("invalid")
        return super().to_internal_value(data)


class CorrectionSerializer(RefuseUnknownFields, serializers.Serializer):
    field = serializers.CharField()
    value = FieldValue(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(required=False)


class IncidentFilterSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, allow_blank=True, help_text="site code")
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    category = IdField(required=False, help_text="category id")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    text = serializers.CharField(
        required=False, allow_blank=True, help_text="number, title, narrative, location"
    )


def _refuse_unknown(data, serializer_class) -> None:
    """A field the endpoint does not take (a typo, or `status`/`number`, which only the
    workflow sets) is an error naming it, not silently ignored."""
    known = set(serializer_class().fields)
    unknown = sorted(set(getattr(data, "keys", list)()) - known)
    if unknown:
        raise serializers.ValidationError(
            dict.fromkeys(unknown, "Unknown field; it cannot be set here.")
        )


CONFLICT = inline_serializer(
    "EditConflictOut",
    {
        "detail": serializers.CharField(),
        "current_version": serializers.IntegerField(),
        "current": IncidentSerializer(),
    },
)
STATE_CONFLICT = OpenApiResponse(
    inline_serializer(
        "StateConflictOut",
        {
            "detail": serializers.CharField(),
            "status": serializers.ListField(child=serializers.CharField()),
            "current_status": serializers.CharField(),
            "current_version": serializers.IntegerField(),
            "current": IncidentSerializer(),
        },
    ),
    description="The incident's state does not allow this (someone else may have moved it on "
    "just before): the incident as it is now.",
)


@extend_schema_view(
    create=extend_schema(
        request=IncidentCreateSerializer,
        responses={201: IncidentDetailSerializer, 200: IncidentDetailSerializer},
        summary="Report an incident (idempotent on client_uuid; 422 if the payload differs)",
    ),
    partial_update=extend_schema(
        request=IncidentUpdateSerializer,
        responses={200: IncidentDetailSerializer, 409: CONFLICT},
        summary="Edit a draft (send the version it was made on; 409 when stale)",
    ),
    retrieve=extend_schema(responses=IncidentDetailSerializer),
    list=extend_schema(parameters=[IncidentFilterSerializer]),
)
class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents at the sites the caller holds a role at. Filters: `site`, `status`,
    `severity`, `category`, `date_from`, `date_to` (YYYY-MM-DD) and `text`."""

    serializer_class = IncidentSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends: list = []
    pagination_class = KeysetPagination
    keyset_time_field = "occurred_from"

    def get_queryset(self):
        if self.action == "list":
            filters = self._filters()
            # Cursor pages read each site's (site, time, id) range and merge them
            # (facility_log/paging.py): the caller's sites as a literal list.
            ids = site_id_list(self.request.user, VIEW_ROLES)
            if filters.get("site"):
                chosen = sites_for(self.request.user, VIEW_ROLES).filter(code=filters["site"])
                ids = list(chosen.values_list("pk", flat=True))
            self.keyset_split = ("site_id", ids)
            return svc.search_incidents(self.request.user, filters)
        return svc.visible_incidents(self.request.user).prefetch_related(
            "persons",
            "vehicles",
            "property_items",
            "supplements__author",
            "attachments__uploaded_by",
        )

    def _filters(self) -> dict:
        """The list filters from the query string; a value that cannot match is a 400 naming
        the parameter, not an empty list that looks like "no incidents"."""
        serializer = IncidentFilterSerializer(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        empty = {
            name: ["Give a value, or leave the parameter out."]
            for name, field in serializer.fields.items()
            if self.request.query_params.get(name) == "" and not getattr(field, "allow_blank", 0)
        }
        if empty:
            raise serializers.ValidationError(empty)
        return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    def retrieve(self, request, *args, **kwargs):
        """One incident with its persons, statements and attachments: logged in the view
        log."""
        incident = self.get_object()
        view_log.incident_read(request.user, incident, view_log.Via.API)
        return Response(self.get_serializer(incident).data)

    def handle_exception(self, exc):
        if isinstance(exc, svc.EditConflict):
            return Response(
                {
                    "detail": str(exc),
                    "current_version": exc.current.version,
                    "current": IncidentSerializer(exc.current).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, svc.StateConflict):
            # Someone moved the incident on (a second supervisor approving): a clash with its
            # state, answered with the incident as it is now.
            return Response(
                {
                    "detail": exc.messages[0],
                    "status": exc.messages,
                    "current_status": exc.current.status,
                    "current_version": exc.current.version,
                    "current": IncidentSerializer(exc.current).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, svc.IdempotencyConflict):
            return Response(
                {"client_uuid": [str(exc)]}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
            )
        return super().handle_exception(exc)

    def _detail(self, incident: Incident, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(IncidentDetailSerializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        _refuse_unknown(request.data, IncidentCreateSerializer)
        serializer = IncidentCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        children = {
            kind: [dict(row) for row in data.pop(kind, [])]
            for kind in ("persons", "vehicles", "property_items")
        }
        incident, created = svc.create_incident(
            request.user,
            site=data.pop("site"),
            client_uuid=data.pop("client_uuid"),
            **children,
            **data,
        )
        return self._detail(incident, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def update(self, request, *args, **kwargs):
        incident = self.get_object()
        _refuse_unknown(request.data, IncidentUpdateSerializer)
        serializer = IncidentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise Unprocessable({"version": "This field is required."})
        updated = svc.update_draft(
            incident,
            request.user,
            expected_version=data.pop("version"),
            reason=data.pop("reason", "") or "draft edited through the API",
            **data,
        )
        return self._detail(updated)

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

    @extend_schema(
        methods=["post"],
        request=SupplementSerializer,
        responses={201: SupplementSerializer, 409: STATE_CONFLICT},
    )
    @extend_schema(methods=["get"], responses=SupplementSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=Pagination)
    def supplements(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            view_log.incident_read(request.user, incident, view_log.Via.API, "supplements")
            rows = incident.supplements.select_related("author").order_by("created_at", "pk")
            return self._page(rows, SupplementSerializer)
        data = self._input(SupplementSerializer)
        supplement = svc.add_supplement(
            incident, request.user, text=data["text"], reason=data["reason"]
        )
        return Response(SupplementSerializer(supplement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, 200: AttachmentSerializer, 409: STATE_CONFLICT},
        description="Attach a file. The same bytes again return the stored attachment (200).",
    )
    @extend_schema(methods=["get"], responses=AttachmentSerializer(many=True))
    @action(
        detail=True,
        methods=["get", "post"],
        # A file upload is the one body that is not JSON.
        parser_classes=[parsers.MultiPartParser],
        pagination_class=Pagination,
    )
    def attachments(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            view_log.incident_read(request.user, incident, view_log.Via.API, "attachments")
            rows = incident.attachments.select_related("uploaded_by", "incident").order_by("pk")
            return self._page(rows, AttachmentSerializer)
        data = self._input(AttachmentUploadSerializer)
        original = None
        if data.get("redacted_from"):
            original = incident.attachments.filter(pk=data["redacted_from"]).first()
            if original is None:
                raise Unprocessable({"redacted_from": "No such attachment here."})
        attachment, created = svc.store_attachment(
            incident,
            request.user,
            upload=data["file"],
            description=data.get("description", ""),
            redacted_from=original,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(AttachmentSerializer(attachment).data, status=code)

    @extend_schema(request=PersonSerializer, responses={201: PersonSerializer})
    @action(detail=True, methods=["post"])
    def persons(self, request, pk=None):
        """Add a person (role in this incident only) to a draft."""
        incident = self.get_object()
        data = self._input(PersonSerializer)
        person = svc.add_person(incident, request.user, **data)
        return Response(PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VehicleSerializer, responses={201: VehicleSerializer})
    @action(detail=True, methods=["post"])
    def vehicles(self, request, pk=None):
        """Add a vehicle to a draft."""
        incident = self.get_object()
        data = self._input(VehicleSerializer)
        vehicle = svc.add_vehicle(incident, request.user, **data)
        return Response(VehicleSerializer(vehicle).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PropertyItemSerializer, responses={201: PropertyItemSerializer})
    @action(detail=True, methods=["post"], url_path="property")
    def property_items(self, request, pk=None):
        """Add stolen, damaged, recovered or found property to a draft."""
        incident = self.get_object()
        data = self._input(PropertyItemSerializer)
        item = svc.add_property_item(incident, request.user, **data)
        return Response(PropertyItemSerializer(item).data, status=status.HTTP_201_CREATED)

    def _page(self, rows, serializer_class) -> Response:
        """A nested list, paged like every other list of the API."""
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def _input(self, serializer_class) -> dict:
        _refuse_unknown(self.request.data, serializer_class)
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _parse_field(self, field: str, value):
        if field not in IncidentWriteSerializer.Meta.fields:
            raise Unprocessable({"field": f"{field!r} is not an incident field."})
        serializer = IncidentWriteSerializer(data={field: value}, partial=True)
        if not serializer.is_valid():
            # The schema cannot tie `value` to `field`: a value wrong for its field is a 422.
            raise Unprocessable(serializer.errors)
        return serializer.validated_data.get(field)


class AttachmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Attachments of the incidents the caller may see; `download/` returns the bytes."""

    serializer_class = AttachmentSerializer
    filter_backends: list = []

    def get_queryset(self):
        return scoped(
            Attachment.objects.select_related("incident__site", "uploaded_by"),
            self.request.user,
            VIEW_ROLES,
            site_field="incident__site",
        )

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The stored bytes, logged in the view log."""
        return serve_attachment(request.user, self.get_object())
