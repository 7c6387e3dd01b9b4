"""Serializers of the incident endpoints and the documented conflict responses."""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers

from facility_log.api.fields import IdField, RefuseUnknownFields, SlugRelatedField
from facility_log.api.representation import FastRepresentation
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
from facility_log.scoping import REPORT_ROLES, sites_for
from facility_log.services import incidents as svc
from facility_log.services.times import check_filter_day

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


class PersonSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = InvolvedPerson
        fields = ["id", "role", "name", "description", "contact", "statement"]
        read_only_fields = ["id"]


class VehicleSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "registration", "make_model", "colour", "description"]
        read_only_fields = ["id"]


class PropertyItemSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
    class Meta:
        model = PropertyItem
        fields = ["id", "kind", "description", "value"]
        read_only_fields = ["id"]


class SupplementSerializer(FastRepresentation, RefuseUnknownFields, serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Supplement
        fields = ["id", "author", "created_at", "text", "reason"]
        read_only_fields = ["id", "author", "created_at"]


class AttachmentSerializer(FastRepresentation, serializers.ModelSerializer):
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


class IncidentSerializer(FastRepresentation, serializers.ModelSerializer):
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
            for r in _reviews(obj)
        ]


def _reviews(incident):
    """The incident's reviews with their reviewers: those the detail read with its other
    related rows (api/incidents/detail.py), or read now."""
    prefetched = getattr(incident, "_prefetched_objects_cache", {}).get("reviews")
    return incident.reviews.select_related("reviewer") if prefetched is None else prefetched


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
    date_from = serializers.DateField(required=False, validators=[check_filter_day])
    date_to = serializers.DateField(required=False, validators=[check_filter_day])
    text = serializers.CharField(
        required=False, allow_blank=True, help_text="number, title, narrative, location"
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
